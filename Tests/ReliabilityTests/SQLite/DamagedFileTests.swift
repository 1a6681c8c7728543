import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    /// Scenario 9 (guarantees 1 and 7): files that are not (or no longer) sound JobRunner databases.
    @Suite("9. wrong or damaged files")
    struct DamagedFiles {
        /// Commands that open the database, each must refuse a bad file the same way.
        static let commands: [[String]] = [
            ["status", "--json"], ["list", "--json"], ["add", "probe", "--every", "1s", "--handler", "tick"],
            ["run"],
        ]

        @Test(
            "a text file, a file with a SQLite header and garbage, and a newer schema: one clear error, file untouched",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func refusedFiles() async throws {
            try await Sandbox.with("damaged-refused") { sandbox in
                var random = SeededRandom(seed: ChaosMode.seed())
                let text = sandbox.root + "/notes.txt"
                try Data(String(repeating: "this is not a database; it's a shopping list\n", count: 200).utf8).write(
                    to: URL(fileURLWithPath: text))
                let garbage = sandbox.root + "/garbage.sqlite"
                var bytes = Array("SQLite format 3\0".utf8)
                bytes += (0..<8192).map { _ in UInt8.random(in: 0...255, using: &random) }
                try Data(bytes).write(to: URL(fileURLWithPath: garbage))

                // A real database, then marked as written by a newer JobRunner.
                let newer = sandbox.root + "/newer.sqlite"
                _ = try await sandbox.jobctlOK(["add", "--db", newer, "kept", "--every", "1h", "--handler", "tick"])
                do {
                    let probe = try DatabaseProbe(newer)
                    try probe.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)")
                    try probe.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                }
                let newerDump = try DatabaseProbe(newer).logicalDump()

                let expectations: [(path: String, says: [String])] = [
                    (text, ["not a jobrunner database", "not a database"]),
                    (garbage, ["not a jobrunner database", "not a database", "malformed", "corrupt"]),
                    (newer, ["newer"]),
                ]
                var refusals = 0
                for (path, says) in expectations {
                    let before = try Data(contentsOf: URL(fileURLWithPath: path))
                    for command in Self.commands {
                        let result = try await sandbox.jobctl(
                            [command[0], "--db", path] + command.dropFirst(), timeout: .seconds(30))
                        #expect(result.status == .exited(1), "\(result)")
                        let lines = result.stderrLines.filter { $0.hasPrefix("jobctl: error:") }
                        #expect(
                            lines.count == 1 && says.contains(where: lines[0].lowercased().contains),
                            "one line naming the problem (\(says[0])): \(result)")
                        refusals += 1
                    }
                    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "\(path) was changed")
                    if path != newer {
                        for suffix in ["-wal", "-shm", "-journal"] {
                            #expect(
                                !FileManager.default.fileExists(atPath: path + suffix), "\(path)\(suffix) was created")
                        }
                    }
                }
                #expect(try DatabaseProbe(newer).logicalDump() == newerDump, "the newer database's content changed")
                Figures.report("9a refused files", ["files": expectations.count, "refusals": refusals])
            }
        }

        @Test(
            "a zero-byte file, a directory and a missing directory: a clean start or one clear error",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func emptyFileAndWrongPaths() async throws {
            try await Sandbox.with("damaged-empty") { sandbox in
                let empty = sandbox.root + "/empty.sqlite"
                _ = FileManager.default.createFile(atPath: empty, contents: Data())
                let status = try await sandbox.jobctl(["status", "--db", empty])
                if status.status == .exited(0) {
                    // A clean start: it is now a sound, empty JobRunner database.
                    let add = try await sandbox.jobctl([
                        "add", "--db", empty, "first", "--every", "1h", "--handler", "tick",
                    ])
                    #expect(add.status == .exited(0), "\(add)")
                    #expect(try DatabaseProbe(empty).strings("PRAGMA integrity_check") == ["ok"])
                    #expect(try DatabaseProbe(empty).strings("SELECT name FROM jobs") == ["first"])
                } else {
                    #expect(status.status == .exited(1) && status.stderrLines.count == 1, "\(status)")
                    #expect(try Data(contentsOf: URL(fileURLWithPath: empty)).isEmpty, "the empty file was changed")
                }
                for path in [sandbox.root, sandbox.root + "/missing/dir/jobs.sqlite"] {
                    let result = try await sandbox.jobctl(["status", "--db", path])
                    #expect(result.status == .exited(1), "\(result)")
                    #expect(
                        result.stderrLines.count == 1 && result.stderrLines[0].contains(path),
                        "one line naming the path: \(result)")
                }
                #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/missing"), "a directory was created")
            }
        }

        @Test(
            "a WAL truncated after kill -9 is recovered cleanly: sound file, every invariant, runners carry on",
            .timeLimit(ChaosMode.timeLimit(short: 3))
        )
        func truncatedWriteAheadLog() async throws {
            let cycles = ChaosMode.count(short: 5, long: 50)
            let seed = ChaosMode.seed()
            var random = SeededRandom(seed: seed)
            print("[reliability] truncated WAL: \(cycles) cycles, seed \(seed)")
            try await Sandbox.with("damaged-wal") { sandbox in
                var acknowledged: Set<String> = []
                for index in 0..<5 {
                    try await sandbox.jobctlOK(["add", "tick-\(index)", "--every", "5ms", "--handler", "tick"])
                    acknowledged.insert("tick-\(index)")
                }
                var truncatedBytes = 0
                var walsCut = 0
                for _ in 0..<cycles {
                    let runner = try await sandbox.startRegisteredRunner()
                    // The kill moment is the scenario's input.
                    try await Task.sleep(for: .randomMilliseconds(100...500, using: &random))
                    runner.child.signal(SIGKILL)
                    try await runner.child.wait(timeout: .seconds(10))
                    let wal = sandbox.db + "-wal"
                    let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
                    let durable = Self.checkpointedPrefix(wal: wal, shm: sandbox.db + "-shm")
                    if size > durable {
                        // A crash (or a power loss) can only lose what was written after the last checkpoint:
                        // SQLite syncs the WAL before it copies frames into the database. Cut anywhere in that
                        // tail: inside the header, mid-frame or mid-transaction.
                        let keep = Int.random(in: durable..<size, using: &random)
                        guard truncate(wal, off_t(keep)) == 0 else {
                            throw HarnessError("truncate \(wal): \(String(cString: strerror(errno)))")
                        }
                        truncatedBytes += size - keep
                        walsCut += 1
                    }
                    let status = try await sandbox.jobctl(["status", "--json"])
                    #expect(status.status == .exited(0), "status after a cut WAL: \(status)")
                    #expect(try DatabaseProbe(sandbox.db).strings("PRAGMA integrity_check") == ["ok"])
                }
                let final = try await sandbox.startRegisteredRunner()
                let counts = try sandbox.runCounts()
                try await waitUntil("a runner carries on after the cut WALs", timeout: .seconds(30)) {
                    _ = try await sandbox.resumeJobsPausedByAbandonment()
                    let now = try sandbox.runCounts()
                    let orphans = try sandbox.probe().runsInFlight(notOf: try final.runnerID() ?? 0)
                    return orphans == 0 && counts.allSatisfy { now[$0.key, default: 0] >= $0.value + 3 }
                }
                try await sandbox.drainAll([final])
                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                Figures.report(
                    "9b truncated WAL after kill -9",
                    [
                        "kills": cycles, "wals_cut": walsCut, "bytes_cut": truncatedBytes,
                        "runs": Int(invariants.totalRuns), "violations": invariants.violations.count,
                        "seed": "\(seed)",
                    ])
            }
        }

        /// The bytes of a WAL that a crash cannot take away: SQLite syncs the WAL up to the frame a checkpoint
        /// will copy before it starts copying. The shared-memory index records that frame (`nBackfillAttempted`,
        /// at offset 128, after two 48-byte copies of the index header, `nBackfill`, five read marks and eight
        /// lock bytes); the page size is in the WAL header, big-endian, at offset 8.
        static func checkpointedPrefix(wal: String, shm: String) -> Int {
            guard let header = FileManager.default.contents(atPath: wal)?.prefix(32), header.count == 32,
                let index = FileManager.default.contents(atPath: shm), index.count >= 136
            else { return 0 }
            func littleEndian(_ offset: Int) -> Int {
                index.dropFirst(offset).prefix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
            }
            let pageSize = header.dropFirst(8).prefix(4).reduce(0) { $0 << 8 | Int($1) }
            let synced = max(littleEndian(96), littleEndian(128))
            // Nothing of this generation of the WAL copied yet: even its header may go.
            return synced == 0 ? 0 : 32 + synced * (24 + pageSize)
        }
    }
}
