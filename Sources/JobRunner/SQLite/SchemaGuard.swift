import CSQLite
import Foundation
import Synchronization

/// Tells a JobRunner database from any other SQLite file before anything is written to it.
///
/// A database is JobRunner's when it records its schema version in `schema_migrations` and holds
/// exactly the tables that the bundled migrations create up to that version, each with the same
/// columns. An application's own database (tables JobRunner does not own, or a table with one of
/// its names but another shape) is refused and left as it was: it is inspected on a read-only
/// connection, so not a byte of it (journal mode included) changes.
enum SchemaGuard {
    /// What an existing file holds.
    enum Verdict: Equatable {
        /// No schema at all: a new database may be created in it.
        case empty
        /// A JobRunner database at this schema version.
        case jobRunner(version: Int)
    }

    /// Columns (`name type`) by table: the shape of a schema.
    typealias Shape = [String: [String]]

    /// Inspects the file at `path` on a read-only connection.
    ///
    /// - Throws: ``JobRunnerError`` (kind `database`) for a foreign database, ``MigrationError``
    ///   for one written by a newer schema, ``SQLiteError`` when SQLite cannot read it.
    static func inspect(
        path: String, busyTimeout: Duration, migrations: [Migration] = BundledMigrations.all
    ) throws -> Verdict {
        // With no log or journal beside it, the file alone holds the whole database: read it as
        // immutable, which creates no `-wal`/`-shm` files next to another program's database.
        // An immutable read takes no lock: a file that another process is creating at this very
        // moment can read as damaged, so SQLite's own failures are confirmed with a normal read-only
        // open, which waits for that writer (and creates nothing next to a file that is not a
        // database). A verdict on a sound file stands, unless a writer appeared meanwhile.
        if !sidecarExists(path) {
            let before = FileState(path)
            do {
                return try inspect(path: path, immutable: true, busyTimeout: busyTimeout, migrations: migrations)
            } catch let error as SQLiteError {
                // Confirmed below, unless the header says WAL: a read-only open of a WAL database
                // creates its `-wal` and `-shm` files, and a WAL database without them is not being
                // written (its writer would hold the `-wal` open), so the immutable verdict stands.
                // Seen with random bytes after a SQLite header, whose byte 19 was 2 (1 file in 256).
                // But a database being created is written once outside WAL: its first page, which
                // switches it to WAL, under a `-journal` that is gone again before its `-wal` exists.
                // An immutable read during that write can fail; the file has changed since, so the
                // failure is confirmed below like any other.
                if headerSaysWAL(path) && !sidecarExists(path) && FileState(path) == before { throw error }
            } catch  where !sidecarExists(path) {
                throw error
            } catch {}
        }
        return try inspect(path: path, immutable: false, busyTimeout: busyTimeout, migrations: migrations)
    }

    /// What changes when a file is written: its identity, size and times of change.
    private struct FileState: Equatable {
        var device: UInt64 = 0
        var inode: UInt64 = 0
        var size: Int64 = -1
        var modified = timespec()
        var changed = timespec()

        init(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            modified = info.st_mtim
            changed = info.st_ctim
        }

        static func == (a: FileState, b: FileState) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
                && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
        }
    }

    /// Whether the file starts with a SQLite header whose read version (byte 19) is 2: WAL mode.
    private static func headerSaysWAL(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 20)
        let count = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 20) }
        return count == 20 && header.starts(with: Array("SQLite format 3\0".utf8)) && header[19] == 2
    }

    private static func sidecarExists(_ path: String) -> Bool {
        access(path + "-wal", F_OK) == 0 || access(path + "-journal", F_OK) == 0
    }

    private static func inspect(
        path: String, immutable: Bool, busyTimeout: Duration, migrations: [Migration]
    ) throws -> Verdict {
        var db: OpaquePointer?
        let rc =
            immutable
            ? sqlite3_open_v2(
                immutableURI(path), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nil)
            : sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(db) }
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            throw SQLiteError(code: ResultCode(rawValue: rc), message: "\(message): \(path)")
        }
        sqlite3_extended_result_codes(db, 1)
        // Another process may be creating the database right now: wait for its lock as any call does.
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeout.microseconds / 1000))
        // One read transaction, so that the tables and the recorded version are read from one
        // snapshot: another process may commit a migration between two autocommit reads, and the
        // file would look like version N with the tables of version N - 1.
        guard sqlite3_exec(db, "BEGIN", nil, nil, nil) == SQLITE_OK else {
            throw SQLiteError(
                code: ResultCode(rawValue: sqlite3_errcode(db)), message: String(cString: sqlite3_errmsg(db)),
                sql: "BEGIN")
        }
        defer { sqlite3_exec(db, "ROLLBACK", nil, nil, nil) }
        return try verdict(of: db, path: path, migrations: migrations)
    }

    /// `file:PATH?immutable=1`, the path percent-encoded.
    private static func immutableURI(_ path: String) -> String {
        var uri = "file:"
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "-"),
                UInt8(ascii: "_"):
                uri.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                uri += String(format: "%%%02X", byte)
            }
        }
        return uri + "?immutable=1"
    }

    static func verdict(of db: OpaquePointer, path: String, migrations: [Migration]) throws -> Verdict {
        let found = try shape(of: db)
        // JobRunner never sets these: a file stamped by another program is that program's, tables or not.
        let stamps = try ["application_id", "user_version"].filter {
            try rows(db, "PRAGMA \($0)").first?.first != "0"
        }
        if !stamps.isEmpty {
            throw JobRunnerError.database(
                "\(path) is not a JobRunner database: another program stamped it (\(stamps.map { "PRAGMA \($0)" }.joined(separator: ", ")) is set); it was left unchanged"
            )
        }
        if found.isEmpty { return .empty }
        // Only an empty version table: what an earlier JobRunner left when it stopped between
        // creating that table and applying the first migration.
        if found.keys.sorted() == ["schema_migrations"], found["schema_migrations"] == migrationTableShape,
            try rows(db, "SELECT count(*) FROM schema_migrations").first?.first == "0"
        {
            return .empty
        }
        let latest = migrations.map(\.version).max() ?? 0
        guard found["schema_migrations"] == migrationTableShape,
            let version = try rows(db, "SELECT max(version) FROM schema_migrations").first?.first.flatMap({ $0 })
                .flatMap(Int.init)
        else {
            throw foreign(path, found: found, expected: nil)
        }
        if version > latest { throw MigrationError.newerSchema(found: version, known: latest) }
        let expected = try expectedShape(version: version, migrations: migrations)
        guard found == expected else { throw foreign(path, found: found, expected: expected) }
        return .jobRunner(version: version)
    }

    /// A one-line error naming what makes the file foreign.
    private static func foreign(_ path: String, found: Shape, expected: Shape?) -> JobRunnerError {
        let known = expected ?? (try? expectedShape(version: nil, migrations: BundledMigrations.all)) ?? [:]
        let strangers = found.keys.filter { known[$0] == nil }.sorted()
        let reshaped = found.keys.filter { known[$0] != nil && known[$0] != found[$0] }.sorted()
        let missing = expected.map { expected in expected.keys.filter { found[$0] == nil }.sorted() } ?? []
        var reasons: [String] = []
        if !strangers.isEmpty { reasons.append("tables JobRunner does not own (\(list(strangers)))") }
        if !reshaped.isEmpty { reasons.append("tables of another shape (\(list(reshaped)))") }
        if !missing.isEmpty { reasons.append("JobRunner tables missing (\(list(missing)))") }
        if reasons.isEmpty { reasons.append("no JobRunner schema version") }
        return JobRunnerError.database(
            "\(path) is not a JobRunner database: it has \(reasons.joined(separator: ", ")); it was left unchanged"
        )
    }

    private static func list(_ names: [String]) -> String {
        let shown = names.prefix(5).map { JobRunnerError.quoted($0) }.joined(separator: ", ")
        return names.count > 5 ? shown + " and \(names.count - 5) more" : shown
    }

    /// The `schema_migrations` table as ``Migrator`` creates it.
    static let migrationTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL
        ) STRICT
        """

    private static let migrationTableShape = ["version INTEGER", "name TEXT", "applied_at INTEGER"]

    private static let cache = Mutex<[Int: Shape]>([:])

    /// The shape the bundled migrations give up to `version` (all of them for nil), made once per
    /// process on an in-memory database: the migrations stay the one source of truth.
    static func expectedShape(version: Int?, migrations: [Migration]) throws -> Shape {
        let key = version ?? -1
        if let known = cache.withLock({ $0[key] }) { return known }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil)
        defer { sqlite3_close_v2(db) }
        guard rc == SQLITE_OK, let db else {
            throw SQLiteError(code: ResultCode(rawValue: rc), message: "cannot open an in-memory database")
        }
        try exec(db, migrationTableSQL)
        for migration in migrations.sorted(by: { $0.version < $1.version })
        where version.map({ migration.version <= $0 }) ?? true {
            try exec(db, migration.sql)
        }
        let result = try shape(of: db)
        cache.withLock { $0[key] = result }
        return result
    }

    /// The tables of a database (SQLite's own excepted) with their columns.
    static func shape(of db: OpaquePointer) throws -> Shape {
        let tables = try rows(
            db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        ).compactMap { $0.first ?? nil }
        var result: Shape = [:]
        for table in tables {
            result[table] = try rows(db, "SELECT name, type FROM pragma_table_info(?)", bind: table).map {
                "\($0[0] ?? "") \($0[1] ?? "")"
            }
        }
        return result
    }

    private static func exec(_ db: OpaquePointer, _ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw SQLiteError(code: ResultCode(rawValue: rc), message: text)
        }
    }

    /// All rows of a query as text, with at most one bound text parameter.
    private static func rows(_ db: OpaquePointer, _ sql: String, bind: String? = nil) throws -> [[String?]] {
        var statement: OpaquePointer?
        var rc = sqlite3_prepare_v2(db, sql, -1, &statement, nil)
        defer { sqlite3_finalize(statement) }
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(code: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db)), sql: sql)
        }
        if let bind {
            rc = sqlite3_bind_text(statement, 1, bind, -1, SQLITE_TRANSIENT)
            guard rc == SQLITE_OK else {
                throw SQLiteError(
                    code: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db)), sql: sql)
            }
        }
        var result: [[String?]] = []
        while true {
            rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return result }
            guard rc == SQLITE_ROW else {
                throw SQLiteError(
                    code: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db)), sql: sql)
            }
            result.append(
                (0..<sqlite3_column_count(statement)).map { column in
                    sqlite3_column_text(statement, column).map { String(cString: $0) }
                })
        }
    }
}
