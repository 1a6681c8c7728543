import CSQLite
import Foundation

/// How hard SQLite syncs to disk (`PRAGMA synchronous`).
public enum SynchronousMode: String, Sendable, CaseIterable {
    /// Durable against application crashes; a power loss may roll back the last commits. The default.
    case normal = "NORMAL"
    /// Durable against power loss too, at the cost of an fsync per commit.
    case full = "FULL"
}

/// One SQLite connection. Not thread-safe: it is confined to its owner (``JobStore``).
final class Connection {
    /// The oldest SQLite we accept: STRICT tables need 3.37, RETURNING 3.35.
    static let minimumVersion: Int32 = 3_037_000

    let handle: OpaquePointer
    let path: String
    let options: Options
    private var cache: [String: Statement] = [:]
    /// Checkpoints this connection's commits in the background, once installed (see
    /// ``moveCheckpointsToBackground()``); held here so that it outlives the WAL hook.
    private var checkpointer: BackgroundCheckpointer?

    struct Options {
        var busyTimeout: Duration = .seconds(5)
        var synchronous: SynchronousMode = .normal
        var readOnly = false
        /// The size in bytes the write-ahead log is brought back under (see ``JobStore/Configuration/walSizeLimit``).
        var walSizeLimit: Int64 = JobStore.Configuration.defaultWALSizeLimit
        /// The SQLite VFS to open the file with, by name; nil for the default one.
        var vfs: String?
    }

    /// Opens (creating if needed, with mode 0600) the database at `path`.
    init(path: String, options: Options) throws(SQLiteError) {
        guard sqlite3_libversion_number() >= Connection.minimumVersion else {
            throw SQLiteError(
                code: .error,
                message: "SQLite \(String(cString: sqlite3_libversion())) is too old; JobRunner needs 3.37 or newer"
            )
        }
        self.path = path
        self.options = options
        try Connection.createPrivately(path)
        let flags =
            (options.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX
        let millis = Int32(clamping: options.busyTimeout.microseconds / 1000)
        let db: OpaquePointer
        do {
            db = try Connection.openInWALMode(
                path: path, vfs: options.vfs, flags: flags, busyMillis: millis, readOnly: options.readOnly)
        } catch {
            throw Connection.explainWriteFailure(error, path: path)
        }
        self.handle = db
        do throws(SQLiteError) {
            try execute("PRAGMA synchronous=\(options.synchronous.rawValue)")
            try execute("PRAGMA foreign_keys=ON")
            // When a writer starts the log over, it truncates the file to this size at its commit, so
            // a log that grew while a reader held an old snapshot does not keep its peak size for ever.
            // (A PRAGMA takes no bound parameters; the value is an integer, never text.)
            try execute("PRAGMA journal_size_limit=\(options.walSizeLimit)")
        } catch {
            cache.removeAll()
            sqlite3_close_v2(db)
            throw error
        }
    }

    /// Opens the file and switches it to WAL mode.
    ///
    /// Two processes that open a brand-new (empty) file at the same moment can both start in rollback
    /// mode; once one has switched the file to WAL, it holds a shared lock for as long as it stays
    /// open, and the other's attempt to switch fails with `SQLITE_BUSY` however long it waits, because
    /// its view of the file predates the switch. A fresh connection sees the WAL header at once, so on
    /// `SQLITE_BUSY` here the handle is closed and the open retried until the busy timeout.
    private static func openInWALMode(
        path: String,
        vfs: String?,
        flags: Int32,
        busyMillis: Int32,
        readOnly: Bool
    ) throws(SQLiteError) -> OpaquePointer {
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while true {
            var db: OpaquePointer?
            let rc = sqlite3_open_v2(path, &db, flags, vfs)
            guard rc == SQLITE_OK, let db else {
                let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
                sqlite3_close_v2(db)
                throw SQLiteError(code: ResultCode(rawValue: rc), message: "\(message): \(path)")
            }
            sqlite3_extended_result_codes(db, 1)
            sqlite3_busy_timeout(db, busyMillis)
            // Reading the schema first makes "file is not a database" surface here, before any write.
            var failure = step(db, "SELECT count(*) FROM sqlite_schema").error
            if failure == nil && !readOnly && step(db, "PRAGMA page_count").text == "0" {
                // A new (empty) file: make it able to return the pages that pruning frees to the file
                // system. This must precede the first write, the switch to WAL included.
                failure = step(db, "PRAGMA auto_vacuum=INCREMENTAL").error
            }
            if failure == nil && !readOnly {
                let result = step(db, "PRAGMA journal_mode=WAL")
                failure = result.error
                if failure == nil && result.text?.lowercased() != "wal" {
                    failure = SQLiteError(
                        code: .error,
                        message: "could not enable WAL mode (journal_mode is \(result.text ?? "unknown"))"
                    )
                }
            }
            guard let failure else { return db }
            sqlite3_close_v2(db)
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsedMillis = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1_000_000
            guard failure.code.primary == .busy, elapsedMillis < busyMillis else { throw failure }
            usleep(5000)  // this runs on the store's own thread, never on the cooperative pool
        }
    }

    /// Names the usual cause when a database cannot be opened for writing: a read-only file system,
    /// or no permission on the file or its directory. Other errors pass through unchanged.
    static func explainWriteFailure(_ error: SQLiteError, path: String) -> SQLiteError {
        switch error.code.primary {
        case .cantOpen, .readOnly, .ioError, .permission: break
        default: return error
        }
        let directory =
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var info = statvfs()
        if statvfs(directory, &info) == 0, info.f_flag & UInt(ST_RDONLY) != 0 {
            return SQLiteError(
                code: .readOnly, message: "the database is on a read-only file system (\(directory))", sql: error.sql)
        }
        if access(directory, W_OK) != 0 {
            return SQLiteError(
                code: .readOnly,
                message:
                    "the database directory \(directory) is read-only for this user (SQLite writes its -wal and -shm files there)",
                sql: error.sql
            )
        }
        if access(path, W_OK) != 0 {
            return SQLiteError(
                code: .readOnly, message: "the database file \(path) is read-only for this user", sql: error.sql)
        }
        return error
    }

    /// Runs one statement on a bare handle and returns the first column of its first row.
    private static func step(_ db: OpaquePointer, _ sql: String) -> (text: String?, error: SQLiteError?) {
        var statement: OpaquePointer?
        var rc = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        if rc == SQLITE_OK {
            rc = sqlite3_step(statement)
            if rc == SQLITE_ROW {
                let text = sqlite3_column_text(statement, 0).map { String(cString: $0) }
                return (text, nil)
            }
            if rc == SQLITE_DONE { return (nil, nil) }
        }
        return (
            nil, SQLiteError(code: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db)), sql: sql)
        )
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
        checkpointer?.close()
    }

    /// Replaces SQLite's automatic checkpoint, which runs inside the commit that fills the log, with
    /// one on a second connection in the background (see ``BackgroundCheckpointer``).
    func moveCheckpointsToBackground() {
        guard checkpointer == nil else { return }
        let pageSize = (try? scalarInt("PRAGMA page_size")).flatMap { $0 } ?? 4096
        let checkpointer = BackgroundCheckpointer(path: path, options: options, pageSize: Int(pageSize))
        checkpointer.install(on: self)
        self.checkpointer = checkpointer
    }

    /// Checkpoints completed by the background checkpointer so far.
    var backgroundCheckpoints: Int { checkpointer?.completedCheckpoints ?? 0 }

    /// Times the background checkpointer emptied a log that had grown over the size limit.
    var backgroundShrinks: Int { checkpointer?.completedShrinks ?? 0 }

    /// The background checkpointer, once installed.
    var backgroundCheckpointer: BackgroundCheckpointer? { checkpointer }

    /// Creates the file with mode 0600 before SQLite opens it, whatever the umask, so that a new
    /// database is never readable by others. An existing file is left as it is.
    private static func createPrivately(_ path: String) throws(SQLiteError) {
        if path == ":memory:" || path.isEmpty { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            fchmod(fd, 0o600)
            close(fd)
            return
        }
        let err = errno
        if err == EEXIST { return }
        throw SQLiteError(
            code: .cantOpen, message: "cannot create database file \(path): \(String(cString: strerror(err)))")
    }

    /// An error for a failed call, capturing `sqlite3_errmsg` at once.
    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        var message = String(cString: sqlite3_errmsg(handle))
        let code = ResultCode(rawValue: rc)
        if code.primary == .busy {
            message += " (still locked after the \(DurationFormat.format(options.busyTimeout)) busy timeout)"
        }
        return SQLiteError(code: code, message: message, sql: sql)
    }

    /// A cached prepared statement for `sql`, reset and ready to bind.
    func cached(_ sql: String) throws(SQLiteError) -> Statement {
        if let statement = cache[sql] {
            statement.reset()
            return statement
        }
        let statement = try Statement(connection: self, sql: sql, persistent: true)
        cache[sql] = statement
        return statement
    }

    /// Runs `sql` with `values` and returns nothing. One statement only.
    func execute(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) {
        let statement = try cached(sql)
        do {
            try statement.bind(values)
            while try statement.step() {}
            statement.reset()
        } catch {
            evict(sql)
            throw error
        }
    }

    /// Runs several statements without parameters (for migrations).
    func executeScript(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: ResultCode(rawValue: rc), message: message, sql: nil)
        }
    }

    /// Runs a query and calls `row` for each result row.
    func query(_ sql: String, _ values: [SQLiteValue] = [], row: (Statement) throws -> Void) throws {
        let statement = try cached(sql)
        do {
            try statement.bind(values)
            while try statement.step() { try row(statement) }
            statement.reset()
        } catch {
            if error is SQLiteError { evict(sql) } else { statement.reset() }
            throw error
        }
    }

    /// The rows of a query, mapped.
    func all<T>(_ sql: String, _ values: [SQLiteValue] = [], map: (Statement) throws -> T) throws -> [T] {
        var result: [T] = []
        try query(sql, values) { result.append(try map($0)) }
        return result
    }

    /// The first row of a query, mapped, or nil.
    func first<T>(_ sql: String, _ values: [SQLiteValue] = [], map: (Statement) throws -> T) throws -> T? {
        let statement = try cached(sql)
        do {
            try statement.bind(values)
            let result = try statement.step() ? try map(statement) : nil
            statement.reset()
            return result
        } catch {
            if error is SQLiteError { evict(sql) } else { statement.reset() }
            throw error
        }
    }

    func scalarInt(_ sql: String, _ values: [SQLiteValue] = []) throws -> Int64? {
        try first(sql, values) { $0.optionalInt64(0) } ?? nil
    }

    func scalarString(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> String? {
        let statement = try cached(sql)
        do {
            try statement.bind(values)
            let result = try statement.step() ? statement.optionalString(0) : nil
            statement.reset()
            return result
        } catch {
            evict(sql)
            throw error
        }
    }

    private func evict(_ sql: String) { cache[sql] = nil }

    /// Rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(handle)) }

    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// True while a transaction is open.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Interrupts a running statement (from any thread).
    func interrupt() { sqlite3_interrupt(handle) }
}

@available(*, unavailable)
extension Connection: Sendable {}
