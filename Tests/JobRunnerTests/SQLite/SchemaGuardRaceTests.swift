import Dispatch
import Foundation
import Synchronization
import Testing

@testable import JobRunner

@Suite("The schema guard while another process migrates", .timeLimit(.minutes(1)))
struct SchemaGuardRaceTests {
    /// Runs `body` on a dispatch thread: both sides block in SQLite.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    @Test("every inspection during a migration sees one whole version: never tables of one and the number of another")
    func inspectionSeesOneSnapshot() async throws {
        try await withTemporaryDirectory { directory in
            var inspections = 0
            for round in 0..<20 {
                let path = directory + "/race-\(round).sqlite"
                let migrated = Atomic<Bool>(false)
                async let migration: Void = Self.onThread {
                    defer { migrated.store(true, ordering: .releasing) }
                    let connection = try Connection(path: path, options: Connection.Options())
                    try Migrator().migrate(connection, now: 0)
                }
                let verdicts = try await Self.onThread { () throws -> [String] in
                    var seen: [String] = []
                    while !migrated.load(ordering: .acquiring) {
                        guard FileManager.default.fileExists(atPath: path) else { continue }
                        switch try SchemaGuard.inspect(path: path, busyTimeout: .seconds(5)) {
                        case .empty: seen.append("empty")
                        case .jobRunner(let version): seen.append("v\(version)")
                        }
                    }
                    return seen
                }
                try await migration
                inspections += verdicts.count
            }
            // The loop above throws at the first foreign verdict; this says it really looked.
            #expect(inspections > 0)
        }
    }
}
