import Foundation
import TestSupport
import Testing

@testable import JobRunner

@Suite("JobStore")
struct JobStoreTests {
    @Test("a new database file is created with mode 0600 whatever the umask")
    func newFileIsPrivate() async throws {
        let previous = umask(0)
        defer { umask(previous) }
        try await withTemporaryDatabase { _, path in
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            #expect(mode == 0o600)
        }
    }

    @Test("opening applies the migrations and records them")
    func migrationsAreApplied() async throws {
        try await withTemporaryDatabase { store, _ in
            #expect(try await store.schemaVersion() == Migrator().latestVersion)
            let tables = try await store.rawInt(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('jobs', 'runs', 'queues', 'runners', 'control')"
            )
            #expect(tables == 5)
            #expect(
                try await store.rawInt("SELECT count(*) FROM schema_migrations") == Int64(BundledMigrations.all.count))
        }
    }

    @Test("a database from a newer schema is refused")
    func newerSchemaIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/jobs.sqlite"
            let store = try await JobStore.open(path: path)
            try await store.rawExecute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
            await #expect(throws: MigrationError.self) { _ = try await JobStore.open(path: path) }
            do {
                _ = try await JobStore.open(path: path)
            } catch {
                #expect("\(error)".contains("newer"))
            }
        }
    }

    @Test("a file that is not a database is refused and left byte for byte untouched")
    func notADatabaseIsUntouched() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/notes.txt"
            let content = Data(String(repeating: "this is not a database\n", count: 200).utf8)
            try content.write(to: URL(fileURLWithPath: path))
            await #expect(throws: JobRunnerError.self) { _ = try await JobStore.open(path: path) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == content)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test("the migrations embedded in the binary match migrations/*.sql byte for byte")
    func bundledMigrationsMatchFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
            .sorted()
        #expect(files == BundledMigrations.all.map(\.fileName))
        for migration in BundledMigrations.all {
            let text = try String(contentsOf: directory.appendingPathComponent(migration.fileName), encoding: .utf8)
            #expect(
                text == migration.sql + "\n",
                "\(migration.fileName) differs from BundledMigrations.swift; run scripts/embed-migrations")
        }
    }

    @Test("adding a duplicate name fails and changes nothing; --replace keeps counters")
    func duplicateAndReplace() async throws {
        try await withTemporaryDatabase { store, _ in
            try await store.add(JobDefinition(name: "a", action: .handler("tick"), schedule: .every(.seconds(1))))
            await #expect(throws: JobRunnerError.self) {
                try await store.add(JobDefinition(name: "a", action: .handler("tick"), schedule: .every(.seconds(9))))
            }
            #expect(try await store.job(named: "a")?.definition.schedule == .every(.seconds(1)))
            try await store.rawExecute("UPDATE jobs SET run_count = 7 WHERE name = 'a'")
            let replaced = try await store.add(
                JobDefinition(name: "a", action: .handler("tick"), schedule: .every(.seconds(9))),
                replace: true
            )
            #expect(replaced.definition.schedule == .every(.seconds(9)))
            #expect(replaced.runCount == 7)
        }
    }

    @Test("declare is idempotent: created, unchanged, updated")
    func declareIsIdempotent() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let definition = JobDefinition(name: "prune", action: .handler("tick"), schedule: .every(.seconds(300)))
            #expect(try await store.declare(definition) == .created)
            let first = try #require(try await store.job(named: "prune"))
            clock.advance(by: .seconds(10))
            #expect(try await store.declare(definition) == .unchanged)
            #expect(try await store.job(named: "prune")?.nextRunAt == first.nextRunAt)
            var changed = definition
            changed.timeout = .seconds(30)
            #expect(try await store.declare(changed) == .updated)
            // Only the timeout changed: the schedule and its next run are kept.
            #expect(try await store.job(named: "prune")?.nextRunAt == first.nextRunAt)
        }
    }

    @Test(
        "invalid definitions are refused with one-line errors and change nothing",
        arguments: [
            JobDefinition(name: "", action: .handler("tick"), schedule: .every(.seconds(1))),
            JobDefinition(name: "x\ny", action: .handler("tick"), schedule: .every(.seconds(1))),
            JobDefinition(
                name: String(repeating: "n", count: 201), action: .handler("tick"), schedule: .every(.seconds(1))),
            JobDefinition(name: "zero", action: .handler("tick"), schedule: .every(.zero)),
            JobDefinition(
                name: "payload", action: .handler("tick"), payload: "{not json", schedule: .every(.seconds(1))),
            JobDefinition(
                name: "empty-command", action: .command([], workingDirectory: nil), schedule: .every(.seconds(1))),
            JobDefinition(name: "neg", action: .handler("tick"), schedule: .every(.seconds(1)), jitter: .seconds(-1)),
        ])
    func invalidDefinitions(_ definition: JobDefinition) async throws {
        try await withTemporaryDatabase { store, _ in
            do {
                try await store.add(definition)
                Issue.record("accepted \(definition.name)")
            } catch let error as JobRunnerError {
                #expect(error.kind == .invalidDefinition)
                #expect(!error.description.contains("\n"))
            }
            #expect(try await store.jobs().isEmpty)
        }
    }

    @Test("a payload over the documented limit is refused")
    func oversizedPayload() async throws {
        try await withTemporaryDatabase { store, _ in
            let payload = "\"" + String(repeating: "x", count: JobDefinition.maximumPayloadSize) + "\""
            await #expect(throws: JobRunnerError.self) {
                try await store.add(
                    JobDefinition(
                        name: "big", action: .handler("tick"), payload: payload, schedule: .every(.seconds(1))))
            }
            let jobs = try await store.jobs()
            #expect(jobs.isEmpty)
        }
    }

    @Test("hostile names and payloads round-trip exactly; SQL in them is data")
    func hostileInputRoundTrips() async throws {
        try await withTemporaryDatabase { store, _ in
            let names = ["'); DROP TABLE jobs;--", "100%_done", "back\\slash", "quote\"d", "عربي rtl", "emoji 🧹"]
            for name in names {
                try await store.add(
                    JobDefinition(
                        name: name, action: .handler("tick"), payload: #"{"s":"'; DROP TABLE runs;--\n\u0000"}"#,
                        schedule: .every(.seconds(1)))
                )
            }
            let stored = try await store.jobs().map(\.definition.name)
            #expect(Set(stored) == Set(names))
            #expect(try await store.job(named: "100%_done") != nil)
            #expect(try await store.job(named: "100%Xdone") == nil)
            #expect(
                try await store.job(named: names[0])?.definition.payload == #"{"s":"'; DROP TABLE runs;--\n\u0000"}"#)
        }
    }

    @Test("pause, resume, stop, trigger and remove change state as documented")
    func lifecycle() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(10))))
            #expect(try await store.pause("j").state == .paused)
            #expect(try await store.resume("j").state == .active)
            let stopped = try await store.stop("j")
            #expect(stopped.state == .stopped)
            #expect(stopped.nextRunAt == nil)
            clock.advance(by: .seconds(3))
            let resumed = try await store.resume("j")
            #expect(resumed.nextRunAt == newYear2026 + 13_000_000)
            #expect(try await store.trigger("j").triggerAt == newYear2026 + 3_000_000)
            try await store.remove("j")
            #expect(try await store.job(named: "j") == nil)
            await #expect(throws: JobRunnerError.self) { try await store.pause("j") }
        }
    }

    @Test("prune deletes history but keeps counters")
    func pruneKeepsCounters() async throws {
        try await withTemporaryDatabase { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(1))))
            let job = try #require(try await store.job(named: "j"))
            for index in 0..<5 {
                try await store.rawExecute(
                    "INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at, outcome) VALUES (?, 'j', 1, ?, ?, ?, 'ok')",
                    [.integer(job.id), .integer(Int64(index)), .integer(Int64(index)), .integer(Int64(index))]
                )
            }
            try await store.rawExecute("UPDATE jobs SET run_count = 5 WHERE id = ?", [.integer(job.id)])
            #expect(try await store.prune(finishedBefore: 3, batchSize: 2) == 3)
            #expect(try await store.history(HistoryQuery(job: "j")).count == 2)
            #expect(try await store.job(named: "j")?.runCount == 5)
        }
    }
}

@Suite("Background checkpoints")
struct BackgroundCheckpointTests {
    @Test("a commit that fills the log is checkpointed by the second connection, not inside the commit")
    func fullLogIsCheckpointedInTheBackground() async throws {
        try await withTemporaryDatabase { store, path in
            // About 1,250 pages of 4 KiB in one commit: past the 1,000-page threshold.
            try await store.rawExecute("CREATE TABLE ballast (b BLOB)")
            try await store.rawExecute("INSERT INTO ballast VALUES (zeroblob(5000000))")
            let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            #expect(walBytes > 4_000_000, "the log should hold the commit: \(walBytes) bytes")

            try await waitUntil("a background checkpoint", timeout: .seconds(10), interval: .milliseconds(5)) {
                await store.backgroundCheckpoints >= 1
            }

            // Everything in the log has been copied into the database file: a checkpoint now finds
            // the log as long as the copied part (busy 0, log frames == checkpointed frames).
            let outcome = try await store.rawRow("PRAGMA wal_checkpoint(PASSIVE)")
            #expect(
                outcome.count == 3 && outcome[0] == 0 && outcome[1] > 1000 && outcome[1] == outcome[2], "\(outcome)")
        }
    }

    @Test("small commits do not start a checkpoint")
    func smallCommitsLeaveTheLogAlone() async throws {
        try await withTemporaryDatabase { store, _ in
            for index in 0..<20 {
                try await store.add(
                    JobDefinition(name: "job-\(index)", action: .handler("tick"), schedule: .every(.seconds(60))))
            }
            #expect(await store.backgroundCheckpoints == 0)
        }
    }
}
