#if PostgreSQL
    import JobRunner
    import JobRunnerPostgres
    import Logging
    import PostgresNIO
    import Testing

    /// History, status, runner lists, drains, the run cursor and history size on PostgreSQL, with runs
    /// and runners written as raw rows (the claim, finish and runner calls are tested by the
    /// conformance suite).
    @Suite struct PostgresQueriesTests {
        static let t0: UnixMicros = 1_767_225_600_000_000

        /// A fresh database and a store on it, closed and dropped afterwards whatever happened.
        func withStore(
            _ body: (PostgresJobStore, PostgresClient, ManualJobClock) async throws -> Void
        ) async throws {
            try await PostgresTestServer.withDatabase { url in
                let clock = ManualJobClock(now: Self.t0)
                let store = try await PostgresJobStore.open(url: url, clock: clock)
                do {
                    try await body(store, store.client, clock)
                } catch {
                    await store.close()
                    throw error
                }
                await store.close()
            }
        }

        func addJob(_ store: PostgresJobStore, _ name: String, queue: String = "default") async throws -> JobRecord {
            try await store.add(
                JobDefinition(
                    name: name, queue: queue, action: .handler("tick"), schedule: .every(.seconds(60)),
                    initialDelay: .zero),
                replace: false)
        }

        /// Inserts a run row and returns its id.
        @discardableResult
        func insertRun(
            _ connection: PostgresConnection, job: JobRecord, runner: Int64? = nil, outcome: RunOutcome = .ok,
            startedAt: UnixMicros = PostgresQueriesTests.t0,
            finishedAt: UnixMicros? = PostgresQueriesTests.t0 + 1
        ) async throws -> Int64 {
            let finished = outcome == .running ? nil : finishedAt
            let rows = try await connection.query(
                """
                INSERT INTO runs (job_id, job_name, queue, attempt, scheduled_for, started_at, finished_at, runner_id,
                    outcome)
                VALUES (\(job.id), \(job.definition.name), \(job.definition.queue), \(Int32(1)), \(startedAt), \(startedAt),
                    \(finished), \(runner), \(outcome.rawValue))
                RETURNING id
                """, logger: Self.logger)
            for try await id in rows.decode(Int64.self) { return id }
            throw TestFailure("no id returned")
        }

        @discardableResult
        func insertRun(
            _ client: PostgresClient, job: JobRecord, runner: Int64? = nil, outcome: RunOutcome = .ok,
            startedAt: UnixMicros = PostgresQueriesTests.t0,
            finishedAt: UnixMicros? = PostgresQueriesTests.t0 + 1
        ) async throws -> Int64 {
            try await client.withConnection { connection in
                try await insertRun(
                    connection, job: job, runner: runner, outcome: outcome, startedAt: startedAt,
                    finishedAt: finishedAt)
            }
        }

        func finishRun(_ client: PostgresClient, _ id: Int64, outcome: RunOutcome = .ok, at instant: UnixMicros)
            async throws
        {
            try await client.query(
                "UPDATE runs SET outcome = \(outcome.rawValue), finished_at = \(instant) WHERE id = \(id)",
                logger: Self.logger)
        }

        func insertRunner(_ client: PostgresClient, state: RunnerState = .running, pid: Int32 = 1) async throws
            -> Int64
        {
            for try await id in try await client.query(
                """
                INSERT INTO runners (host, pid, started_at, heartbeat_at, lease_us, state, concurrency)
                VALUES (\("test-host"), \(pid), \(Self.t0), \(Self.t0), \(Int64(60_000_000)), \(state.rawValue),
                    \(Int32(4)))
                RETURNING id
                """, logger: Self.logger
            ).decode(Int64.self) {
                return id
            }
            throw TestFailure("no runner id returned")
        }

        func scalar(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int64? {
            for try await value in try await client.query(query, logger: Self.logger).decode(Int64?.self) {
                return value
            }
            return nil
        }

        static let logger = Logger(label: "PostgresQueriesTests")

        struct TestFailure: Error, CustomStringConvertible {
            var description: String
            init(_ description: String) { self.description = description }
        }

        // MARK: History

        @Test func historyFiltersAndOrder() async throws {
            try await withStore { store, client, _ in
                let a = try await addJob(store, "a")
                let b = try await addJob(store, "b")
                let a1 = try await insertRun(client, job: a, outcome: .ok, startedAt: Self.t0)
                let b1 = try await insertRun(client, job: b, outcome: .failed, startedAt: Self.t0 + 10)
                let a2 = try await insertRun(client, job: a, outcome: .failed, startedAt: Self.t0 + 20)
                let a3 = try await insertRun(client, job: a, outcome: .running, startedAt: Self.t0 + 30)

                #expect(try await store.history(HistoryQuery()).map(\.id) == [a3, a2, b1, a1], "newest first")
                #expect(try await store.history(HistoryQuery(limit: 2)).map(\.id) == [a3, a2])
                #expect(try await store.history(HistoryQuery(limit: -1)).isEmpty)
                #expect(try await store.history(HistoryQuery(job: "a")).map(\.id) == [a3, a2, a1])
                #expect(try await store.history(HistoryQuery(jobID: b.id)).map(\.id) == [b1])
                #expect(try await store.history(HistoryQuery(since: Self.t0 + 10)).map(\.id) == [a3, a2, b1])
                #expect(try await store.history(HistoryQuery(outcome: .failed)).map(\.id) == [a2, b1])
                #expect(try await store.history(HistoryQuery(job: "a", outcome: .failed)).map(\.id) == [a2])
                #expect(try await store.history(HistoryQuery(job: "a", outcome: .timeout)).isEmpty)

                await #expect(throws: JobRunnerError.self) { try await store.history(HistoryQuery(job: "nope")) }
                _ = try await addJob(store, "quiet")
                #expect(try await store.history(HistoryQuery(job: "quiet")).isEmpty, "a job without runs")

                let run = try #require(try await store.run(id: a2))
                #expect(run.jobName == "a")
                #expect(run.jobID == a.id)
                #expect(run.outcome == .failed)
                #expect(run.startedAt == Self.t0 + 20)
                #expect(run.finishedAt == Self.t0 + 1)
                #expect(try await store.run(id: a3)?.finishedAt == nil)
                #expect(try await store.run(id: 999_999) == nil)
            }
        }

        // MARK: Status, due, runners

        @Test func statusSumsShardsAndSurvivesPruning() async throws {
            try await withStore { store, client, clock in
                // Byte order: upper case before lower case.
                let lower = try await addJob(store, "alpha")
                _ = try await addJob(store, "Zulu", queue: "other")
                _ = try await store.pause("Zulu")
                let runner = try await insertRunner(client)
                _ = try await insertRunner(client, state: .draining, pid: 2)
                _ = try await insertRunner(client, state: .stopped, pid: 3)
                for (outcome, shard, count) in [("ok", 0, 3), ("ok", 5, 4), ("failed", 1, 2), ("timeout", 15, 1)] {
                    try await client.query(
                        """
                        INSERT INTO run_totals (outcome, shard, count)
                        VALUES (\(outcome), \(Int16(shard)), \(Int64(count)))
                        """, logger: Self.logger)
                }
                try await client.query(
                    "UPDATE jobs SET run_count = \(Int64(9)) WHERE id = \(lower.id)", logger: Self.logger)
                for _ in 0..<3 { try await insertRun(client, job: lower, runner: runner, outcome: .ok) }
                let inFlight = try await insertRun(client, job: lower, runner: runner, outcome: .running)
                try await client.query(
                    "UPDATE jobs SET running_run_id = \(inFlight) WHERE id = \(lower.id)", logger: Self.logger)

                let status = try await store.status(perJobLimit: nil)
                #expect(status.runsByOutcome == [.ok: 7, .failed: 2, .timeout: 1])
                #expect(status.totalRuns == 10)
                #expect(status.jobsByState == [.active: 1, .paused: 1])
                #expect(status.inFlight == 1)
                #expect(status.due == 0, "the active job is running, the other paused")
                #expect(status.liveRunners.map(\.state) == [.running, .draining])
                #expect(status.perJob.map(\.name) == ["Zulu", "alpha"])
                #expect(status.perJob.map(\.runCount) == [0, 9])
                #expect(try await store.status(perJobLimit: 1).perJob.map(\.name) == ["Zulu"])
                #expect(try await store.liveRunners().map(\.id) == status.liveRunners.map(\.id))
                #expect(try await store.runners(limit: 2).map(\.pid) == [3, 2], "newest first")
                #expect(try await store.runners(limit: 10).count == 3)

                #expect(try await store.prune(finishedBefore: Self.t0 + 3_600_000_000, batchSize: 2) == 3)
                #expect(try await store.status(perJobLimit: nil) == status, "totals survive pruning")
                #expect(try await store.job(named: "alpha")?.runCount == 9)
                #expect(try await store.history(HistoryQuery()).map(\.id) == [inFlight], "in flight is kept")

                _ = try await store.resume("Zulu")
                #expect(try await store.status(perJobLimit: nil).due == 1)
                clock.advance(by: .seconds(1))
                #expect(try await store.dueCount(now: clock.now(), limit: 10) == 1)
            }
        }

        @Test func dueCountStopsAtTheLimitAcrossQueues() async throws {
            try await withStore { store, _, clock in
                for index in 0..<5 { _ = try await addJob(store, "q1-\(index)", queue: "q1") }
                for index in 0..<4 { _ = try await addJob(store, "q2-\(index)", queue: "q2") }
                _ = try await addJob(store, "paused", queue: "q2")
                _ = try await store.pause("paused")
                let now = clock.now()
                #expect(try await store.dueCount(now: now, limit: 100) == 9)
                #expect(try await store.dueCount(now: now, limit: 7) == 7)
                #expect(try await store.dueCount(now: now, limit: 3) == 3)
                #expect(try await store.dueCount(now: now, limit: 0) == 0)
                #expect(try await store.dueCount(now: now - 1, limit: 100) == 0, "not due before their time")
            }
        }

        // MARK: Pruning and retention

        @Test func pruneInBatchesKeepsRunsInFlightAndCounters() async throws {
            try await withStore { store, client, _ in
                let job = try await addJob(store, "p")
                var ids: [Int64] = []
                for index in 0..<7 {
                    ids.append(try await insertRun(client, job: job, finishedAt: Self.t0 + Int64(index) * 1000))
                }
                let running = try await insertRun(client, job: job, outcome: .running)
                try await client.query(
                    "INSERT INTO run_totals (outcome, shard, count) VALUES ('ok', 3, 7)", logger: Self.logger)
                let before = try await store.status(perJobLimit: nil)

                // Finished before t0 + 5000: the first five, in batches of two.
                #expect(try await store.prune(finishedBefore: Self.t0 + 5000, batchSize: 2) == 5)
                #expect(try await store.history(HistoryQuery()).map(\.id) == [running, ids[6], ids[5]])
                #expect(try await store.prune(finishedBefore: Self.t0 + 5000, batchSize: 2) == 0)
                #expect(try await store.prune(finishedBefore: Self.t0 + 1_000_000, batchSize: 100) == 2)
                #expect(try await store.history(HistoryQuery()).map(\.id) == [running])
                #expect(try await store.status(perJobLimit: nil) == before)
                #expect(try await scalar(client, "SELECT id FROM run_id_floor") == ids[6])
            }
        }

        @Test func retentionByCountThenByAge() async throws {
            try await withStore { store, client, clock in
                let q = try await addJob(store, "q")
                let r = try await addJob(store, "r")
                let idle = try await addJob(store, "idle")
                var qRuns: [Int64] = []
                for index in 0..<6 {
                    qRuns.append(try await insertRun(client, job: q, finishedAt: Self.t0 + Int64(index) * 1_000_000))
                }
                let qRunning = try await insertRun(client, job: q, outcome: .running)
                var rRuns: [Int64] = []
                for index in 0..<3 {
                    rRuns.append(try await insertRun(client, job: r, finishedAt: Self.t0 + Int64(index) * 1_000_000))
                }
                let idleRun = try await insertRun(client, job: idle)
                // Run counts as finish keeps them (the one in flight not counted yet).
                for (job, count) in [(q, 6), (r, 3), (idle, 1)] {
                    try await client.query(
                        "UPDATE jobs SET run_count = \(Int64(count)) WHERE id = \(job.id)", logger: Self.logger)
                }
                let jobsBefore = try await store.jobs(queue: nil)

                let byCount = try await store.applyRetention(
                    HistoryRetention(maxAge: nil, maxRunsPerJob: 2), now: clock.now(), batchSize: 1)
                // q keeps its run in flight and its newest finished run; r its two newest.
                #expect(byCount.deletedRuns == 5 + 1)
                #expect(byCount.freedBytes >= 0)
                #expect(try await store.history(HistoryQuery(job: "q")).map(\.id) == [qRunning, qRuns[5]])
                #expect(try await store.history(HistoryQuery(job: "r")).map(\.id) == [rRuns[2], rRuns[1]])
                #expect(try await store.history(HistoryQuery(job: "idle")).map(\.id) == [idleRun])

                // By age: runs that finished more than 1.5 s before t0 + 5 s.
                let byAge = try await store.applyRetention(
                    HistoryRetention(maxAge: .milliseconds(1500), maxRunsPerJob: nil), now: Self.t0 + 5_000_000,
                    batchSize: 1)
                #expect(byAge.deletedRuns == 3, "r's two and idle's")
                #expect(try await store.history(HistoryQuery()).map(\.id) == [qRunning, qRuns[5]])
                #expect(try await store.jobs(queue: nil) == jobsBefore, "counters survive retention")
            }
        }

        @Test func storageSizeAndVacuum() async throws {
            try await withStore { store, client, _ in
                // The store's VACUUM skips `runs` while autovacuum is at it (SKIP_LOCKED: the space is then
                // autovacuum's to give back, later), and 2,000 inserted rows may start autovacuum right
                // then: this database's `runs` is left to the store's VACUUM alone.
                try await client.query("ALTER TABLE runs SET (autovacuum_enabled = false)", logger: Self.logger)
                let job = try await addJob(store, "big")
                try await client.query(
                    """
                    INSERT INTO runs (job_id, job_name, queue, attempt, scheduled_for, started_at, finished_at, outcome,
                        output)
                    SELECT \(job.id), 'big', 'default', 1, 0, 0, 1, 'ok', repeat('x', 500) FROM generate_series(1, 2000)
                    """, logger: Self.logger)
                let before = try await store.storageSize()
                #expect(before.pageSize == 8192)
                #expect(before.pages > 100, "2000 runs of 500 bytes")
                #expect(before.bytes == Int64(before.pageSize) * Int64(before.pages))
                #expect(before.freePages == 0)
                #expect(try await store.prune(finishedBefore: 2, batchSize: 500) == 2000)
                // A plain VACUUM gives back the empty pages at the end of `runs`: here, all of them.
                // (Outside a transaction: it would fail in one.)
                let after = try await store.storageSize()
                #expect(after.bytes < before.bytes, "\(before) → \(after)")
                #expect(try await store.reclaimSpace() >= 0)
            }
        }

        // MARK: Drains

        @Test func drainRequestAndProgress() async throws {
            try await withStore { store, client, clock in
                let job = try await addJob(store, "d")
                let a = try await insertRunner(client, pid: 1)
                let b = try await insertRunner(client, state: .draining, pid: 2)
                let gone = try await insertRunner(client, state: .stopped, pid: 3)
                let earlier = try await insertRun(client, job: job, runner: a, finishedAt: clock.now() - 1)
                let running = try await insertRun(client, job: job, runner: a, outcome: .running)
                _ = try await insertRun(client, job: job, runner: b, outcome: .running)
                _ = try await insertRun(client, job: job, runner: gone, outcome: .running)

                // Listen on the wake channel on a connection of our own: the request notifies it.
                let request = try await client.withConnection { connection in
                    try await connection.listen(on: "jobrunner_wake") { notifications in
                        let request = try await store.requestDrain(grace: .seconds(7))
                        var woken = false
                        for try await _ in notifications {
                            woken = true
                            break
                        }
                        #expect(woken, "the request wakes the runners")
                        return request
                    }
                }
                #expect(request.requestedAt == clock.now())
                #expect(request.runners.map(\.id) == [a, b])
                var orders: [[Int64]] = []
                for try await (runner, grace, requestedAt, handled) in try await client.query(
                    "SELECT runner_id, grace_us, requested_at, handled_at FROM control WHERE kind = 'drain' ORDER BY id",
                    logger: Self.logger
                ).decode((Int64, Int64?, Int64, Int64?).self) {
                    orders.append([runner, grace ?? -1, requestedAt, handled ?? -1])
                }
                #expect(orders == [[a, 7_000_000, clock.now(), -1], [b, 7_000_000, clock.now(), -1]])
                let noGrace = try await store.requestDrain(grace: nil)
                #expect(noGrace.runners.count == 2)
                #expect(
                    try await scalar(client, "SELECT count(*) FROM control WHERE grace_us IS NULL") == 2)

                var progress = try await store.drainProgress(runnerIDs: [a, b], since: request.requestedAt)
                #expect(progress.live.map(\.id) == [a, b])
                #expect(progress.inFlight == 2, "not the stopped runner's")
                #expect(progress.outcomes.isEmpty, "run \(earlier) ended before the request")

                try await finishRun(client, running, outcome: .interrupted, at: request.requestedAt + 5)
                try await client.query(
                    "UPDATE runners SET state = 'stopped' WHERE id = \(a)", logger: Self.logger)
                progress = try await store.drainProgress(runnerIDs: [a, b], since: request.requestedAt)
                #expect(progress.live.map(\.id) == [b])
                #expect(progress.inFlight == 1)
                #expect(progress.outcomes == [.interrupted: 1])
                #expect(try await store.drainProgress(runnerIDs: [], since: 0).inFlight == 0)

                // No live runner: nothing asked.
                try await client.query("UPDATE runners SET state = 'stopped'", logger: Self.logger)
                #expect(try await store.requestDrain(grace: nil).runners.isEmpty)
            }
        }

        // MARK: Following the history

        @Test func cursorReportsEachRunOnceInFinishOrder() async throws {
            try await withStore { store, client, _ in
                let a = try await addJob(store, "a")
                let b = try await addJob(store, "b")
                let before = try await insertRun(client, job: a)
                let runA = try await insertRun(client, job: a, outcome: .running)
                let runB = try await insertRun(client, job: b, outcome: .running)

                var cursor = try await store.runCursor(job: nil)
                #expect(cursor.lastID == runB)
                #expect(cursor.pending == [runA, runB])
                let onlyA = try await store.runCursor(job: "a")
                #expect(onlyA.pending == [runA])
                var (runs, next) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.isEmpty)
                cursor = next

                try await finishRun(client, runB, at: Self.t0 + 100)
                (runs, next) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.map(\.id) == [runB])
                cursor = next

                // A newer run of b finishes before a, in flight all along: reported in finish order.
                let again = try await insertRun(client, job: b, outcome: .running)
                try await finishRun(client, again, at: Self.t0 + 200)
                try await finishRun(client, runA, at: Self.t0 + 300)
                (runs, next) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.map(\.id) == [again, runA])
                cursor = next
                #expect(cursor.pending.isEmpty)
                #expect(cursor.lastID == again)
                (runs, _) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.isEmpty)

                (runs, _) = try await store.finishedRuns(after: onlyA, limit: 100)
                #expect(runs.map(\.id) == [runA], "following one job sees only its runs")

                // Small pages: the rest comes next time, each run once.
                var paged = RunCursor(lastID: 0, pending: [], job: nil)
                var seen: [Int64] = []
                for _ in 0..<6 {
                    let page = try await store.finishedRuns(after: paged, limit: 1)
                    seen += page.runs.map(\.id)
                    paged = page.cursor
                }
                #expect(seen.sorted() == [before, runA, runB, again].sorted())
                #expect(paged.lastID == again)
            }
        }

        /// Claims commit concurrently on PostgreSQL: a run can become visible after one with a higher
        /// id. Such runs are neither missed nor reported twice, whether their claim commits after the
        /// cursor was taken or after a read moved the cursor past their id; an id whose claim rolls
        /// back is forgotten once its transaction has ended.
        @Test func runsCommittedOutOfIdOrderAreNotMissed() async throws {
            try await withStore { store, client, _ in
                let a = try await addJob(store, "a")
                let b = try await addJob(store, "b")

                // 1. Below the cursor: run `late` takes its id, then `early` commits a higher one, and
                //    the cursor is taken before `late` commits.
                let (late, cursorAtStart) = try await client.withConnection { slow in
                    try await slow.query("BEGIN", logger: Self.logger)
                    let late = try await insertRun(slow, job: a, outcome: .running)
                    let early = try await insertRun(client, job: b, outcome: .running)
                    #expect(early > late)
                    let cursor = try await store.runCursor(job: nil)
                    #expect(cursor.lastID == early)
                    #expect(cursor.pending == [early])
                    #expect(cursor.unsettled[late] != nil, "an id below the highest, not visible yet")
                    try await slow.query("COMMIT", logger: Self.logger)
                    return (late, cursor)
                }
                var (runs, cursor) = try await store.finishedRuns(after: cursorAtStart, limit: 100)
                #expect(runs.isEmpty)
                #expect(cursor.pending.contains(late), "seen in flight now")
                #expect(cursor.unsettled[late] == nil)
                try await finishRun(client, late, at: Self.t0 + 10)
                (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.map(\.id) == [late])

                // 2. Above the cursor, and already finished by the time it is seen: `hidden` takes
                //    its id, a higher one is read (moving the cursor past it), then `hidden` commits
                //    finished.
                let hidden = try await client.withConnection { slow in
                    try await slow.query("BEGIN", logger: Self.logger)
                    let hidden = try await insertRun(slow, job: a, outcome: .ok, finishedAt: Self.t0 + 20)
                    let visible = try await insertRun(client, job: b, outcome: .ok, finishedAt: Self.t0 + 30)
                    (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                    #expect(runs.map(\.id) == [visible])
                    #expect(cursor.lastID == visible)
                    #expect(cursor.unsettled[hidden] != nil)
                    try await slow.query("COMMIT", logger: Self.logger)
                    return hidden
                }
                (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.map(\.id) == [hidden])
                #expect(cursor.unsettled[hidden] == nil)
                (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.isEmpty, "each run once")

                // 3. A claim that rolls back leaves an id that never comes: forgotten once its
                //    transaction has ended.
                let rolledBack = try await client.withConnection { slow in
                    try await slow.query("BEGIN", logger: Self.logger)
                    let id = try await insertRun(slow, job: a, outcome: .running)
                    let visible = try await insertRun(client, job: b, outcome: .running)
                    (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                    #expect(runs.isEmpty)
                    #expect(cursor.pending.contains(visible))
                    #expect(cursor.unsettled[id] != nil)
                    try await slow.query("ROLLBACK", logger: Self.logger)
                    return id
                }
                (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.isEmpty)
                // Transactions of other tests on the same server may hold the horizon back for a
                // moment; each read looks again until they have ended.
                var reads = 0
                while cursor.unsettled[rolledBack] != nil && reads < 1000 {
                    (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                    #expect(runs.isEmpty)
                    reads += 1
                }
                #expect(cursor.unsettled[rolledBack] == nil)

                // 4. Following one job: an out-of-order run of another job is not reported.
                let followA = try await store.runCursor(job: "a")
                let other = try await client.withConnection { slow in
                    try await slow.query("BEGIN", logger: Self.logger)
                    let id = try await insertRun(slow, job: b, outcome: .ok)
                    let mine = try await insertRun(client, job: a, outcome: .ok, finishedAt: Self.t0 + 40)
                    (runs, cursor) = try await store.finishedRuns(after: followA, limit: 100)
                    #expect(runs.map(\.id) == [mine])
                    try await slow.query("COMMIT", logger: Self.logger)
                    return id
                }
                (runs, cursor) = try await store.finishedRuns(after: cursor, limit: 100)
                #expect(runs.isEmpty, "run \(other) is b's")
                #expect(cursor.unsettled[other] == nil)
            }
        }
    }
#endif
