import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Which files jobctl treats as its database: another program's SQLite file is refused and left
/// byte for byte as it was; a read command never creates a database.
@Suite("jobctl and database files that are not its own", .timeLimit(.minutes(2)))
struct EndToEndDatabaseFileTests {
    /// Every command that only reads, or asks runners, and so must never create a database.
    static let readCommands: [[String]] = [
        ["list"], ["list", "--json"], ["show", "x"], ["status"], ["status", "--json"], ["history"],
        ["history", "x"], ["drain", "--timeout", "1s"], ["queue", "list"], ["stop", "x"], ["pause", "x"],
        ["resume", "x"], ["remove", "x"], ["trigger", "x"], ["prune", "--older-than", "1d"],
        ["queue", "pause", "q"],
    ]

    /// Every command that writes: it too must leave a foreign file alone.
    static let writeCommands: [[String]] = [
        ["add", "x", "--every", "1s", "--handler", "tick"], ["run", "--concurrency", "1"],
        ["queue", "set-concurrency", "q", "2"],
    ]

    /// Bytes of the file and of any `-wal`/`-shm` beside it.
    func snapshot(_ path: String) -> [String: Data?] {
        var files: [String: Data?] = [:]
        for suffix in ["", "-wal", "-shm", "-journal"] {
            files[suffix] = FileManager.default.contents(atPath: path + suffix)
        }
        return files
    }

    func makeForeignDatabase(_ s: Sandbox, name: String, sql: String) async throws -> String {
        let path = s.root + "/" + name
        let sqlite = try SQLiteShell.require()
        let created = try await s.run(executable: sqlite, [path, sql])
        #expect(created.exitedNormally && created.status == 0, "\(created)")
        return path
    }

    @Test(
        "an application's own database is refused by every command, one line, exit 1, byte for byte unchanged",
        arguments: [
            (
                "app.db",
                "PRAGMA journal_mode=DELETE; CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users VALUES (1, 'a@b');"
            ),
            (
                "shaped.db",
                "CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT, done INTEGER); INSERT INTO jobs VALUES (1, 'x', 0);"
            ),
            (
                "rails.db",
                "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101');"
            ),
            (
                "walapp.db",
                "PRAGMA journal_mode=WAL; CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO events VALUES (1, 'x');"
            ),
        ])
    func foreignDatabaseRefused(name: String, sql: String) async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let path = try await makeForeignDatabase(s, name: name, sql: sql)
        let before = snapshot(path)
        for command in Self.readCommands + Self.writeCommands {
            let result = try await s.jobctl(command, db: .path(path), timeout: .seconds(30))
            #expect(result.exitedNormally && result.status == 1, "\(result)")
            #expect(result.stderrLines.count == 1, "\(result)")
            #expect(result.stderr.contains("not a JobRunner database"), "\(result)")
            #expect(snapshot(path) == before, "\(command) changed \(name)")
        }
    }

    @Test("a JobRunner database with one of its tables reshaped, or a stranger table added, is refused")
    func tamperedDatabaseRefused() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "x", "--every", "1h", "--handler", "tick"])
        let sqlite = try SQLiteShell.require()
        let extra = s.root + "/extra.sqlite"
        try FileManager.default.copyItem(atPath: s.db, toPath: extra)
        let added = try await s.run(executable: sqlite, [extra, "CREATE TABLE invoices (id INTEGER PRIMARY KEY);"])
        #expect(added.status == 0, "\(added)")
        let result = try await s.jobctl(["list"], db: .path(extra))
        #expect(result.status == 1 && result.stderr.contains("invoices"), "\(result)")

        let reshaped = s.root + "/reshaped.sqlite"
        try FileManager.default.copyItem(atPath: s.db, toPath: reshaped)
        let altered = try await s.run(executable: sqlite, [reshaped, "ALTER TABLE runs ADD COLUMN note TEXT;"])
        #expect(altered.status == 0, "\(altered)")
        let refused = try await s.jobctl(["status"], db: .path(reshaped))
        #expect(refused.status == 1 && refused.stderr.contains("runs"), "\(refused)")

        // The original is still accepted.
        try await s.succeed(["list"])
    }

    @Test("read commands on a missing file say so, exit 1 and create nothing", arguments: readCommands)
    func readCommandCreatesNothing(command: [String]) async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let typo = s.root + "/typo.sqlite"
        let result = try await s.jobctl(command, db: .path(typo))
        #expect(result.exitedNormally && result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 1 && result.stderr.contains("no database at"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: typo), "\(command) created \(typo)")
        // Nor does the default database (or its directory) appear.
        let byDefault = try await s.jobctl(command, db: .omitted)
        #expect(byDefault.status == 1, "\(byDefault)")
        #expect(!FileManager.default.fileExists(atPath: s.stateHome + "/jobrunner"), "\(command) made the directory")
    }

    @Test("read commands on an empty file refuse it and leave it empty; add makes it a database")
    func emptyFile() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        #expect(FileManager.default.createFile(atPath: s.db, contents: Data()))
        let result = try await s.jobctl(["list"])
        #expect(result.status == 1 && result.stderr.contains("empty"), "\(result)")
        #expect(try FileManager.default.attributesOfItem(atPath: s.db)[.size] as? Int == 0)
        try await s.succeed(["add", "x", "--every", "1h", "--handler", "tick"])
        #expect(try await s.jobs().keys.sorted() == ["x"])
    }

    @Test("--db with an empty path is a usage error, even with JOBCTL_DB set")
    func emptyDatabasePath() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        var environment = s.environment
        environment["JOBCTL_DB"] = s.db
        for command in [["list"], ["add", "x", "--every", "1s", "--handler", "tick"]] {
            let result = try await s.jobctl(command + ["--db", ""], db: .omitted, environment: environment)
            #expect(result.status == 64 && result.stderr.contains("--db"), "\(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: s.db))
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath))
    }

    @Test("a device, a FIFO or a directory as --db is refused at once and nothing appears beside it")
    func notRegularFiles() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let fifo = s.root + "/fifo.db"
        #expect(mkfifo(fifo, 0o600) == 0)
        let directory = s.root + "/dir.db"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for path in ["/dev/null", fifo, directory] {
            for command in [["list"], ["add", "x", "--every", "1h", "--handler", "tick"]] {
                let result = try await s.jobctl(command, db: .path(path), timeout: .seconds(20))
                #expect(result.status == 1 && result.stderr.contains("not a database file"), "\(result)")
            }
            #expect(!FileManager.default.fileExists(atPath: path + "-journal"))
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test("an empty SQLite file stamped by another program (user_version, application_id) is not taken over")
    func stampedEmptyFile() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        for pragma in ["user_version=7", "application_id=1234"] {
            let path = try await makeForeignDatabase(s, name: "\(pragma.prefix(4)).db", sql: "PRAGMA \(pragma);")
            let before = snapshot(path)
            let result = try await s.jobctl(["add", "z", "--every", "1s", "--handler", "tick"], db: .path(path))
            #expect(result.status == 1 && result.stderr.contains("stamped"), "\(result)")
            #expect(snapshot(path) == before)
        }
    }
}
