import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One bad command line and what jobctl must say about it.
struct BadInput: Sendable, CustomTestStringConvertible {
    var label: String
    var arguments: [String]
    var status: Int32
    var mentioning: String
    /// False for a command line that takes no `--db`.
    var withDatabase = true
    var testDescription: String { label }

    static let usage: Int32 = 64
    static let runtime: Int32 = 1

    static let oversizedPayload = "\"" + String(repeating: "x", count: 64 * 1024 - 1) + "\""

    static let all: [BadInput] = [
        BadInput(
            label: "--every banana", arguments: ["add", "new", "--every", "banana", "--handler", "tick"],
            status: usage, mentioning: "banana"),
        BadInput(
            label: "--every -5s", arguments: ["add", "new", "--every", "-5s", "--handler", "tick"], status: usage,
            mentioning: "--every"),
        BadInput(
            label: "--every=-5s", arguments: ["add", "new", "--every=-5s", "--handler", "tick"], status: usage,
            mentioning: "-5s"),
        BadInput(
            label: "--every 0s", arguments: ["add", "new", "--every", "0s", "--handler", "tick"], status: usage,
            mentioning: "0s"),
        BadInput(
            label: "cron minute 61", arguments: ["add", "new", "--cron", "61 * * * *", "--handler", "tick"],
            status: usage, mentioning: "61"),
        BadInput(
            label: "cron that never fires (30 Feb)",
            arguments: ["add", "new", "--cron", "0 0 30 2 *", "--handler", "tick"], status: usage,
            mentioning: "0 0 30 2 *"),
        BadInput(
            label: "cron with too few fields", arguments: ["add", "new", "--cron", "* * *", "--handler", "tick"],
            status: usage, mentioning: "cron"),
        BadInput(
            label: "unknown time zone",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--tz", "Mars/Olympus", "--handler", "tick"],
            status: usage, mentioning: "Mars/Olympus"),
        BadInput(
            label: "duplicate name without --replace",
            arguments: ["add", "existing", "--every", "5s", "--handler", "tick"], status: runtime,
            mentioning: "existing"),
        BadInput(
            label: "conflicting schedules --every and --in",
            arguments: ["add", "new", "--every", "1s", "--in", "5s", "--handler", "tick"], status: usage,
            mentioning: "--in"),
        BadInput(
            label: "invalid JSON payload",
            arguments: ["add", "new", "--every", "1s", "--payload", "{\"a\":", "--handler", "tick"], status: usage,
            mentioning: "payload"),
        BadInput(
            label: "payload over 64 KiB",
            arguments: ["add", "new", "--every", "1s", "--payload", oversizedPayload, "--handler", "tick"],
            status: usage, mentioning: "payload"),
        BadInput(
            label: "bad --at instant", arguments: ["add", "new", "--at", "next tuesday", "--handler", "tick"],
            status: usage, mentioning: "next tuesday"),
        BadInput(
            label: "name with a control character",
            arguments: ["add", "bad\u{7}name", "--every", "1s", "--handler", "tick"],
            status: usage, mentioning: "name"),
        BadInput(
            label: "empty command", arguments: ["add", "new", "--every", "1s", "--", ""], status: usage,
            mentioning: "command"),
        BadInput(label: "show unknown job", arguments: ["show", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "pause unknown job", arguments: ["pause", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "resume unknown job", arguments: ["resume", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "stop unknown job", arguments: ["stop", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "remove unknown job", arguments: ["remove", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "trigger unknown job", arguments: ["trigger", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "history of unknown job", arguments: ["history", "nope"], status: runtime, mentioning: "nope"),
        BadInput(
            label: "history --status unknown", arguments: ["history", "--status", "great"], status: usage,
            mentioning: "great"),
        BadInput(
            label: "prune --older-than banana", arguments: ["prune", "--older-than", "banana"], status: usage,
            mentioning: "banana"),
        BadInput(
            label: "queue set-concurrency 0", arguments: ["queue", "set-concurrency", "default", "0"], status: usage,
            mentioning: "concurrency"),
        BadInput(
            label: "unknown command", arguments: ["frobnicate"], status: usage, mentioning: "frobnicate",
            withDatabase: false),
        BadInput(
            label: "unknown option", arguments: ["list", "--colour"], status: usage, mentioning: "--colour"),
        // Names that look like another, or turn a printed line around.
        BadInput(
            label: "name with a zero-width space",
            arguments: ["add", "exist\u{200B}ing", "--every", "1s", "--handler", "tick"],
            status: usage, mentioning: "invisible"),
        BadInput(
            label: "name with a right-to-left override",
            arguments: ["add", "\u{202E}gnitsixe", "--every", "1s", "--handler", "tick"], status: usage,
            mentioning: "U+202E"),
        BadInput(
            label: "queue with a right-to-left mark",
            arguments: ["add", "new", "--queue", "q\u{200F}", "--every", "1s", "--handler", "tick"], status: usage,
            mentioning: "queue name"),
        BadInput(
            label: "name with a Hangul filler (renders blank)",
            arguments: ["add", "\u{3164}", "--every", "1s", "--handler", "tick"], status: usage, mentioning: "U+3164"),
        BadInput(
            label: "name not in NFC (e + combining acute)",
            arguments: ["add", "caf\u{65}\u{301}", "--every", "1s", "--handler", "tick"], status: usage,
            mentioning: "NFC"),
        BadInput(
            label: "--tz UTC+3 (an offset that POSIX reads the other way)",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--tz", "UTC+3", "--handler", "tick"], status: usage,
            mentioning: "--tz"),
        BadInput(label: "run --queue ''", arguments: ["run", "--queue", ""], status: usage, mentioning: "queue name"),
        BadInput(
            label: "list --queue ''", arguments: ["list", "--queue", ""], status: usage, mentioning: "queue name"),
        // Durations and instants out of range never trap: one line, exit 64.
        BadInput(
            label: "--every 106751991d", arguments: ["add", "new", "--every", "106751991d", "--handler", "tick"],
            status: usage, mentioning: "--every"),
        BadInput(
            label: "--in 106751990d", arguments: ["add", "new", "--in", "106751990d", "--handler", "tick"],
            status: usage, mentioning: "--in"),
        BadInput(
            label: "--delay 106751991d",
            arguments: ["add", "new", "--every", "1s", "--delay", "106751991d", "--handler", "tick"], status: usage,
            mentioning: "--delay"),
        BadInput(
            label: "--timeout 36501d",
            arguments: ["add", "new", "--every", "1s", "--timeout", "36501d", "--handler", "tick"],
            status: usage, mentioning: "--timeout"),
        BadInput(
            label: "--backoff 99999999d",
            arguments: ["add", "new", "--every", "1s", "--backoff", "99999999d", "--handler", "tick"], status: usage,
            mentioning: "--backoff"),
        BadInput(
            label: "--at 9999-12-31 plus --delay",
            arguments: ["add", "new", "--at", "9999-12-31T23:59:59Z", "--delay", "1d", "--handler", "tick"],
            status: usage, mentioning: "--delay"),
        BadInput(
            label: "run --grace 106751991d", arguments: ["run", "--grace", "106751991d"], status: usage,
            mentioning: "--grace"),
        BadInput(
            label: "drain --grace 106751991d", arguments: ["drain", "--grace", "106751991d"], status: usage,
            mentioning: "--grace"),
        // Options that need another one.
        BadInput(
            label: "--delay with --cron",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--delay", "1h", "--handler", "tick"], status: usage,
            mentioning: "--delay"),
        BadInput(
            label: "--delay with --at",
            arguments: ["add", "new", "--at", "2099-01-01T00:00:00Z", "--delay", "1h", "--handler", "tick"],
            status: usage, mentioning: "--delay"),
        BadInput(
            label: "--at in the past", arguments: ["add", "new", "--at", "2020-01-01T00:00:00Z", "--handler", "tick"],
            status: usage, mentioning: "--in 0s"),
        BadInput(
            label: "--jitter as long as --every",
            arguments: ["add", "new", "--every", "10s", "--jitter", "10s", "--handler", "tick"], status: usage,
            mentioning: "jitter"),
        BadInput(
            label: "--cwd that does not exist",
            arguments: ["add", "new", "--every", "1s", "--cwd", "/no/such/dir", "--", "true"], status: usage,
            mentioning: "/no/such/dir"),
        BadInput(
            label: "prune-history with a payload it cannot use",
            arguments: [
                "add", "new", "--every", "1h", "--handler", "prune-history", "--payload", #"{"olderThan":"banana"}"#,
            ],
            status: usage, mentioning: "banana"),
        BadInput(
            label: "--tz error names --tz",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--tz", "Mars/Olympus", "--handler", "tick"],
            status: usage, mentioning: "--tz:"),
        BadInput(
            label: "stop --timeout without --wait", arguments: ["stop", "existing", "--timeout", "1s"], status: usage,
            mentioning: "--wait"),
        BadInput(
            label: "show --runs=-5", arguments: ["show", "existing", "--runs=-5"], status: usage, mentioning: "--runs"),
        BadInput(
            label: "history --limit -1", arguments: ["history", "--limit", "-1"], status: usage, mentioning: "--limit"),
        // Negative numbers say what is wrong, not "Missing value".
        BadInput(
            label: "--every -5s says negative", arguments: ["add", "new", "--every", "-5s", "--handler", "tick"],
            status: usage, mentioning: "negative"),
        BadInput(
            label: "--retries -1 says the range",
            arguments: ["add", "new", "--every", "1s", "--retries", "-1", "--handler", "tick"],
            status: usage, mentioning: "between 0 and 1000"),
        BadInput(
            label: "run --concurrency -2", arguments: ["run", "--concurrency", "-2"], status: usage,
            mentioning: "between 1 and 10000"),
        // Queues.
        BadInput(
            label: "queue set-concurrency -1", arguments: ["queue", "set-concurrency", "default", "-1"], status: usage,
            mentioning: "\"-1\""),
        BadInput(
            label: "queue pause of an empty name", arguments: ["queue", "pause", ""], status: usage,
            mentioning: "queue name"),
        BadInput(
            label: "queue set-concurrency of an unknown queue", arguments: ["queue", "set-concurrency", "nope", "2"],
            status: runtime, mentioning: "nope"),
        BadInput(
            label: "queue remove of a queue in use", arguments: ["queue", "remove", "default"], status: runtime,
            mentioning: "used by 1 job"),
        BadInput(
            label: "queue remove of an unknown queue", arguments: ["queue", "remove", "nope"], status: runtime,
            mentioning: "nope"),
        BadInput(
            label: "--db with an empty path", arguments: ["list", "--db", ""], status: usage, mentioning: "--db",
            withDatabase: false),
    ]
}

/// Bad input: a non-zero exit (64 usage, 1 runtime), one line on stderr, and an unchanged database.
@Suite("jobctl bad input end to end", .timeLimit(.minutes(2)))
struct EndToEndBadInputTests {
    /// A sandbox whose database holds one job, `existing`.
    func seeded() async throws -> Sandbox {
        let s = try Sandbox()
        do {
            try await s.succeed(["add", "existing", "--every", "1h", "--handler", "tick"])
        } catch {
            s.cleanup()
            throw error
        }
        return s
    }

    @Test("bad input is refused with one line and changes nothing", arguments: BadInput.all)
    func refused(_ input: BadInput) async throws {
        let s = try await seeded()
        defer { s.cleanup() }
        let before = try await s.dump()
        let result = try await s.jobctl(input.arguments, db: input.withDatabase ? .sandbox : .omitted)
        expectOneLineError(result, status: input.status, mentioning: input.mentioning)
        let after = try await s.dump()
        #expect(before == after, "the database changed")
    }

    @Test("a usage error does not create the database file")
    func usageErrorCreatesNothing() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try await s.jobctl(["add", "x", "--every", "banana", "--handler", "tick"])
        expectOneLineError(result, status: 64, mentioning: "banana")
        #expect(!FileManager.default.fileExists(atPath: s.db))
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath))
    }

    @Test("a --db that is a text file is refused and left byte for byte untouched")
    func textFile() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let directory = s.root + "/files"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/notes.txt"
        let content = Data("these are my notes, not a database\n".utf8 + (0..<2000).map { UInt8($0 % 251) })
        try content.write(to: URL(fileURLWithPath: path))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        for arguments in [
            ["list"], ["add", "x", "--every", "1s", "--handler", "tick"], ["status", "--json"], ["history"],
            ["queue", "pause", "default"],
        ] {
            let result = try await s.jobctl(arguments, db: .path(path))
            expectOneLineError(result, status: 1, mentioning: "database")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == content, "\(arguments) changed the file")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["notes.txt"], "files appeared")
        let now = try FileManager.default.attributesOfItem(atPath: path)
        #expect(now[.posixPermissions] as? Int == attributes[.posixPermissions] as? Int)
        #expect(now[.modificationDate] as? Date == attributes[.modificationDate] as? Date)
    }

    @Test("a database from a newer schema is refused and not changed")
    func newerSchema() async throws {
        let s = try await seeded()
        defer { s.cleanup() }
        try await s.sqlite(s.db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
        let before = try await s.dump()
        for arguments in [["list"], ["add", "x", "--every", "1s", "--handler", "tick"], ["pause", "existing"]] {
            let result = try await s.jobctl(arguments)
            expectOneLineError(result, status: 1, mentioning: "999")
        }
        #expect(try await s.dump() == before)
    }

    /// Whether writes can be refused by file permissions here: as root they cannot, so the test runs
    /// jobctl as `nobody` through setpriv when it can.
    static let readOnlySetup: (canRun: Bool, reason: String) = {
        if geteuid() != 0 { return (true, "not root: file modes apply") }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            return (true, "root: jobctl runs as nobody through setpriv")
        }
        return (false, "running as root without /usr/bin/setpriv: chmod cannot make a file read-only for root")
    }()

    @Test(
        "a read-only database (file 0444, directory 0555) is refused and not changed",
        .enabled(if: readOnlySetup.canRun, "needs a non-root user, or setpriv to become one"))
    func readOnly() async throws {
        let s = try await seeded()
        defer { s.cleanup() }
        print("read-only test: \(Self.readOnlySetup.reason)")
        let directory = s.root + "/ro"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/jobs.sqlite"
        try await s.sqlite(s.db, "PRAGMA wal_checkpoint(TRUNCATE)")
        try FileManager.default.copyItem(atPath: s.db, toPath: path)
        let before = try await s.dump(path)

        let asRoot = geteuid() == 0
        let nobody = 65534
        if asRoot {
            for item in [path, directory] {
                try FileManager.default.setAttributes(
                    [.ownerAccountID: nobody, .groupOwnerAccountID: nobody], ofItemAtPath: item)
            }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory)
        s.onCleanup {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
            try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))

        func jobctl(_ arguments: [String]) async throws -> ProcessResult {
            let full = s.withDatabase(arguments, db: path)
            guard asRoot else { return try await s.run(executable: s.jobctlPath, full) }
            return try await s.run(
                executable: "/usr/bin/setpriv",
                ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", s.jobctlPath] + full)
        }
        // The harness itself must work as that user, or the test would prove nothing.
        let version = try await jobctl(["--version"])
        try #require(version.status == 0, "jobctl cannot run as this user: \(version)")

        for arguments in [
            ["add", "x", "--every", "1s", "--handler", "tick"], ["pause", "existing"], ["remove", "existing"],
            ["queue", "set-concurrency", "default", "3"],
        ] {
            let result = try await jobctl(arguments)
            expectOneLineError(result, status: 1, mentioning: "read")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes, "the file changed")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["jobs.sqlite"])
        #expect(try await s.dump(path) == before)
    }

    @Test("a database locked past the busy timeout is refused and not changed")
    func locked() async throws {
        let s = try await seeded()
        defer { s.cleanup() }
        let holder = try s.launch(executable: try SQLiteShell.require(), [s.db], withInput: true)
        defer {
            holder.closeInput()
            holder.killAndReap()
        }
        // The sqlite3 shell has no busy timeout by default: without one, its BEGIN IMMEDIATE fails at
        // once if a probe happens to hold a lock at that moment, and then it never holds the lock.
        try holder.write(".timeout 10000\nBEGIN IMMEDIATE;\n")

        // Wait until the lock is held: a write with a short busy timeout fails. (A probe that got in
        // before the lock adds a job, which the dump below, taken afterwards, already includes.)
        var probe = 0
        try await waitUntil("sqlite3 holds the write lock") {
            if holder.hasExited { throw HarnessError("sqlite3 exited:\n\(holder.result())") }
            probe += 1
            let result = try await s.jobctl([
                "add", "probe-\(probe)", "--every", "1h", "--handler", "tick", "--busy-timeout", "100ms",
            ])
            return result.status != 0
        }
        let before = try await s.dump()

        for arguments in [
            ["add", "x", "--every", "1s", "--handler", "tick", "--busy-timeout", "200ms"],
            ["pause", "existing", "--busy-timeout", "200ms"],
            ["queue", "set-concurrency", "default", "3", "--busy-timeout", "200ms"],
        ] {
            let started = ContinuousClock.now
            let result = try await s.jobctl(arguments)
            let took = ContinuousClock.now - started
            expectOneLineError(result, status: 1, mentioning: "locked")
            #expect(took >= .milliseconds(200), "gave up before the busy timeout: \(took)")
            #expect(took < .seconds(20), "waited far past the busy timeout: \(took)")
        }
        #expect(try await s.dump() == before)

        // Reading is not blocked by a writer in WAL mode.
        let list = try await s.jobctl(["list", "--json", "--busy-timeout", "200ms"])
        #expect(list.status == 0, "\(list)")

        // Release the lock; the same write now succeeds.
        try holder.write("ROLLBACK;\n.quit\n")
        holder.closeInput()
        #expect(await holder.waitForExit(timeout: .seconds(30)), "sqlite3 did not quit")
        try await s.succeed(["add", "x", "--every", "1s", "--handler", "tick"])
    }
}
