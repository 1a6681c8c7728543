@testable import JobRunner

// Looking under the API of the SQLite store: raw SQL for the tests of what only SQLite has (its
// file, its WAL, its schema). Tests of behaviour go through the store's API or the backend protocol.

extension JobStore {
    func hasOpenTransaction() async -> Bool { await sqlite.hasOpenTransaction() }

    /// Runs raw SQL, for tests that need to look under the API.
    func rawInt(_ sql: String, _ values: [SQLiteValue] = []) async throws -> Int64? {
        try await sqlite.rawInt(sql, values)
    }

    func rawExecute(_ sql: String, _ values: [SQLiteValue] = []) async throws {
        try await sqlite.rawExecute(sql, values)
    }

    /// The first row of a query whose columns are all integers.
    func rawRow(_ sql: String) async throws -> [Int64] { try await sqlite.rawRow(sql) }

    func integrityCheck() async throws -> [String] { try await sqlite.integrityCheck() }

    var backgroundCheckpoints: Int { get async { await sqlite.backgroundCheckpoints } }

    var backgroundShrinks: Int { get async { await sqlite.backgroundShrinks } }

    /// The store's background checkpointer, reachable while the store's executor is busy.
    var backgroundCheckpointer: BackgroundCheckpointer? { get async { await sqlite.backgroundCheckpointer } }
}

extension SQLiteJobStore {
    func hasOpenTransaction() -> Bool { connection.inTransaction }

    func rawInt(_ sql: String, _ values: [SQLiteValue]) throws -> Int64? {
        try connection.scalarInt(sql, values)
    }

    func rawExecute(_ sql: String, _ values: [SQLiteValue]) throws {
        try connection.execute(sql, values)
    }

    func rawRow(_ sql: String) throws -> [Int64] {
        try connection.first(sql) { row in (0..<row.columnCount).map { row.int64($0) } } ?? []
    }

    var backgroundCheckpoints: Int { connection.backgroundCheckpoints }

    var backgroundShrinks: Int { connection.backgroundShrinks }

    var backgroundCheckpointer: BackgroundCheckpointer? { connection.backgroundCheckpointer }
}
