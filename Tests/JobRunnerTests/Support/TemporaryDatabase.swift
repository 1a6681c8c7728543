import Foundation
import Logging
import Testing

@testable import JobRunner

/// A fresh directory under the temp dir, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobrunner-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// Opens a store on a new file database (WAL and locking need a real file) and checks on the way out
/// that no transaction was left open.
func withTemporaryDatabase<T>(
    clock: any JobClock = SystemJobClock(),
    configuration: JobStore.Configuration = JobStore.Configuration(),
    _ body: (JobStore, String) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        let path = directory + "/jobs.sqlite"
        let store = try await JobStore.open(path: path, configuration: configuration, clock: clock)
        let result = try await body(store, path)
        let open = await store.hasOpenTransaction()
        #expect(!open, "a transaction was left open")
        return result
    }
}

extension JobStore {
    func hasOpenTransaction() -> Bool { connection.inTransaction }

    /// Runs raw SQL, for tests that need to look under the API.
    func rawInt(_ sql: String, _ values: [SQLiteValue] = []) throws -> Int64? {
        try connection.scalarInt(sql, values)
    }

    func rawExecute(_ sql: String, _ values: [SQLiteValue] = []) throws {
        try connection.execute(sql, values)
    }

    /// The first row of a query whose columns are all integers.
    func rawRow(_ sql: String) throws -> [Int64] {
        try connection.first(sql) { row in (0..<row.columnCount).map { row.int64($0) } } ?? []
    }

    var backgroundCheckpoints: Int { connection.backgroundCheckpoints }

    var backgroundShrinks: Int { connection.backgroundShrinks }
}

/// A logger that drops everything (tests never bootstrap the logging system).
let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// 2026-01-01T00:00:00Z in microseconds.
let newYear2026: UnixMicros = 1_767_225_600_000_000

extension Duration {
    static func us(_ value: Int64) -> Duration { .microseconds(value) }
}
