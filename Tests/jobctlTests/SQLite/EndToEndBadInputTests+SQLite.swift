import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bad input that is about the SQLite file itself: a text file as `--db`, a newer schema, a read-only
/// file, a foreign write lock. Each is refused with one line and leaves the file as it was.
extension EndToEndBadInputTests {
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
