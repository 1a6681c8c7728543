import Foundation
import Testing

@testable import JobRunner

extension BackendFactory {
    /// SQLite: a new file in a directory of its own; each instance opened on it is another connection
    /// to that file, as another process would have.
    static let sqlite = BackendFactory(name: "SQLite") { clock in
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("jobrunner-conformance-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/jobs.sqlite"
        return ConformanceDatabase(
            open: { try await JobStore.open(path: path, clock: clock).backend },
            remove: { try FileManager.default.removeItem(atPath: directory) }
        )
    }
}

/// The storage contract, checked against the SQLite backend.
@Suite("Backend conformance: SQLite")
struct SQLiteConformanceTests {
    @Test("conformance", arguments: BackendConformance.checks)
    func conformance(_ check: BackendConformance.Check) async throws {
        try await check.run(.sqlite)
    }
}
