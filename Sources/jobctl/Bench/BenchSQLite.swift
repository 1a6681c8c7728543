import CSQLite
import Foundation

/// A bare SQLite connection for the benchmark's own work: seeding large files fast, reading counts
/// and timestamps back, and the in-process UPDATE of the cron comparison. Not used by the runner.
final class BenchSQLite {
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw Failure(description: "cannot open \(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without parameters.
    func exec(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw Failure(description: "\(text) — while executing `\(sql.prefix(200))`")
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            return statement
        }
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw Failure(description: "\(String(cString: sqlite3_errmsg(handle))) — while preparing `\(sql)`")
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ statement: OpaquePointer, _ values: [Int64]) {
        for (index, value) in values.enumerated() { sqlite3_bind_int64(statement, Int32(index + 1), value) }
    }

    /// Runs a statement with integer parameters.
    func run(_ sql: String, _ values: [Int64] = []) throws {
        let statement = try prepared(sql)
        bind(statement, values)
        var rc = sqlite3_step(statement)
        while rc == SQLITE_ROW { rc = sqlite3_step(statement) }
        sqlite3_reset(statement)
        if rc != SQLITE_DONE {
            throw Failure(description: "\(String(cString: sqlite3_errmsg(handle))) — while executing `\(sql)`")
        }
    }

    /// The first column of every row, as integers (NULL as 0).
    func integers(_ sql: String, _ values: [Int64] = []) throws -> [Int64] {
        try rows(sql, values, columns: 1).map { $0[0] }
    }

    /// The first column of the first row, or nil.
    func integer(_ sql: String, _ values: [Int64] = []) throws -> Int64? {
        try rows(sql, values, columns: 1).first?[0]
    }

    /// Rows of integer columns.
    func rows(_ sql: String, _ values: [Int64] = [], columns: Int) throws -> [[Int64]] {
        let statement = try prepared(sql)
        bind(statement, values)
        var result: [[Int64]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                sqlite3_reset(statement)
                throw Failure(description: "\(String(cString: sqlite3_errmsg(handle))) — while executing `\(sql)`")
            }
            result.append((0..<columns).map { sqlite3_column_int64(statement, Int32($0)) })
        }
        sqlite3_reset(statement)
        return result
    }

    /// Text of the first column of every row.
    func strings(_ sql: String) throws -> [String] {
        let statement = try prepared(sql)
        var result: [String] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            if let text = sqlite3_column_text(statement, 0) {
                let count = Int(sqlite3_column_bytes(statement, 0))
                result.append(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
            }
        }
        sqlite3_reset(statement)
        return result
    }

    static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
