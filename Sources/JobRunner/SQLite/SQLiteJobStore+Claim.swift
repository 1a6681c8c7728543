import Foundation

extension SQLiteJobStore {
    /// Claims due jobs for `runnerID` in one transaction: a `running` history row per claim, the job
    /// marked in flight (so no other runner can claim it), and misfire policies applied.
    ///
    /// The time is read from `clock` once the write lock is held, so that a run's start is never
    /// stamped before the previous run of the same job (by another runner) was recorded.
    package func claim(runnerID: Int64, clock: any JobClock, scope: ClaimScope) throws -> ClaimBatch {
        if claimHandlers.names != scope.handlers {
            claimHandlers = (scope.handlers, JobRow.encodeArgv(scope.handlers))
        }
        let handlers = claimHandlers.json
        return try connection.write {
            let now = clock.now()
            var batch = ClaimBatch(claims: [], nextDue: nil, skipped: 0)
            // Fence: a runner that another declared dead must not claim under its old identity. The
            // check is in the same transaction as the claims, which holds the write lock, so no rescue
            // can come between. (It only reads: a claim that finds nothing due writes nothing.)
            guard
                try connection.scalarInt(
                    "SELECT count(*) FROM runners WHERE id = ? AND state IN ('running', 'draining')",
                    [.integer(runnerID)]) == 1
            else {
                batch.runnerAlive = false
                return batch
            }
            // Runs in flight hold their queue's slots until they end, even if their job was removed
            // or moved meanwhile.
            var running: [String: Int] = [:]
            try connection.query(
                "SELECT queue, count(*) FROM runs WHERE outcome = 'running' AND queue IS NOT NULL GROUP BY queue"
            ) { running[$0.string(0)] = $0.int(1) }
            var eligible: [String: Int] = [:]  // queue -> free places
            try connection.query("SELECT name, concurrency, paused FROM queues") { row in
                let name = row.string(0)
                guard row.int64(2) == 0 else { return }
                if let queues = scope.queues, !queues.contains(name) { return }
                eligible[name] = max(0, row.int(1) - running[name, default: 0])
            }
            var slots = scope.slots

            // Manual triggers first: an operator is waiting for them.
            if slots > 0 {
                let triggered = try connection.all(
                    """
                    SELECT \(JobRow.jobColumns) FROM jobs
                    WHERE trigger_at IS NOT NULL AND trigger_at <= ? AND running_run_id IS NULL
                        AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))
                    ORDER BY trigger_at LIMIT ?
                    """,
                    [.integer(now), .text(handlers), .integer(Int64(slots))]
                ) { try JobRow.decodeJob($0) }
                for job in triggered {
                    guard let free = eligible[job.definition.queue], free > 0 else { continue }
                    let due = job.triggerAt ?? now
                    batch.claims.append(
                        try insertClaim(
                            job, runnerID: runnerID, now: now, occurrence: job.occurrenceAt ?? due, scheduledFor: due,
                            triggered: true)
                    )
                    eligible[job.definition.queue] = free - 1
                    slots -= 1
                }
            }

            for (queue, free) in eligible.sorted(by: { $0.key < $1.key }) where slots > 0 && free > 0 {
                let limit = min(slots, free)
                let due = try connection.all(
                    """
                    SELECT \(JobRow.jobColumns) FROM jobs
                    WHERE queue = ? AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL
                        AND next_run_at <= ? AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))
                    ORDER BY next_run_at LIMIT ?
                    """,
                    [.text(queue), .integer(now + max(0, scope.lead)), .text(handlers), .integer(Int64(limit))]
                ) { try JobRow.decodeJob($0) }
                var taken = 0
                for job in due {
                    switch JobTransition.resolve(job, now: now, grace: scope.misfireGrace) {
                    case .run(let occurrence):
                        let scheduledFor = occurrence == job.occurrenceAt ? (job.nextRunAt ?? occurrence) : occurrence
                        batch.claims.append(
                            try insertClaim(
                                job, runnerID: runnerID, now: now, occurrence: occurrence, scheduledFor: scheduledFor,
                                triggered: false)
                        )
                        taken += 1
                    case .skip(let next):
                        batch.skipped += 1
                        try connection.execute(
                            """
                            UPDATE jobs SET occurrence_at = ?, next_run_at = ?,
                                state = CASE WHEN ? IS NULL THEN 'done' ELSE state END WHERE id = ?
                            """,
                            [
                                .int(next),
                                .int(next.map { JobTransition.dueTime(for: $0, jitter: job.definition.jitter) }),
                                .int(next), .integer(job.id),
                            ]
                        )
                    }
                }
                eligible[queue] = free - taken
                slots -= taken
            }

            // The next time there is something to claim, among queues with room.
            for (queue, free) in eligible where free > 0 {
                if let next = try connection.scalarInt(
                    """
                    SELECT next_run_at FROM jobs
                    WHERE queue = ? AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL
                        AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))
                    ORDER BY next_run_at LIMIT 1
                    """,
                    [.text(queue), .text(handlers)]
                ) {
                    batch.nextDue = min(batch.nextDue ?? next, next)
                }
            }
            // Manual triggers this runner could take (not in flight, its queue has room, its handler known).
            let triggerQueues = JobRow.encodeArgv(eligible.filter { $0.value > 0 }.map(\.key))
            if let trigger = try connection.scalarInt(
                """
                SELECT trigger_at FROM jobs
                WHERE trigger_at IS NOT NULL AND running_run_id IS NULL
                    AND queue IN (SELECT value FROM json_each(?))
                    AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))
                ORDER BY trigger_at LIMIT 1
                """,
                [.text(triggerQueues), .text(handlers)]
            ) {
                batch.nextDue = min(batch.nextDue ?? trigger, trigger)
            }
            return batch
        }
    }

    private func insertClaim(
        _ job: JobRecord,
        runnerID: Int64,
        now: UnixMicros,
        occurrence: UnixMicros,
        scheduledFor: UnixMicros,
        triggered: Bool
    ) throws -> Claim {
        let attempt = triggered ? 1 : job.attempt
        // A run claimed ahead of its due time (ClaimScope.lead) starts then, not now.
        let startedAt = max(now, scheduledFor)
        try connection.execute(
            """
            INSERT INTO runs (id, job_id, job_name, queue, attempt, scheduled_for, started_at, runner_id, outcome, triggered)
            VALUES (max((SELECT coalesce(max(id), 0) FROM runs), (SELECT id FROM run_id_floor)) + 1,
                ?, ?, ?, ?, ?, ?, ?, 'running', ?)
            """,
            [
                .integer(job.id), .text(job.definition.name), .text(job.definition.queue), .integer(Int64(attempt)),
                .integer(scheduledFor),
                .integer(startedAt), .integer(runnerID), .bool(triggered),
            ]
        )
        let runID = connection.lastInsertRowID
        if triggered {
            try connection.execute(
                "UPDATE jobs SET running_run_id = ?, last_started_at = ?, trigger_at = NULL WHERE id = ?",
                [.integer(runID), .integer(startedAt), .integer(job.id)]
            )
        } else {
            try connection.execute(
                "UPDATE jobs SET running_run_id = ?, last_started_at = ?, occurrence_at = ? WHERE id = ?",
                [.integer(runID), .integer(startedAt), .integer(occurrence), .integer(job.id)]
            )
        }
        return Claim(
            runID: runID, jobID: job.id, jobName: job.definition.name, queue: job.definition.queue, attempt: attempt,
            occurrence: occurrence, scheduledFor: scheduledFor, startedAt: startedAt, action: job.definition.action,
            payload: job.definition.payload, timeout: job.definition.timeout, triggered: triggered,
            environment: job.definition.environment
        )
    }
}
