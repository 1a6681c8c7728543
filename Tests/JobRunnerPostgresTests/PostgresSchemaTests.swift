#if PostgreSQL
import JobRunnerPostgres
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server under test: `JOBRUNNER_TEST_POSTGRES_URL` (scripts/start-postgres prints one). Without
/// it these tests fail rather than skip, so that CI cannot pass them by accident.
private func serverURL() throws -> String {
    guard let url = Environment.get("JOBRUNNER_TEST_POSTGRES_URL"), !url.isEmpty else {
        throw TestSetupError(description: "JOBRUNNER_TEST_POSTGRES_URL is not set (run scripts/start-postgres)")
    }
    return url
}

private struct TestSetupError: Error, CustomStringConvertible { var description: String }

private enum Environment {
    static func get(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

@Suite struct PostgresURLTests {
    @Test func socketURL() throws {
        let url = try PostgresURL("postgresql://postgres@/jobrunner?host=/tmp/pg/socket&port=54329")
        #expect(url.host == "/tmp/pg/socket")
        #expect(url.port == 54329)
        #expect(url.database == "jobrunner")
        #expect(url.user == "postgres")
    }

    @Test func passwordIsDecodedAndNeverShown() throws {
        let url = try PostgresURL("postgres://app:s%40cret@db.example:6543/jobs?sslmode=require")
        #expect(url.password == "s@cret")
        #expect(url.host == "db.example")
        #expect(url.port == 6543)
        #expect(!url.redacted.contains("cret"))
    }

    @Test func refusesOtherSchemes() {
        #expect(throws: PostgresURL.ParseError.self) { try PostgresURL("mysql://x@y/z") }
        #expect(throws: PostgresURL.ParseError.self) { try PostgresURL("postgres://x@y") }
    }
}

@Suite(.serialized) struct PostgresMigrationTests {
    @Test func replicasStartingTogetherMigrateOnce() async throws {
        let url = try serverURL()
        // Several stores at once: the advisory lock serialises them, and each sees the latest version.
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try await PostgresJobStore.open(url: url, now: 1)
                    let version = try await store.schemaVersion()
                    await store.close()
                    return version
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(versions == [5, 5, 5, 5])
        let again = try await PostgresJobStore.open(url: url, now: 2)
        #expect(try await again.schemaVersion() == 5)
        await again.close()
    }
}
#endif
