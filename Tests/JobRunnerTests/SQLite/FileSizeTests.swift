import CSQLite
import Dispatch
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import JobRunner

/// A second connection that holds a read snapshot, as an analyst's `sqlite3` session left in a
/// transaction does, until ``release()``.
final class SnapshotReader {
    private var handle: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw HarnessError("cannot open \(path)")
        }
        try run("BEGIN")
        try run("SELECT count(*) FROM jobs")  // the snapshot is taken at the first read
    }

    private func run(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw HarnessError("\(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
    }

    func release() {
        sqlite3_exec(handle, "COMMIT", nil, nil, nil)
        sqlite3_close_v2(handle)
        handle = nil
    }

    deinit { if handle != nil { release() } }
}

/// The size of a file in bytes, 0 if it does not exist.
func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
}

@Suite("The write-ahead log stays bounded", .timeLimit(.minutes(1)))
struct WALSizeTests {
    /// A small limit, so that the tests write little.
    static let limit = 2 << 20

    @Test(
        "after a reader that held a snapshot lets go, the log is back under the limit within 10 s, while a runner writes"
    )
    func logShrinksAfterTheReaderLetsGo() async throws {
        let configuration = JobStore.Configuration(walSizeLimit: Self.limit)
        try await withTemporaryDatabase(configuration: configuration) { store, path in
            try await store.add(
                JobDefinition(name: "fast", action: .handler("tick"), schedule: .every(.milliseconds(5))))
            try await store.rawExecute("CREATE TABLE ballast (b BLOB)")
            let runner = JobRunner(
                store: store,
                configuration: JobRunnerConfiguration(concurrency: 2, changePollInterval: nil, host: "test-host"),
                logger: quietLogger
            )
            try await withRunner(runner) { events in
                let reader = try SnapshotReader(path: path)
                // Four times the limit, in commits of 256 KiB: no checkpoint can copy it past the reader.
                for _ in 0..<32 {
                    try await store.rawExecute("INSERT INTO ballast VALUES (zeroblob(262144))")
                }
                _ = await events.finished(3)  // the runner goes on meanwhile
                let held = fileSize(path + "-wal")
                #expect(held > Int64(3 * Self.limit), "the log should have grown under the reader: \(held) bytes")

                reader.release()
                try await waitUntil(
                    "the log is back under the limit after the reader let go (it is \(fileSize(path + "-wal")) bytes)",
                    timeout: .seconds(10)
                ) {
                    fileSize(path + "-wal") <= Int64(Self.limit)
                }
                _ = await events.finished(3)  // and the runner still runs
            }
        }
    }

    @Test("with no reader, many commits leave the log under the limit, at every commit")
    func steadyStateStaysUnderTheLimit() async throws {
        let limit = 8 << 20
        try await withTemporaryDatabase(configuration: JobStore.Configuration(walSizeLimit: limit)) { store, path in
            try await store.rawExecute("CREATE TABLE ballast (b BLOB)")
            // Five times the limit in all, in commits of three pages, as fast as they go. However slow
            // the disk, a commit that finds the background checkpoint behind waits for it.
            var largest: Int64 = 0
            for _ in 0..<3500 {
                try await store.rawExecute("INSERT INTO ballast VALUES (zeroblob(10000))")
                largest = max(largest, fileSize(path + "-wal"))
            }
            #expect(largest <= Int64(limit), "the log reached \(largest) bytes")
        }
    }

    @Test(
        "while a sync stalls in the background checkpoint, the commit at half the limit waits for it, and the log stays under the limit"
    )
    func slowDiskHoldsTheWriterNotTheLog() async throws {
        let limit = 8 << 20
        StallingSyncVFS.register()
        var configuration = JobStore.Configuration(walSizeLimit: limit)
        configuration.vfs = StallingSyncVFS.name
        try await withTemporaryDatabase(configuration: configuration) { store, path in
            try await store.rawExecute("CREATE TABLE ballast (b BLOB)")
            let checkpointer = try #require(await store.backgroundCheckpointer)
            let progress = StallProgress()
            // The first sync of this database's log in a background checkpoint (on the checkpointer's
            // queue, holding SQLite's checkpoint lock meanwhile) stalls until a commit waits for that
            // checkpoint, or until the writer below has finished without waiting (which fails the
            // test), or 10 s. The writer's own syncs (its inline checkpoint, the log's header when it
            // starts the log over) never stall: the stall waits for the writer.
            StallingSyncVFS.stall.withLock { stall in
                stall = { file in
                    guard file == path + "-wal",
                        DispatchQueue.getSpecific(key: BackgroundCheckpointer.queueKey) == true,
                        progress.stalled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
                    else { return }
                    let deadline = ContinuousClock.now + .seconds(10)
                    while checkpointer.inlineCheckpoints == 0, !progress.writesDone.load(ordering: .acquiring),
                        ContinuousClock.now < deadline
                    {
                        usleep(1000)  // polls the two conditions; the stall itself is the fault injected
                    }
                }
            }
            defer { StallingSyncVFS.stall.withLock { $0 = nil } }
            var largest: Int64 = 0
            for _ in 0..<1500 {  // three pages each: the log's limit twice over
                try await store.rawExecute("INSERT INTO ballast VALUES (zeroblob(10000))")
                largest = max(largest, fileSize(path + "-wal"))
            }
            progress.writesDone.store(true, ordering: .releasing)
            let stalled = progress.stalled.load(ordering: .relaxed)
            #expect(stalled, "no background checkpoint synced the log")
            #expect(checkpointer.inlineCheckpoints >= 1, "no commit waited for the stalled checkpoint")
            #expect(largest <= Int64(limit), "the log reached \(largest) bytes")
        }
    }
}

/// What the stalled sync of ``WALSizeTests/slowDiskHoldsTheWriterNotTheLog()`` waits on.
private final class StallProgress: Sendable {
    let stalled = Atomic<Bool>(false)
    let writesDone = Atomic<Bool>(false)
}

extension JobStore {
    func insertFinishedRuns(_ count: Int, job name: String, base: UnixMicros = 0) async throws {
        try await sqlite.insertFinishedRuns(count, job: name, base: base)
    }
}

extension SQLiteJobStore {
    /// Inserts `count` finished runs of job `name` (ids in order), finished at 1, 2, … `count`
    /// microseconds after `base`, each with 200 bytes of output.
    func insertFinishedRuns(_ count: Int, job name: String, base: UnixMicros = 0) throws {
        let jobID = try findJob(named: name)?.id
        try connection.write {
            try connection.execute(
                """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at, outcome, output)
                SELECT ?, ?, 1, ? + i, ? + i, ? + i, 'ok', hex(zeroblob(100)) FROM n
                """,
                [.integer(Int64(count)), .int(jobID), .text(name), .integer(base), .integer(base), .integer(base)]
            )
        }
    }
}

@Suite("Pruning returns the space to the file system", .timeLimit(.minutes(1)))
struct PruneSpaceTests {
    @Test("a new database is created with incremental auto-vacuum")
    func newDatabaseIsIncremental() async throws {
        try await withTemporaryDatabase { store, _ in
            let mode = try await store.rawInt("PRAGMA auto_vacuum")
            #expect(mode == 2, "PRAGMA auto_vacuum is \(mode.map(String.init) ?? "nil"), not INCREMENTAL (2)")
        }
    }

    @Test("prune shrinks the file: no free pages are left, and the file on disk is smaller")
    func pruneShrinksTheFile() async throws {
        try await withTemporaryDatabase { store, path in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(1))))
            try await store.insertFinishedRuns(20_000, job: "j")
            // Everything into the database file (busy while the background checkpointer is at it).
            try await waitUntil("a checkpoint copies the whole log into the file", timeout: .seconds(10)) {
                try await store.rawRow("PRAGMA wal_checkpoint(TRUNCATE)").first == 0
            }
            let full = try await store.storageSize()
            let fullOnDisk = fileSize(path)
            #expect(full.pages > 1000, "\(full)")

            #expect(try await store.prune(finishedBefore: 19_001) == 19_000)
            let pruned = try await store.storageSize()
            #expect(pruned.freePages == 0, "\(pruned)")
            #expect(pruned.pages * 10 < full.pages, "before \(full), after \(pruned)")
            #expect(fileSize(path) * 5 < fullOnDisk, "the file on disk: \(fullOnDisk) then \(fileSize(path)) bytes")
            #expect(try await store.history(HistoryQuery(job: "j", limit: 5000)).count == 1000)
        }
    }

    @Test("a database created without auto-vacuum is switched by its first prune, and shrinks")
    func oldDatabaseSwitchesAtFirstPrune() async throws {
        try await withTemporaryDatabase { store, _ in
            // As a database created by an earlier version.
            try await store.rawExecute("PRAGMA auto_vacuum=NONE")
            try await store.rawExecute("VACUUM")
            #expect(try await store.rawInt("PRAGMA auto_vacuum") == 0)
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(1))))
            try await store.insertFinishedRuns(10_000, job: "j")
            let full = try await store.storageSize()

            #expect(try await store.prune(finishedBefore: 9_001) == 9_000)
            let pruned = try await store.storageSize()
            #expect(try await store.rawInt("PRAGMA auto_vacuum") == 2)
            #expect(pruned.freePages == 0, "\(pruned)")
            #expect(pruned.pages * 5 < full.pages, "before \(full), after \(pruned)")
            #expect(try await store.integrityCheck() == ["ok"])
        }
    }

    @Test("prune never deletes a run in flight, and keeps the counters")
    func pruneKeepsRunsInFlight() async throws {
        try await withTemporaryDatabase { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(1))))
            try await store.insertFinishedRuns(100, job: "j")
            try await store.rawExecute(
                "INSERT INTO runs (job_name, attempt, scheduled_for, started_at, outcome) VALUES ('j', 1, 0, 0, 'running')"
            )
            try await store.rawExecute("UPDATE jobs SET run_count = 100, ok_count = 100 WHERE name = 'j'")
            #expect(try await store.prune(finishedBefore: .max) == 100)
            let left = try await store.history(HistoryQuery(job: "j"))
            #expect(left.map(\.outcome) == [.running])
            let job = try #require(try await store.job(named: "j"))
            #expect(job.runCount == 100 && job.okCount == 100)
        }
    }
}

@Suite("History retention", .timeLimit(.minutes(1)))
struct HistoryRetentionTests {
    static let day: Int64 = 86_400_000_000

    @Test("runs older than the age are deleted; younger ones, runs in flight and counters stay")
    func retentionByAge() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(1))))
            // 40 runs, one a day, finished 40 … 1 days ago.
            for age in stride(from: 40, through: 1, by: -1) {
                try await store.insertFinishedRuns(1, job: "j", base: newYear2026 - Int64(age) * Self.day)
            }
            try await store.rawExecute(
                "INSERT INTO runs (job_name, attempt, scheduled_for, started_at, outcome) VALUES ('j', 1, ?, ?, 'running')",
                [.integer(newYear2026 - 50 * Self.day), .integer(newYear2026 - 50 * Self.day)]
            )
            try await store.rawExecute("UPDATE jobs SET run_count = 40, ok_count = 40 WHERE name = 'j'")
            try await store.rawExecute("INSERT INTO run_totals (outcome, count) VALUES ('ok', 40)")

            let result = try await store.applyRetention(.standard, now: clock.now(), batchSize: 7)
            #expect(result.deletedRuns == 10)
            let left = try await store.history(HistoryQuery(job: "j", limit: 100))
            #expect(left.filter { $0.outcome == .ok }.count == 30)
            #expect(left.filter { $0.outcome == .ok }.allSatisfy { $0.finishedAt! >= newYear2026 - 30 * Self.day })
            #expect(left.filter { $0.outcome == .running }.count == 1)
            let job = try #require(try await store.job(named: "j"))
            #expect(job.runCount == 40 && job.okCount == 40)
            #expect(try await store.status().runsByOutcome[.ok] == 40)
        }
    }

    @Test("each job keeps its newest runs up to the cap; a removed job's history is left to the age limit")
    func retentionPerJob() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            for name in ["busy", "quiet", "gone"] {
                try await store.add(JobDefinition(name: name, action: .handler("tick"), schedule: .every(.seconds(1))))
            }
            try await store.insertFinishedRuns(120, job: "busy", base: newYear2026 - 1_000_000)
            try await store.insertFinishedRuns(30, job: "quiet", base: newYear2026 - 1_000_000)
            try await store.insertFinishedRuns(80, job: "gone", base: newYear2026 - 1_000_000)
            // Run counts as the runner keeps them: never below the history's rows.
            try await store.rawExecute(
                "UPDATE jobs SET run_count = (SELECT count(*) FROM runs WHERE runs.job_id = jobs.id)")
            try await store.remove("gone")
            let newestBusy = try await store.history(HistoryQuery(job: "busy", limit: 50)).map(\.id)

            let retention = HistoryRetention(maxAge: nil, maxRunsPerJob: 50)
            let result = try await store.applyRetention(retention, now: clock.now(), batchSize: 16)
            #expect(result.deletedRuns == 70)
            #expect(try await store.history(HistoryQuery(job: "busy", limit: 1000)).map(\.id) == newestBusy)
            #expect(try await store.history(HistoryQuery(job: "quiet", limit: 1000)).count == 30)
            #expect(try await store.rawInt("SELECT count(*) FROM runs WHERE job_name = 'gone'") == 80)
            #expect(try await store.job(named: "busy")?.runCount == 120)
            // A second pass finds nothing more to do.
            #expect(try await store.applyRetention(retention, now: clock.now()).deletedRuns == 0)
        }
    }

    @Test("the cap finds jobs over it among many, past the first chunk of the jobs table")
    func retentionPerJobAmongMany() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.addMany(
                (0..<700).map {
                    JobDefinition(name: "job-\($0)", action: .handler("tick"), schedule: .every(.seconds(60)))
                })
            for name in ["job-3", "job-300", "job-650"] {
                try await store.insertFinishedRuns(40, job: name, base: newYear2026 - 1_000_000)
            }
            try await store.insertFinishedRuns(5, job: "job-400", base: newYear2026 - 1_000_000)
            try await store.rawExecute(
                "UPDATE jobs SET run_count = (SELECT count(*) FROM runs WHERE runs.job_id = jobs.id)")
            let result = try await store.applyRetention(
                HistoryRetention(maxAge: nil, maxRunsPerJob: 10), now: clock.now(), batchSize: 7)
            #expect(result.deletedRuns == 3 * 30)
            for name in ["job-3", "job-300", "job-650"] {
                #expect(try await store.history(HistoryQuery(job: name, limit: 100)).count == 10, "\(name)")
            }
            #expect(try await store.history(HistoryQuery(job: "job-400", limit: 100)).count == 5)
        }
    }

    @Test("a runner applies its retention at its first heartbeat, then every interval, on its clock")
    func runnerAppliesRetention() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(3600))))
            try await store.insertFinishedRuns(5, job: "j", base: newYear2026 - 2 * 3_600_000_000)
            var configuration = manualRunnerConfiguration(heartbeat: .seconds(1))
            configuration.historyRetention = HistoryRetention(
                maxAge: .seconds(3600), maxRunsPerJob: nil, interval: .seconds(60))
            let runner = JobRunner(store: store, configuration: configuration, clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                await clock.waitUntilSleeping(count: 2)
                clock.advance(by: .seconds(1))  // the first heartbeat
                let first = await events.next { if case .historyPruned = $0 { true } else { false } }
                if case .historyPruned(let runs, _)? = first {
                    #expect(runs == 5)
                } else {
                    Issue.record("no first pass: \(String(describing: first))")
                }
                #expect(try await store.rawInt("SELECT count(*) FROM runs") == 0)

                // Old runs again; the next pass comes an interval after the first.
                try await store.insertFinishedRuns(3, job: "j", base: newYear2026 - 2 * 3_600_000_000)
                clock.advance(by: .seconds(60))
                let second = await events.next { if case .historyPruned = $0 { true } else { false } }
                if case .historyPruned(let runs, _)? = second {
                    #expect(runs == 3)
                } else {
                    Issue.record("no second pass: \(String(describing: second))")
                }
                #expect(try await store.rawInt("SELECT count(*) FROM runs") == 0)
            }
            #expect(try await store.job(named: "j")?.runCount == 0)
        }
    }
}
