#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    extension PostgresJobStore {
        /// The first key of the advisory lock a claim takes per queue it claims from (the second is
        /// the queue name's hash): two runners never count a queue's free places at once.
        static let queueLockKey: Int32 = 0x4A52_5155  // "JRQU"

        /// Claims due runs for `runnerID` in one round trip: the server-side function
        /// `jobrunner_claim` (migrations 6 and 8) runs the claim's statements in the server, and hands back
        /// what it could not decide without the schedule's arithmetic (a misfired occurrence whose
        /// policy needs the next slots computed): ``claimResolving(runnerID:clock:scope:)`` then
        /// claims those, with the slots left.
        ///
        /// Nine round trips per claim through postgres-nio cost 4–5 ms here; with one job due every
        /// millisecond and three runners, they fell behind (lateness p99 427 ms).
        package func claim(runnerID: Int64, clock: any JobClock, scope: ClaimScope) async throws -> ClaimBatch {
            let now = clock.now()
            let rows = try await read { connection in
                try await all(
                    """
                    SELECT c.end_alive, c.end_next_due, c.end_resolve, c.claim_run_id, c.claim_occurrence,
                        c.claim_scheduled_for, c.claim_triggered, \(unescaped: JobRow.jobColumns)
                    FROM jobrunner_claim(\(runnerID), \(now), \(scope.queues)::text[], \(scope.handlers)::text[],
                        \(Int32(clamping: scope.slots)), \(scope.misfireGrace), \(max(0, scope.lead))) AS c
                    CROSS JOIN LATERAL (SELECT (c.claim_job).*) AS j
                    """, on: connection, map: { try FunctionClaimRow($0, now: now) })
            }
            var batch = ClaimBatch(claims: [], nextDue: nil, skipped: 0)
            var resolve = false
            for row in rows {
                switch row {
                case .claim(let claim): batch.claims.append(claim)
                case .end(let alive, let nextDue, let needsResolving):
                    batch.runnerAlive = alive
                    batch.nextDue = nextDue
                    resolve = needsResolving
                }
            }
            guard batch.runnerAlive, resolve, scope.slots > batch.claims.count else { return batch }
            var rest = scope
            rest.slots = scope.slots - batch.claims.count
            let resolved = try await claimResolving(runnerID: runnerID, clock: clock, scope: rest)
            batch.claims += resolved.claims
            batch.skipped += resolved.skipped
            batch.nextDue = resolved.nextDue
            batch.runnerAlive = resolved.runnerAlive
            return batch
        }

        /// One row of `jobrunner_claim`: a claim, or the last row.
        private enum FunctionClaimRow {
            case claim(Claim)
            case end(alive: Bool, nextDue: UnixMicros?, resolve: Bool)

            init(_ row: PostgresStoreRow, now: UnixMicros) throws {
                guard let runID = try row.optionalInt64(3) else {
                    self = .end(alive: try row.bool(0), nextDue: try row.optionalInt64(1), resolve: try row.bool(2))
                    return
                }
                let job = try JobRow.decodeJob(OffsetRow(row: row, offset: 7))
                let triggered = try row.bool(6)
                let scheduledFor = try row.int64(5)
                self = .claim(
                    Claim(
                        runID: runID, jobID: job.id, jobName: job.definition.name, queue: job.definition.queue,
                        attempt: triggered ? 1 : job.attempt, occurrence: try row.int64(4),
                        scheduledFor: scheduledFor, startedAt: max(now, scheduledFor), action: job.definition.action,
                        payload: job.definition.payload, timeout: job.definition.timeout, triggered: triggered,
                        environment: job.definition.environment))
            }
        }

        /// A row read from column `offset` on, for the shared codecs.
        private struct OffsetRow: StoreRow {
            let row: PostgresStoreRow
            let offset: Int

            func int64(_ column: Int) throws -> Int64 { try row.int64(offset + column) }
            func optionalInt64(_ column: Int) throws -> Int64? { try row.optionalInt64(offset + column) }
            func string(_ column: Int) throws -> String { try row.string(offset + column) }
            func optionalString(_ column: Int) throws -> String? { try row.optionalString(offset + column) }
            func bool(_ column: Int) throws -> Bool { try row.bool(offset + column) }
            func optionalBytes(_ column: Int) throws -> [UInt8]? { try row.optionalBytes(offset + column) }
        }

        /// Claims due runs for `runnerID` in one READ COMMITTED transaction, from the client: every
        /// case, misfire policies included (``JobTransition/resolve(_:now:grace:)``). The reference
        /// for `jobrunner_claim`, which does the same in the server where no schedule arithmetic is
        /// needed.
        ///
        /// - The runner's row is read `FOR SHARE` first: a rescue that would declare it dead waits
        ///   for this claim to commit (and then abandons what it claimed), or has committed, and the
        ///   claim sees the runner dead and claims nothing.
        /// - `now` is read from `clock` after that, and bound: the due predicate compares indexed
        ///   columns with a value, never with a volatile function (an index condition, not a filter).
        /// - Each queue claimed from is locked with a transaction-level advisory lock, in name order,
        ///   so that its free places (its limit minus its runs in flight) are counted by one runner at
        ///   a time; job rows are taken `FOR NO KEY UPDATE SKIP LOCKED`, and READ COMMITTED re-checks
        ///   `running_run_id IS NULL` on the newest row version: one claim per occurrence.
        package func claimResolving(runnerID: Int64, clock: any JobClock, scope: ClaimScope) async throws
            -> ClaimBatch
        {
            let handlers = scope.handlers
            return try await write { connection in
                var batch = ClaimBatch(claims: [], nextDue: nil, skipped: 0)
                // The fence and the queues in one statement: the runner's row locked FOR SHARE, one
                // result row per queue it may claim from (none: a row with no queue).
                let rows = try await all(
                    """
                    SELECT r.state, q.name, q.concurrency FROM runners r
                    LEFT JOIN queues q ON NOT q.paused
                        AND (\(scope.queues)::text[] IS NULL OR q.name = ANY(\(scope.queues)))
                    WHERE r.id = \(runnerID)
                    ORDER BY q.name COLLATE "C"
                    FOR SHARE OF r
                    """, on: connection,
                    map: { (state: try $0.string(0), queue: try $0.optionalString(1), limit: try $0.optionalInt64(2)) })
                guard let state = rows.first?.state, state == "running" || state == "draining" else {
                    batch.runnerAlive = false
                    return batch
                }
                let now = clock.now()
                var eligible: [String: Int] = [:]  // queue -> its limit, then its free places
                for row in rows {
                    if let name = row.queue, let limit = row.limit { eligible[name] = Int(limit) }
                }
                guard !eligible.isEmpty else { return batch }
                let queueNames = eligible.keys.sorted()
                var slots = scope.slots

                // 1. The candidates, locked: manual triggers first (an operator is waiting for them),
                // then each queue's due jobs. SKIP LOCKED never waits: runners that lose the race for
                // a due job find it locked, take nothing and go on without touching the queue locks.
                let triggered = try await all(
                    """
                    SELECT \(unescaped: JobRow.jobColumns) FROM jobs
                    WHERE trigger_at IS NOT NULL AND trigger_at <= \(now) AND running_run_id IS NULL
                        AND queue = ANY(\(queueNames)) AND (kind = 'command' OR handler = ANY(\(handlers)))
                    ORDER BY trigger_at LIMIT \(slots) FOR NO KEY UPDATE SKIP LOCKED
                    """, on: connection
                ) { try JobRow.decodeJob($0) }
                // A triggered job may be due too: it is taken once, as triggered.
                let triggeredIDs = triggered.map(\.id)
                var due: [String: [JobRecord]] = [:]
                for queue in queueNames {
                    let jobs = try await all(
                        """
                        SELECT \(unescaped: JobRow.jobColumns) FROM jobs
                        WHERE queue = \(queue) AND state = 'active' AND running_run_id IS NULL
                            AND next_run_at IS NOT NULL AND next_run_at <= \(now + max(0, scope.lead))
                            AND (kind = 'command' OR handler = ANY(\(handlers)))
                            AND NOT (id = ANY(\(triggeredIDs)))
                        ORDER BY next_run_at LIMIT \(slots) FOR NO KEY UPDATE SKIP LOCKED
                        """, on: connection
                    ) { try JobRow.decodeJob($0) }
                    if !jobs.isEmpty { due[queue] = jobs }
                }

                // 2. The free places of the queues that have candidates, each counted under its
                // transaction-level advisory lock, taken in name order.
                let touched = Set(triggered.map(\.definition.queue)).union(due.keys).sorted()
                if !touched.isEmpty {
                    for name in touched {
                        try await execute(
                            "SELECT pg_advisory_xact_lock(\(Self.queueLockKey), hashtext(\(name)))", on: connection)
                    }
                    for (name, running) in try await all(
                        """
                        SELECT queue, count(*) FROM runs
                        WHERE outcome = 'running' AND queue = ANY(\(touched)) GROUP BY queue
                        """, on: connection, map: { (try $0.string(0), try $0.int(1)) })
                    {
                        eligible[name] = max(0, (eligible[name] ?? 0) - running)
                    }
                }

                // 3. What fits, written in one statement; candidates left over stay unclaimed (their
                // row locks end with the transaction).
                var pending: [PendingClaim] = []
                for job in triggered {
                    guard let free = eligible[job.definition.queue], free > 0, slots > 0 else { continue }
                    let at = job.triggerAt ?? now
                    pending.append(
                        PendingClaim(job: job, occurrence: job.occurrenceAt ?? at, scheduledFor: at, triggered: true))
                    eligible[job.definition.queue] = free - 1
                    slots -= 1
                }
                for queue in queueNames {
                    for job in due[queue] ?? [] {
                        guard let free = eligible[queue], free > 0, slots > 0 else { break }
                        switch JobTransition.resolve(job, now: now, grace: scope.misfireGrace) {
                        case .run(let occurrence):
                            let scheduledFor =
                                occurrence == job.occurrenceAt ? (job.nextRunAt ?? occurrence) : occurrence
                            pending.append(
                                PendingClaim(
                                    job: job, occurrence: occurrence, scheduledFor: scheduledFor, triggered: false))
                            eligible[queue] = free - 1
                            slots -= 1
                        case .skip(let next):
                            batch.skipped += 1
                            let nextDue = next.map { JobTransition.dueTime(for: $0, jitter: job.definition.jitter) }
                            try await execute(
                                """
                                UPDATE jobs SET occurrence_at = \(next), next_run_at = \(nextDue),
                                    state = CASE WHEN \(next)::bigint IS NULL THEN 'done' ELSE state END
                                WHERE id = \(job.id)
                                """, on: connection)
                        }
                    }
                }
                batch.claims = try await insertClaims(pending, runnerID: runnerID, now: now, on: connection)

                // 4. The next time there is something to claim, among queues with room (no locks): a
                // queue whose places were not counted had nothing due, and counts as having room.
                let open = queueNames.filter { (eligible[$0] ?? 0) > 0 }
                batch.nextDue = try await nextDue(queues: open, handlers: handlers, on: connection)
                return batch
            }
        }

        /// The earliest of ``dueTimes(queues:handlers:on:)``, or nil.
        private func nextDue(queues: [String], handlers: [String], on connection: PostgresConnection) async throws
            -> UnixMicros?
        {
            guard !queues.isEmpty else { return nil }
            return try await dueTimes(queues: queues, handlers: handlers, on: connection).min()
        }

        /// In one statement: each queue's earliest due job and the earliest trigger among them.
        ///
        /// Each queue's name is bound as a value, not joined from `queues`: with the name as a
        /// correlated column the planner estimates from the whole table, and with statistics taken
        /// when few jobs were active it scans `jobs_state` (every version of every 'active' row not
        /// yet vacuumed) and sorts: measured 210–750 ms per call after a burst of one-shot jobs,
        /// against 0.06 ms for the same lookup with the name bound (an index scan of `jobs_due`).
        /// `jobrunner_claim` looks up each queue the same way.
        private func dueTimes(queues: [String], handlers: [String], on connection: PostgresConnection) async throws
            -> [UnixMicros]
        {
            var sql = PostgresQuery.StringInterpolation(
                literalCapacity: 256 * (queues.count + 1), interpolationCount: 0)
            sql.appendLiteral("SELECT ")
            for queue in queues {
                sql.appendLiteral("(SELECT next_run_at FROM jobs WHERE queue = ")
                sql.appendInterpolation(queue)
                sql.appendLiteral(
                    """
                     AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL \
                    AND (kind = 'command' OR handler = ANY(
                    """)
                sql.appendInterpolation(handlers)
                sql.appendLiteral(")) ORDER BY next_run_at LIMIT 1), ")
            }
            sql.appendLiteral(
                "(SELECT trigger_at FROM jobs WHERE trigger_at IS NOT NULL AND running_run_id IS NULL AND queue = ANY(")
            sql.appendInterpolation(queues)
            sql.appendLiteral(") AND (kind = 'command' OR handler = ANY(")
            sql.appendInterpolation(handlers)
            sql.appendLiteral(")) ORDER BY trigger_at LIMIT 1)")
            let columns = queues.count + 1
            return try await first(PostgresQuery(stringInterpolation: sql), on: connection) { row in
                try (0..<columns).compactMap { try row.optionalInt64($0) }
            } ?? []
        }

        /// A due or triggered job the claim takes, before it is written.
        private struct PendingClaim {
            var job: JobRecord
            var occurrence: UnixMicros
            var scheduledFor: UnixMicros
            var triggered: Bool
        }

        /// Writes the claims of a batch in one statement: a run row for each (its id from the
        /// identity's sequence: JOB_RUN_ID and the fencing token), and each job marked in flight with
        /// its run. One round trip for the batch, not one per run.
        private func insertClaims(
            _ pending: [PendingClaim], runnerID: Int64, now: UnixMicros, on connection: PostgresConnection
        ) async throws -> [Claim] {
            guard !pending.isEmpty else { return [] }
            let jobIDs = pending.map(\.job.id)
            let names = pending.map(\.job.definition.name)
            let queues = pending.map(\.job.definition.queue)
            let attempts = pending.map { Int64($0.triggered ? 1 : $0.job.attempt) }
            let scheduled = pending.map(\.scheduledFor)
            let occurrences = pending.map(\.occurrence)
            let triggered = pending.map(\.triggered)
            var runIDs: [Int64: Int64] = [:]  // job id -> run id
            for (runID, jobID) in try await all(
                """
                WITH c AS (
                    SELECT * FROM unnest(\(jobIDs)::bigint[], \(names)::text[], \(queues)::text[],
                        \(attempts)::int[], \(scheduled)::bigint[], \(occurrences)::bigint[], \(triggered)::boolean[])
                        WITH ORDINALITY AS c(job_id, job_name, queue, attempt, scheduled_for, occurrence, triggered, ord)
                ),
                r AS (
                    INSERT INTO runs (job_id, job_name, queue, attempt, scheduled_for, started_at, runner_id,
                        outcome, triggered)
                    SELECT job_id, job_name, queue, attempt, scheduled_for, greatest(\(now), scheduled_for),
                        \(runnerID), 'running', triggered
                    FROM c ORDER BY ord
                    RETURNING id, job_id
                )
                UPDATE jobs SET running_run_id = r.id, last_started_at = greatest(\(now), c.scheduled_for),
                    trigger_at = CASE WHEN c.triggered THEN NULL ELSE jobs.trigger_at END,
                    occurrence_at = CASE WHEN c.triggered THEN jobs.occurrence_at ELSE c.occurrence END
                FROM r JOIN c ON c.job_id = r.job_id
                WHERE jobs.id = r.job_id
                RETURNING r.id, jobs.id
                """, on: connection, map: { (try $0.int64(0), try $0.int64(1)) })
            {
                runIDs[jobID] = runID
            }
            return try pending.map { claim in
                let job = claim.job
                guard let runID = runIDs[job.id] else {
                    throw JobRunnerError.database(
                        "job \(JobRunnerError.quoted(job.definition.name)) vanished during a claim")
                }
                return Claim(
                    runID: runID, jobID: job.id, jobName: job.definition.name, queue: job.definition.queue,
                    attempt: claim.triggered ? 1 : job.attempt, occurrence: claim.occurrence,
                    scheduledFor: claim.scheduledFor, startedAt: max(now, claim.scheduledFor),
                    action: job.definition.action,
                    payload: job.definition.payload, timeout: job.definition.timeout, triggered: claim.triggered,
                    environment: job.definition.environment)
            }
        }

        // MARK: Finish

        /// Records finished runs in one transaction of two statements whatever their number (four
        /// round trips with BEGIN and COMMIT): the runs (fenced), the totals and the jobs read and
        /// locked in id order in the first; the jobs written in the second. The lock order everywhere
        /// is runners, then runs, then jobs.
        ///
        /// A run no longer `running` under its runner is fenced (false), except when it was already
        /// recorded with this very outcome and end: a retry after a commit whose acknowledgement was
        /// lost (the connection dropped during COMMIT) answers true, as the first attempt would have.
        package func finish(_ runs: [FinishedRun]) async throws -> [Bool] {
            guard !runs.isEmpty else { return [] }
            let sorted = runs.sorted { $0.runID < $1.runID }
            return try await write { connection in
                let (updated, jobs) = try await recordRuns(sorted, on: connection)
                var recorded: [Int64: Bool] = [:]
                for run in sorted {
                    if updated.contains(run.runID) {
                        recorded[run.runID] = true
                    } else {
                        recorded[run.runID] = try await wasRecorded(run, on: connection)
                    }
                }
                try await updateJobs(after: sorted.filter { updated.contains($0.runID) }, jobs: jobs, on: connection)
                return runs.map { recorded[$0.runID] ?? false }
            }
        }

        /// In one statement: marks runs finished, each only if it is still `running` under its runner
        /// (in run id order), adds them to the totals by outcome and shard (`runner_id % 16`, one row
        /// each, in key order), and reads the jobs of those it changed, locked, in id order. Returns
        /// the run ids it changed whose job still exists, and those jobs; a changed run whose job is
        /// gone is not listed (``wasRecorded(_:on:)`` then says it was recorded).
        private func recordRuns(_ runs: [FinishedRun], on connection: PostgresConnection) async throws
            -> (runs: Set<Int64>, jobs: [Int64: JobRecord])
        {
            let ids = runs.map(\.runID)
            let runners = runs.map(\.runnerID)
            let outcomes = runs.map(\.outcome.rawValue)
            let finished = runs.map(\.finishedAt)
            let exitCodes = runs.map { Int64($0.exitCode ?? 0) }
            let hasExit = runs.map { $0.exitCode != nil }
            let errors = runs.map { $0.error ?? "" }
            let hasError = runs.map { $0.error != nil }
            let outputs = runs.map { ByteBuffer(bytes: $0.output ?? []) }
            let hasOutput = runs.map { $0.output != nil }
            var changed: Set<Int64> = []
            var jobs: [Int64: JobRecord] = [:]
            for (runID, job) in try await all(
                """
                WITH recorded AS (
                    UPDATE runs SET outcome = c.outcome, finished_at = c.finished_at,
                        exit_code = CASE WHEN c.has_exit THEN c.exit_code END,
                        error = CASE WHEN c.has_error THEN c.error END,
                        output_bytes = CASE WHEN c.has_output THEN c.output END
                    FROM unnest(\(ids)::bigint[], \(runners)::bigint[], \(outcomes)::text[], \(finished)::bigint[],
                        \(exitCodes)::int[], \(hasExit)::boolean[], \(errors)::text[], \(hasError)::boolean[],
                        \(outputs)::bytea[], \(hasOutput)::boolean[])
                        AS c(id, runner_id, outcome, finished_at, exit_code, has_exit, error, has_error, output,
                            has_output)
                    WHERE runs.id = c.id AND runs.outcome = 'running' AND runs.runner_id = c.runner_id
                    RETURNING runs.id AS recorded_run_id, runs.job_id AS recorded_job_id,
                        runs.runner_id AS recorded_runner_id, runs.outcome AS recorded_outcome
                ),
                totals AS (
                    INSERT INTO run_totals (outcome, shard, count)
                    SELECT recorded_outcome, (recorded_runner_id % 16)::smallint, count(*) FROM recorded
                    GROUP BY 1, 2 ORDER BY 1, 2
                    ON CONFLICT (outcome, shard) DO UPDATE SET count = run_totals.count + excluded.count
                )
                SELECT recorded_run_id, \(unescaped: JobRow.jobColumns)
                FROM recorded JOIN jobs ON jobs.id = recorded_job_id
                ORDER BY jobs.id FOR NO KEY UPDATE OF jobs
                """, on: connection,
                map: { (try $0.int64(0), try JobRow.decodeJob(OffsetRow(row: $0, offset: 1))) })
            {
                changed.insert(runID)
                jobs[job.id] = job
            }
            return (changed, jobs)
        }

        /// Whether a run that is no longer in flight was recorded with this very outcome and end
        /// (a retry of a finish whose commit was not acknowledged).
        private func wasRecorded(_ c: FinishedRun, on connection: PostgresConnection) async throws -> Bool {
            try await count(
                """
                SELECT 1 FROM runs WHERE id = \(c.runID) AND runner_id = \(c.runnerID)
                    AND outcome = \(c.outcome.rawValue) AND finished_at = \(c.finishedAt)
                """, on: connection) == 1
        }

        /// Applies ``JobTransition/afterRun`` to each job still in flight with its just-recorded run
        /// (`jobs`, read and locked by ``recordRuns(_:on:)``), and writes them back in one statement.
        private func updateJobs(after runs: [FinishedRun], jobs: [Int64: JobRecord], on connection: PostgresConnection)
            async throws
        {
            var u = JobUpdates()
            for c in runs {
                guard let jobID = c.jobID, let job = jobs[jobID], job.runningRunID == c.runID else { continue }
                let after = JobTransition.afterRun(
                    job, occurrence: c.occurrence ?? job.occurrenceAt ?? c.scheduledFor, attempt: c.attempt,
                    triggered: c.triggered, outcome: c.outcome, finishedAt: c.finishedAt)
                u.ids.append(job.id)
                u.ok.append(c.outcome == .ok ? 1 : 0)
                u.failed.append((c.outcome == .failed || c.outcome == .timeout) ? 1 : 0)
                u.outcomes.append(c.outcome.rawValue)
                u.finished.append(c.finishedAt)
                u.states.append(after.state.rawValue)
                u.reasons.append(after.stateReason ?? "")
                u.hasReason.append(after.stateReason != nil)
                u.occurrences.append(after.occurrenceAt ?? 0)
                u.hasOccurrence.append(after.occurrenceAt != nil)
                u.next.append(after.nextRunAt ?? 0)
                u.hasNext.append(after.nextRunAt != nil)
                u.attempts.append(Int64(after.attempt))
                u.streaks.append(Int64(after.abandonedStreak))
                u.retrigger.append(after.retrigger)
                u.scheduled.append(c.scheduledFor)
            }
            guard !u.ids.isEmpty else { return }
            try await execute(
                """
                UPDATE jobs SET running_run_id = NULL, run_count = run_count + 1, ok_count = ok_count + u.ok,
                    failed_count = failed_count + u.failed, last_outcome = u.outcome,
                    last_finished_at = u.finished_at, state = u.state,
                    state_reason = CASE WHEN u.has_reason THEN u.reason END,
                    occurrence_at = CASE WHEN u.has_occurrence THEN u.occurrence END,
                    next_run_at = CASE WHEN u.has_next THEN u.next END,
                    attempt = u.attempt, abandoned_streak = u.streak,
                    trigger_at = CASE WHEN u.retrigger THEN coalesce(jobs.trigger_at, u.scheduled_for)
                        ELSE jobs.trigger_at END
                FROM unnest(\(u.ids)::bigint[], \(u.ok)::bigint[], \(u.failed)::bigint[], \(u.outcomes)::text[],
                    \(u.finished)::bigint[], \(u.states)::text[], \(u.reasons)::text[], \(u.hasReason)::boolean[],
                    \(u.occurrences)::bigint[], \(u.hasOccurrence)::boolean[], \(u.next)::bigint[],
                    \(u.hasNext)::boolean[], \(u.attempts)::int[], \(u.streaks)::int[], \(u.retrigger)::boolean[],
                    \(u.scheduled)::bigint[])
                    AS u(id, ok, failed, outcome, finished_at, state, reason, has_reason, occurrence, has_occurrence,
                        next, has_next, attempt, streak, retrigger, scheduled_for)
                WHERE jobs.id = u.id
                """, on: connection)
        }

        /// The columns of ``updateJobs(after:on:)``'s one statement, as arrays (a flag beside each
        /// nullable one: postgres-nio binds no arrays of optionals).
        private struct JobUpdates {
            var ids: [Int64] = []
            var ok: [Int64] = []
            var failed: [Int64] = []
            var outcomes: [String] = []
            var finished: [Int64] = []
            var states: [String] = []
            var reasons: [String] = []
            var hasReason: [Bool] = []
            var occurrences: [Int64] = []
            var hasOccurrence: [Bool] = []
            var next: [Int64] = []
            var hasNext: [Bool] = []
            var attempts: [Int64] = []
            var streaks: [Int64] = []
            var retrigger: [Bool] = []
            var scheduled: [Int64] = []
        }

        /// Records one run (a rescue's, from its own row): the same steps as ``finish(_:)``, one statement each.
        func record(_ c: FinishedRun, on connection: PostgresConnection) async throws -> Bool {
            let output = c.output.map { ByteBuffer(bytes: $0) }
            let updated = try await count(
                """
                UPDATE runs SET outcome = \(c.outcome.rawValue), finished_at = \(c.finishedAt), exit_code = \(c.exitCode),
                    error = \(c.error), output_bytes = \(output)
                WHERE id = \(c.runID) AND outcome = 'running' AND runner_id = \(c.runnerID)
                RETURNING 1
                """, on: connection)
            guard updated == 1 else {
                return try await count(
                    """
                    SELECT 1 FROM runs WHERE id = \(c.runID) AND runner_id = \(c.runnerID)
                        AND outcome = \(c.outcome.rawValue) AND finished_at = \(c.finishedAt)
                    """, on: connection) == 1
            }
            try await execute(
                """
                INSERT INTO run_totals (outcome, shard, count) VALUES (\(c.outcome.rawValue), \(Int16(c.runnerID % 16)), 1)
                ON CONFLICT (outcome, shard) DO UPDATE SET count = run_totals.count + 1
                """, on: connection)
            guard let jobID = c.jobID,
                let job = try await first(
                    "SELECT \(unescaped: JobRow.jobColumns) FROM jobs WHERE id = \(jobID) FOR NO KEY UPDATE",
                    on: connection, map: { try JobRow.decodeJob($0) }),
                job.runningRunID == c.runID
            else { return true }
            let after = JobTransition.afterRun(
                job, occurrence: c.occurrence ?? job.occurrenceAt ?? c.scheduledFor, attempt: c.attempt,
                triggered: c.triggered, outcome: c.outcome, finishedAt: c.finishedAt)
            let ok: Int64 = c.outcome == .ok ? 1 : 0
            let failed: Int64 = (c.outcome == .failed || c.outcome == .timeout) ? 1 : 0
            try await execute(
                """
                UPDATE jobs SET running_run_id = NULL, run_count = run_count + 1, ok_count = ok_count + \(ok),
                    failed_count = failed_count + \(failed), last_outcome = \(c.outcome.rawValue),
                    last_finished_at = \(c.finishedAt), state = \(after.state.rawValue),
                    state_reason = \(after.stateReason), occurrence_at = \(after.occurrenceAt),
                    next_run_at = \(after.nextRunAt), attempt = \(after.attempt),
                    abandoned_streak = \(after.abandonedStreak),
                    trigger_at = CASE WHEN \(after.retrigger) THEN coalesce(trigger_at, \(c.scheduledFor))
                        ELSE trigger_at END
                WHERE id = \(job.id)
                """, on: connection)
            return true
        }

        package func recordProcessGroup(runID: Int64, runnerID: Int64, pgid: Int32, leaderStart: Int64?) async throws
            -> Bool
        {
            try await read { connection in
                try await count(
                    """
                    UPDATE runs SET pgid = \(pgid), pgid_start = \(leaderStart)
                    WHERE id = \(runID) AND outcome = 'running' AND runner_id = \(runnerID)
                    RETURNING 1
                    """, on: connection) == 1
            }
        }

        package func isStillClaimed(runID: Int64, runnerID: Int64) async throws -> Bool {
            try await read { connection in
                try await count(
                    """
                    SELECT 1 FROM runs r JOIN runners n ON n.id = r.runner_id
                    WHERE r.id = \(runID) AND r.runner_id = \(runnerID) AND r.outcome = 'running'
                        AND n.state IN ('running', 'draining')
                    """, on: connection) == 1
            }
        }

        package func recallable(runIDs: [Int64]) async throws -> [Int64] {
            guard !runIDs.isEmpty else { return [] }
            return try await read { connection in
                var ids: [Int64] = []
                for row in try await connection.rows(
                    of: """
                        SELECT r.id FROM runs r LEFT JOIN jobs j ON j.id = r.job_id LEFT JOIN queues q ON q.name = r.queue
                        WHERE r.id = ANY(\(runIDs)) AND r.outcome = 'running' AND NOT r.triggered
                            AND (j.id IS NULL OR j.state <> 'active' OR coalesce(q.paused, false))
                        ORDER BY r.id
                        """, logger: logger)
                {
                    ids.append(try row.decode(Int64.self))
                }
                return ids
            }
        }
    }
#endif
