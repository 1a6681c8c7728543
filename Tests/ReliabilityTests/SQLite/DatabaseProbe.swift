import CSQLite
import Foundation
import TestSupport

/// A value read from SQLite.
enum ProbeValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null

    var int: Int64? { if case .integer(let v) = self { v } else { nil } }
    var string: String? { if case .text(let v) = self { v } else { nil } }
    var isNull: Bool { self == .null }

    var description: String {
        switch self {
        case .integer(let v): "\(v)"
        case .real(let v): "\(v)"
        case .text(let v): "'\(v)'"
        case .blob(let v): "blob(\(v.count))"
        case .null: "NULL"
        }
    }
}

/// A connection of the test's own to a database file, straight through the SQLite C API: it checks
/// the product from outside, and injects faults (holding the write lock, faking a newer schema).
///
/// It never creates a file: opening a path that does not exist fails.
final class DatabaseProbe {
    let path: String
    private let handle: OpaquePointer

    init(_ path: String, busyTimeoutMillis: Int32 = 10_000) throws {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "code \(rc)"
            sqlite3_close_v2(db)
            throw HarnessError("probe cannot open \(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeoutMillis)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs a statement and returns its rows.
    @discardableResult
    func rows(_ sql: String, _ arguments: [ProbeValue] = []) throws -> [[ProbeValue]] {
        var statement: OpaquePointer?
        var rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw HarnessError("probe: \(String(cString: sqlite3_errmsg(handle))) in \(sql)")
        }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            switch argument {
            case .integer(let v): sqlite3_bind_int64(statement, index, v)
            case .real(let v): sqlite3_bind_double(statement, index, v)
            case .text(let v): sqlite3_bind_text(statement, index, v, -1, transient)
            case .blob(let v): sqlite3_bind_blob(statement, index, v, Int32(v.count), transient)
            case .null: sqlite3_bind_null(statement, index)
            }
        }
        var result: [[ProbeValue]] = []
        while true {
            rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw HarnessError("probe: \(String(cString: sqlite3_errmsg(handle))) (code \(rc)) in \(sql)")
            }
            var row: [ProbeValue] = []
            for column in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, column)))
                case SQLITE_TEXT:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    let bytes = sqlite3_column_text(statement, column)
                    row.append(.text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    let pointer = sqlite3_column_blob(statement, column)?.assumingMemoryBound(to: UInt8.self)
                    row.append(.blob(Array(UnsafeBufferPointer(start: pointer, count: count))))
                default: row.append(.null)
                }
            }
            result.append(row)
        }
        return result
    }

    /// Runs statements that return nothing (or whose rows do not matter).
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? "code \(rc)"
            sqlite3_free(message)
            throw HarnessError("probe: \(text) in \(sql)")
        }
    }

    func int(_ sql: String, _ arguments: [ProbeValue] = []) throws -> Int64 {
        try rows(sql, arguments).first?.first?.int ?? 0
    }

    func strings(_ sql: String, _ arguments: [ProbeValue] = []) throws -> [String] {
        try rows(sql, arguments).compactMap { $0.first?.string }
    }

    /// Every user table's rows, in a canonical order: a logical snapshot that ignores how the pages
    /// are laid out (a checkpoint may rewrite the file without changing its content).
    func logicalDump() throws -> [String] {
        var lines: [String] = []
        for table in try strings("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") {
            let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            for row in try rows("SELECT * FROM \(quoted) ORDER BY 1") {
                lines.append(table + ": " + row.map(\.description).joined(separator: "|"))
            }
        }
        lines += try strings("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
        return lines
    }

    /// True if another connection holds the write lock (probed with a zero busy timeout).
    static func isWriteLocked(_ path: String) throws -> Bool {
        let probe = try DatabaseProbe(path, busyTimeoutMillis: 0)
        do {
            try probe.execute("BEGIN IMMEDIATE")
            try probe.execute("ROLLBACK")
            return false
        } catch {
            return true
        }
    }
}

@available(*, unavailable)
extension DatabaseProbe: Sendable {}
