#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    extension PostgresJobStore {
        /// The first key of the advisory lock a claim takes per queue it claims from (the second is
        /// the queue name's hash): two runners never count a queue's free places at once.
        static let queueLockKey: Int32 = 0x4A52_5155  // "JRQU"

        /// Claims due runs for `runnerID` in one READ COMMITTED transaction.
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
        package func claim(runnerID: Int64, clock: any JobClock, scope: ClaimScope) async throws -> ClaimBatch {
            let handlers = scope.handlers
            return try await write { connection in
                var batch = ClaimBatch(claims: [], nextDue: nil, skipped: 0)
                let state = try await first(
                    "SELECT state FROM runners WHERE id = \(runnerID) FOR SHARE", on: connection
                ) { try $0.string(0) }
                guard state == "running" || state == "draining" else {
                    batch.runnerAlive = false
                    return batch
                }
                let now = clock.now()
                var eligible: [String: Int] = [:]  // queue -> its limit, then its free places
                for (name, limit) in try await all(
                    """
                    SELECT name, concurrency FROM queues
                    WHERE NOT paused AND (\(scope.queues)::text[] IS NULL OR name = ANY(\(scope.queues)))
                    ORDER BY name COLLATE "C"
                    """, on: connection, map: { (try $0.string(0), try $0.int(1)) })
                {
                    eligible[name] = limit
                }
                guard !eligible.isEmpty else { return batch }
                for name in eligible.keys.sorted() {
                    try await execute(
                        "SELECT pg_advisory_xact_lock(\(Self.queueLockKey), hashtext(\(name)))", on: connection)
                }
                let queueNames = Array(eligible.keys)
                for (name, running) in try await all(
                    """
                    SELECT queue, count(*) FROM runs
                    WHERE outcome = 'running' AND queue = ANY(\(queueNames)) GROUP BY queue
                    """, on: connection, map: { (try $0.string(0), try $0.int(1)) })
                {
                    eligible[name] = max(0, (eligible[name] ?? 0) - running)
                }
                var slots = scope.slots

                // Manual triggers first: an operator is waiting for them.
                let triggered = try await all(
                    """
                    SELECT \(unescaped: JobRow.jobColumns) FROM jobs
                    WHERE trigger_at IS NOT NULL AND trigger_at <= \(now) AND running_run_id IS NULL
                        AND queue = ANY(\(queueNames)) AND (kind = 'command' OR handler = ANY(\(handlers)))
                    ORDER BY trigger_at LIMIT \(slots) FOR NO KEY UPDATE SKIP LOCKED
                    """, on: connection
                ) { try JobRow.decodeJob($0) }
                for job in triggered {
                    guard let free = eligible[job.definition.queue], free > 0, slots > 0 else { continue }
                    let due = job.triggerAt ?? now
                    batch.claims.append(
                        try await insertClaim(
                            job, runnerID: runnerID, now: now, occurrence: job.occurrenceAt ?? due, scheduledFor: due,
                            triggered: true, on: connection))
                    eligible[job.definition.queue] = free - 1
                    slots -= 1
                }

                for (queue, free) in eligible.sorted(by: { $0.key < $1.key }) where slots > 0 && free > 0 {
                    let limit = min(slots, free)
                    let due = try await all(
                        """
                        SELECT \(unescaped: JobRow.jobColumns) FROM jobs
                        WHERE queue = \(queue) AND state = 'active' AND running_run_id IS NULL
                            AND next_run_at IS NOT NULL AND next_run_at <= \(now)
                            AND (kind = 'command' OR handler = ANY(\(handlers)))
                        ORDER BY next_run_at LIMIT \(limit) FOR NO KEY UPDATE SKIP LOCKED
                        """, on: connection
                    ) { try JobRow.decodeJob($0) }
                    var taken = 0
                    for job in due {
                        switch JobTransition.resolve(job, now: now, grace: scope.misfireGrace) {
                        case .run(let occurrence):
                            let scheduledFor =
                                occurrence == job.occurrenceAt ? (job.nextRunAt ?? occurrence) : occurrence
                            batch.claims.append(
                                try await insertClaim(
                                    job, runnerID: runnerID, now: now, occurrence: occurrence,
                                    scheduledFor: scheduledFor, triggered: false, on: connection))
                            taken += 1
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
                    eligible[queue] = free - taken
                    slots -= taken
                }

                // The next time there is something to claim, among queues with room (no locks).
                let open = eligible.filter { $0.value > 0 }.map(\.key)
                if !open.isEmpty {
                    for queue in open {
                        if let next = try await scalar(
                            """
                            SELECT next_run_at FROM jobs
                            WHERE queue = \(queue) AND state = 'active' AND running_run_id IS NULL
                                AND next_run_at IS NOT NULL AND (kind = 'command' OR handler = ANY(\(handlers)))
                            ORDER BY next_run_at LIMIT 1
                            """, on: connection)
                        {
                            batch.nextDue = min(batch.nextDue ?? next, next)
                        }
                    }
                    if let trigger = try await scalar(
                        """
                        SELECT trigger_at FROM jobs
                        WHERE trigger_at IS NOT NULL AND running_run_id IS NULL AND queue = ANY(\(open))
                            AND (kind = 'command' OR handler = ANY(\(handlers)))
                        ORDER BY trigger_at LIMIT 1
                        """, on: connection)
                    {
                        batch.nextDue = min(batch.nextDue ?? trigger, trigger)
                    }
                }
                return batch
            }
        }

        private func insertClaim(
            _ job: JobRecord, runnerID: Int64, now: UnixMicros, occurrence: UnixMicros, scheduledFor: UnixMicros,
            triggered: Bool, on connection: PostgresConnection
        ) async throws -> Claim {
            let attempt = triggered ? 1 : job.attempt
            // One statement: the run row (its id from the identity sequence: JOB_RUN_ID and the
            // fencing token), and the job marked in flight with it.
            guard
                let runID = try await scalar(
                    """
                    WITH r AS (
                        INSERT INTO runs (job_id, job_name, queue, attempt, scheduled_for, started_at, runner_id,
                            outcome, triggered)
                        VALUES (\(job.id), \(job.definition.name), \(job.definition.queue), \(attempt), \(scheduledFor),
                            \(now), \(runnerID), 'running', \(triggered))
                        RETURNING id
                    )
                    UPDATE jobs SET running_run_id = r.id, last_started_at = \(now),
                        trigger_at = CASE WHEN \(triggered) THEN NULL ELSE trigger_at END,
                        occurrence_at = CASE WHEN \(triggered) THEN occurrence_at ELSE \(occurrence) END
                    FROM r WHERE jobs.id = \(job.id)
                    RETURNING r.id
                    """, on: connection)
            else {
                throw JobRunnerError.database(
                    "job \(JobRunnerError.quoted(job.definition.name)) vanished during a claim")
            }
            return Claim(
                runID: runID, jobID: job.id, jobName: job.definition.name, queue: job.definition.queue,
                attempt: attempt, occurrence: occurrence, scheduledFor: scheduledFor, startedAt: now,
                action: job.definition.action, payload: job.definition.payload, timeout: job.definition.timeout,
                triggered: triggered, environment: job.definition.environment)
        }

        // MARK: Finish

        /// Records finished runs in one transaction, in run id order (the lock order everywhere is
        /// runners, then runs, then jobs).
        ///
        /// A run no longer `running` under its runner is fenced (false), except when it was already
        /// recorded with this very outcome and end: a retry after a commit whose acknowledgement was
        /// lost (the connection dropped during COMMIT) answers true, as the first attempt would have.
        package func finish(_ runs: [FinishedRun]) async throws -> [Bool] {
            let order = runs.indices.sorted { runs[$0].runID < runs[$1].runID }
            return try await write { connection in
                var recorded = Array(repeating: false, count: runs.count)
                for index in order {
                    recorded[index] = try await record(runs[index], on: connection)
                }
                return recorded
            }
        }

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
    }
#endif
