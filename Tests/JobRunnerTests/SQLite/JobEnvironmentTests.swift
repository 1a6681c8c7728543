import Foundation
import Testing

@testable import JobRunner

/// A command job's own environment variables: validated, stored, declared idempotently.
@Suite("job environment")
struct JobEnvironmentTests {
    static func commandJob(_ environment: [String: String]) -> JobDefinition {
        JobDefinition(
            name: "backup", action: .command(["/bin/true"], workingDirectory: "/"), schedule: .every(.seconds(60)),
            environment: environment)
    }

    @Test("stored and read back; declare is idempotent and notices a change")
    func roundTrip() async throws {
        try await withTemporaryDatabase { (store: JobStore, _: String) async throws in
            let environment = ["BACKUP_DIR": "/srv/backup", "LANG": "C", "EMPTY": "", "EQUALS": "a=b", "UNICODE": "ü"]
            #expect(try await store.declare(Self.commandJob(environment)) == .created)
            #expect(try await store.declare(Self.commandJob(environment)) == .unchanged)
            #expect(try #require(try await store.job(named: "backup")).definition.environment == environment)
            #expect(try await store.declare(Self.commandJob(["LANG": "C"])) == .updated)
            #expect(try #require(try await store.job(named: "backup")).definition.environment == ["LANG": "C"])
            #expect(try await store.declare(Self.commandJob([:])) == .updated)
            #expect(try #require(try await store.job(named: "backup")).definition.environment.isEmpty)
            #expect(try await store.rawInt("SELECT count(*) FROM jobs WHERE environment IS NULL") == 1)
        }
    }

    @Test(
        "refused: reserved JOB_ names, '=' or NUL, empty names, handler jobs, too many or too large",
        arguments: [
            ["JOB_NAME": "x"], ["A=B": "x"], ["": "x"], ["A\u{0}": "x"], ["A": "x\u{0}y"],
            Dictionary(uniqueKeysWithValues: (0...JobDefinition.maximumEnvironmentCount).map { ("V\($0)", "") }),
            ["BIG": String(repeating: "x", count: JobDefinition.maximumEnvironmentSize)],
        ])
    func refused(environment: [String: String]) async throws {
        try await withTemporaryDatabase { (store: JobStore, _: String) async throws in
            await #expect(throws: JobRunnerError.self) { try await store.add(Self.commandJob(environment)) }
            #expect(try await store.jobs().isEmpty)
        }
    }

    @Test("a handler job takes no environment")
    func handlerRefused() async throws {
        try await withTemporaryDatabase { (store: JobStore, _: String) async throws in
            let definition = JobDefinition(
                name: "h", action: .handler("tick"), schedule: .every(.seconds(1)), environment: ["A": "1"])
            await #expect(throws: JobRunnerError.self) { try await store.declare(definition) }
            #expect(try await store.jobs().isEmpty)
        }
    }
}
