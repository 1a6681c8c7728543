import Foundation

/// A run claimed by a runner: everything it needs to execute and finish it.
struct Claim: Sendable {
    var runID: Int64
    var jobID: Int64
    var jobName: String
    var queue: String
    var attempt: Int
    /// The schedule slot this run stands for.
    var occurrence: UnixMicros
    /// When it was due (the occurrence plus jitter, or a retry's time, or a trigger's).
    var scheduledFor: UnixMicros
    /// When the claim was made; the worker sets it to when the run really started.
    var startedAt: UnixMicros
    var action: JobAction
    var payload: String?
    var timeout: Duration?
    var triggered: Bool
    /// A command job's own environment variables.
    var environment: [String: String] = [:]
}

/// The result of one claim transaction.
struct ClaimBatch: Sendable {
    var claims: [Claim]
    /// The earliest time at which more work becomes claimable for this runner, if any is scheduled.
    var nextDue: UnixMicros?
    /// Jobs skipped by their misfire policy in this transaction.
    var skipped: Int
    /// False when the runner was declared dead by another (it was paused past its lease): nothing was
    /// claimed, and the runner must register again before claiming.
    var runnerAlive = true
}

/// A finished run, to be recorded.
struct Completion: Sendable {
    var claim: Claim
    var runnerID: Int64
    var outcome: RunOutcome
    var finishedAt: UnixMicros
    var exitCode: Int?
    var error: String?
    /// The tail of a command's output, as the bytes it wrote.
    var output: [UInt8]?
}

/// What a runner may claim.
struct ClaimScope: Sendable {
    /// The queues it serves; nil for all.
    var queues: [String]?
    /// The handler names registered in it (jobs with other handlers are left for other runners), as
    /// the JSON array the claim query binds: encoded once, not at every claim.
    let handlersJSON: String
    /// Its free worker slots.
    var slots: Int
    /// How late an occurrence may start before the misfire policy counts it as missed.
    var misfireGrace: Int64

    init(queues: [String]?, handlers: [String], slots: Int, misfireGrace: Int64) {
        self.queues = queues
        self.handlersJSON = ScheduleCodec.encodeArgv(handlers)
        self.slots = slots
        self.misfireGrace = misfireGrace
    }
}

extension JobStore {
    /// Claims due jobs for `runnerID` in one transaction: a `running` history row per claim, the job
    /// marked in flight (so no other runner can claim it), and misfire policies applied.
    func claim(runnerID: Int64, now: UnixMicros, scope: ClaimScope) throws -> ClaimBatch {
        try claim(runnerID: runnerID, scope: scope, now: { now })
    }

    /// Claims with the time read from `clock` once the write lock is held, so that a run's start is
    /// never stamped before the previous run of the same job (by another runner) was recorded.
    func claim(runnerID: Int64, clock: any JobClock, scope: ClaimScope) throws -> ClaimBatch {
        try claim(runnerID: runnerID, scope: scope, now: { clock.now() })
    }

    private func claim(runnerID: Int64, scope: ClaimScope, now readNow: () -> UnixMicros) throws -> ClaimBatch {
        try connection.write {
            let now = readNow()
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
            let handlers = scope.handlersJSON
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
                    SELECT \(ScheduleCodec.jobColumns) FROM jobs
                    WHERE trigger_at IS NOT NULL AND trigger_at <= ? AND running_run_id IS NULL
                        AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))
                    ORDER BY trigger_at LIMIT ?
                    """,
                    [.integer(now), .text(handlers), .integer(Int64(slots))]
                ) { try ScheduleCodec.decodeJob($0) }
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
                    SELECT \(ScheduleCodec.jobColumns) FROM jobs
                    WHERE queue = ? AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL
                        AND next_run_at <= ? AND (kind = 'command' OR handler IN (SELECT value FROM json_each(?)))
                    ORDER BY next_run_at LIMIT ?
                    """,
                    [.text(queue), .integer(now), .text(handlers), .integer(Int64(limit))]
                ) { try ScheduleCodec.decodeJob($0) }
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
            let triggerQueues = ScheduleCodec.encodeArgv(eligible.filter { $0.value > 0 }.map(\.key))
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
        try connection.execute(
            """
            INSERT INTO runs (id, job_id, job_name, queue, attempt, scheduled_for, started_at, runner_id, outcome, triggered)
            VALUES (max((SELECT coalesce(max(id), 0) FROM runs), (SELECT id FROM run_id_floor)) + 1,
                ?, ?, ?, ?, ?, ?, ?, 'running', ?)
            """,
            [
                .integer(job.id), .text(job.definition.name), .text(job.definition.queue), .integer(Int64(attempt)),
                .integer(scheduledFor),
                .integer(now), .integer(runnerID), .bool(triggered),
            ]
        )
        let runID = connection.lastInsertRowID
        if triggered {
            try connection.execute(
                "UPDATE jobs SET running_run_id = ?, last_started_at = ?, trigger_at = NULL WHERE id = ?",
                [.integer(runID), .integer(now), .integer(job.id)]
            )
        } else {
            try connection.execute(
                "UPDATE jobs SET running_run_id = ?, last_started_at = ?, occurrence_at = ? WHERE id = ?",
                [.integer(runID), .integer(now), .integer(occurrence), .integer(job.id)]
            )
        }
        return Claim(
            runID: runID, jobID: job.id, jobName: job.definition.name, queue: job.definition.queue, attempt: attempt,
            occurrence: occurrence, scheduledFor: scheduledFor, startedAt: now, action: job.definition.action,
            payload: job.definition.payload, timeout: job.definition.timeout, triggered: triggered,
            environment: job.definition.environment
        )
    }

    /// Records finished runs in one transaction: each history row, the job's counters, and its next
    /// occurrence (or retry, or done).
    ///
    /// A completion whose run is no longer `running` under this runner — another runner declared it
    /// abandoned while this one was paused — is fenced: it changes nothing.
    ///
    /// - Returns: for each completion, whether it was recorded (false when fenced).
    func finish(_ completions: [Completion]) throws -> [Bool] {
        try connection.write {
            try completions.map { try record($0) }
        }
    }

    func record(_ c: Completion) throws -> Bool {
        try connection.execute(
            """
            UPDATE runs SET outcome = ?, finished_at = ?, exit_code = ?, error = ?, output_bytes = ?
            WHERE id = ? AND outcome = 'running' AND runner_id = ?
            """,
            [
                .text(c.outcome.rawValue), .integer(c.finishedAt), .int(c.exitCode),
                .string(c.error), c.output.map(SQLiteValue.blob) ?? .null,
                .integer(c.claim.runID), .integer(c.runnerID),
            ]
        )
        guard connection.changes == 1 else { return false }
        try connection.execute(
            "INSERT INTO run_totals (outcome, count) VALUES (?, 1) ON CONFLICT(outcome) DO UPDATE SET count = count + 1",
            [.text(c.outcome.rawValue)]
        )
        guard let job = try findJob(id: c.claim.jobID), job.runningRunID == c.claim.runID else { return true }
        let after = JobTransition.afterRun(
            job, occurrence: c.claim.occurrence, attempt: c.claim.attempt, triggered: c.claim.triggered,
            outcome: c.outcome, finishedAt: c.finishedAt
        )
        let ok: Int64 = c.outcome == .ok ? 1 : 0
        let failed: Int64 = (c.outcome == .failed || c.outcome == .timeout) ? 1 : 0
        try connection.execute(
            """
            UPDATE jobs SET running_run_id = NULL, run_count = run_count + 1, ok_count = ok_count + ?,
                failed_count = failed_count + ?, last_outcome = ?, last_finished_at = ?, state = ?, state_reason = ?,
                occurrence_at = ?, next_run_at = ?, attempt = ?, abandoned_streak = ?,
                trigger_at = CASE WHEN ? THEN coalesce(trigger_at, ?) ELSE trigger_at END
            WHERE id = ?
            """,
            [
                .integer(ok), .integer(failed), .text(c.outcome.rawValue), .integer(c.finishedAt),
                .text(after.state.rawValue), .string(after.stateReason), .int(after.occurrenceAt),
                .int(after.nextRunAt),
                .integer(Int64(after.attempt)), .integer(Int64(after.abandonedStreak)), .bool(after.retrigger),
                .integer(c.claim.scheduledFor), .integer(job.id),
            ]
        )
        return true
    }

    /// Records the process group of a command run, for rescue if its runner dies.
    ///
    /// - Returns: false when the run is no longer this runner's (it was declared dead and the run
    ///   rescued): the caller must then kill the group it has just started.
    @discardableResult
    func recordProcessGroup(runID: Int64, runnerID: Int64, pgid: Int32, leaderStart: Int64?) throws -> Bool {
        try connection.write {
            try connection.execute(
                "UPDATE runs SET pgid = ?, pgid_start = ? WHERE id = ? AND outcome = 'running' AND runner_id = ?",
                [.integer(Int64(pgid)), .int(leaderStart), .integer(runID), .integer(runnerID)]
            )
            return connection.changes == 1
        }
    }

    /// Whether a run is still this runner's to execute: running, claimed by it, and the runner not
    /// declared dead. Checked before starting work that waited long after its claim (a frozen runner).
    func isStillClaimed(runID: Int64, runnerID: Int64) throws -> Bool {
        try connection.scalarInt(
            """
            SELECT count(*) FROM runs r JOIN runners n ON n.id = r.runner_id
            WHERE r.id = ? AND r.runner_id = ? AND r.outcome = 'running' AND n.state IN ('running', 'draining')
            """,
            [.integer(runID), .integer(runnerID)]
        ) == 1
    }

    // MARK: Runners

    /// Registers a runner and returns its id.
    func registerRunner(
        host: String,
        pid: Int32,
        lease: Duration,
        queues: [String]?,
        concurrency: Int,
        now: UnixMicros
    ) throws -> Int64 {
        try connection.write {
            try connection.execute(
                """
                INSERT INTO runners (host, pid, started_at, heartbeat_at, lease_us, state, queues, concurrency)
                VALUES (?, ?, ?, ?, ?, 'running', ?, ?)
                """,
                [
                    .text(host), .integer(Int64(pid)), .integer(now), .integer(now), .integer(lease.microseconds),
                    .string(queues.map(ScheduleCodec.encodeArgv)), .integer(Int64(concurrency)),
                ]
            )
            return connection.lastInsertRowID
        }
    }

    /// What a heartbeat learned.
    struct Heartbeat: Sendable {
        /// False when another runner declared this one dead: its claims are void.
        var alive: Bool
        /// A drain requested by another process, with its grace period if one was given.
        var drainRequested: Bool
        var drainGrace: Duration?
    }

    /// Renews the runner's lease and picks up drain requests.
    func heartbeat(runnerID: Int64, now: UnixMicros) throws -> Heartbeat {
        try connection.write {
            try connection.execute(
                "UPDATE runners SET heartbeat_at = ? WHERE id = ? AND state IN ('running', 'draining')",
                [.integer(now), .integer(runnerID)]
            )
            let alive = connection.changes == 1
            let request = try takeDrainRequest(runnerID: runnerID, now: now)
            return Heartbeat(alive: alive, drainRequested: request.requested, drainGrace: request.grace)
        }
    }

    /// Picks up a pending drain request without touching the heartbeat (cheap; called when the data version changes).
    func pollControl(runnerID: Int64, now: UnixMicros) throws -> (requested: Bool, grace: Duration?) {
        let pending = try connection.scalarInt(
            "SELECT count(*) FROM control WHERE runner_id = ? AND handled_at IS NULL",
            [.integer(runnerID)]
        )
        guard (pending ?? 0) > 0 else { return (false, nil) }
        return try connection.write { try takeDrainRequest(runnerID: runnerID, now: now) }
    }

    private func takeDrainRequest(runnerID: Int64, now: UnixMicros) throws -> (requested: Bool, grace: Duration?) {
        let rows = try connection.all(
            "SELECT id, grace_us FROM control WHERE runner_id = ? AND handled_at IS NULL AND kind = 'drain'",
            [.integer(runnerID)]
        ) { ($0.int64(0), $0.optionalInt64(1)) }
        guard !rows.isEmpty else { return (false, nil) }
        try connection.execute(
            "UPDATE control SET handled_at = ? WHERE runner_id = ? AND handled_at IS NULL",
            [.integer(now), .integer(runnerID)]
        )
        let grace = rows.compactMap(\.1).min().map { Duration.microseconds($0) }
        return (true, grace)
    }

    /// Marks the runner as draining (visible to `jobctl status` and `jobctl drain`).
    func markDraining(runnerID: Int64) throws {
        try connection.write {
            try connection.execute(
                "UPDATE runners SET state = 'draining' WHERE id = ? AND state = 'running'",
                [.integer(runnerID)]
            )
        }
    }

    /// Deregisters a runner that has stopped. Runs it still holds are recorded `interrupted`.
    func deregisterRunner(runnerID: Int64, now: UnixMicros) throws {
        try connection.write {
            let leftovers = try connection.all(
                "SELECT id FROM runs WHERE runner_id = ? AND outcome = 'running'",
                [.integer(runnerID)]
            ) { $0.int64(0) }
            for runID in leftovers {
                _ = try finishOrphan(
                    runID: runID, outcome: .interrupted, error: "the runner stopped during the run", now: now)
            }
            try connection.execute(
                "UPDATE runners SET state = 'stopped', stopped_at = ? WHERE id = ? AND state IN ('running', 'draining')",
                [.integer(now), .integer(runnerID)]
            )
        }
    }

    /// Records the runs of dead runners `abandoned` and reschedules their jobs, as a live runner
    /// does at each heartbeat; what is left of their commands on this host is killed first. Any
    /// process may call it (`jobctl status`, `drain` and `stop --wait` do), so that a runner killed
    /// with `kill -9` is seen dead and never waited for, even when no other runner is alive.
    ///
    /// A runner is dead once its heartbeat lease has expired, or at once when it ran on this host
    /// and its process is gone.
    ///
    /// - Returns: the ids of the runs recorded `abandoned`.
    @discardableResult
    public func rescueDeadRunners() throws -> [Int64] {
        try rescueDeadRunners(selfID: nil, host: ProcessInfo.processInfo.hostName, now: clock.now())
    }

    /// ``rescueDeadRunners()`` on behalf of the runner `selfID` (never declared dead by itself).
    func rescueDeadRunners(selfID: Int64?, host: String, now: UnixMicros) throws -> [Int64] {
        let databasePath = ProcessLiveness.canonicalPath(path)
        return try rescueOrphans(
            selfID: selfID,
            host: host,
            now: now,
            isProcessAlive: ProcessLiveness.isAlive,
            killLeftovers: { runID, pgid, leaderStart in
                if let pgid {
                    ProcessLiveness.killGroup(pgid, leaderStart: leaderStart)
                } else {
                    ProcessLiveness.killProcesses(ofRun: runID, database: databasePath)
                }
            }
        )
    }

    /// Finds runners whose lease expired (or, on this host, whose process is gone), marks them dead,
    /// and records their runs `abandoned`, rescheduling each job by its policy.
    ///
    /// - Returns: the abandoned run ids.
    func rescueOrphans(
        selfID: Int64?,
        host: String,
        now: UnixMicros,
        isProcessAlive: (Int32) -> Bool,
        killLeftovers: (_ runID: Int64, _ pgid: Int32?, _ leaderStart: Int64?) -> Void = { _, _, _ in }
    ) throws -> [Int64] {
        func deadRunners() throws -> [Int64] {
            let candidates = try connection.all(
                "SELECT id, host, pid, heartbeat_at, lease_us FROM runners WHERE state IN ('running', 'draining')"
            ) {
                (
                    id: $0.int64(0), host: $0.string(1), pid: Int32(truncatingIfNeeded: $0.int64(2)),
                    heartbeat: $0.int64(3), lease: $0.int64(4)
                )
            }
            var dead: [Int64] = []
            for runner in candidates where runner.id != selfID {
                let expired = runner.heartbeat + runner.lease < now
                let gone = runner.host == host && !isProcessAlive(runner.pid)
                if expired || gone { dead.append(runner.id) }
            }
            return dead
        }
        // A look first, in a read transaction: almost always nobody died, and a write transaction
        // would wait behind any other writer (a `jobctl status` held up by a long write, a heartbeat).
        let needed = try connection.read {
            try !deadRunners().isEmpty
                || connection.scalarInt(
                    """
                    SELECT count(*) FROM runs r LEFT JOIN runners n ON n.id = r.runner_id
                    WHERE r.outcome = 'running' AND (n.id IS NULL OR n.state NOT IN ('running', 'draining'))
                    """
                ) ?? 0 > 0
        }
        guard needed else { return [] }
        return try connection.write {
            let dead = try deadRunners()
            for id in dead {
                try connection.execute(
                    "UPDATE runners SET state = 'dead', stopped_at = ? WHERE id = ?",
                    [.integer(now), .integer(id)]
                )
            }
            // Every running run whose runner is no longer live is abandoned.
            let orphans = try connection.all(
                """
                SELECT r.id, r.pgid, r.pgid_start, n.host FROM runs r LEFT JOIN runners n ON n.id = r.runner_id
                WHERE r.outcome = 'running' AND (n.id IS NULL OR n.state NOT IN ('running', 'draining'))
                """
            ) { (id: $0.int64(0), pgid: $0.optionalInt64(1), start: $0.optionalInt64(2), host: $0.optionalString(3)) }
            var abandoned: [Int64] = []
            for orphan in orphans {
                // What is left of a command of the dead runner on this host is killed before the job
                // may run again, so that it never runs twice at once.
                if orphan.host == host {
                    killLeftovers(orphan.id, orphan.pgid.map { Int32(truncatingIfNeeded: $0) }, orphan.start)
                }
                if try finishOrphan(
                    runID: orphan.id, outcome: .abandoned, error: "the runner died during the run", now: now)
                {
                    abandoned.append(orphan.id)
                }
            }
            return abandoned
        }
    }

    /// Records a run as interrupted or abandoned from its history row alone (its runner is not there to do it).
    private func finishOrphan(runID: Int64, outcome: RunOutcome, error: String, now: UnixMicros) throws -> Bool {
        guard
            let row = try connection.first(
                "SELECT job_id, job_name, attempt, scheduled_for, started_at, runner_id, triggered FROM runs WHERE id = ?",
                [.integer(runID)],
                map: {
                    (
                        jobID: $0.optionalInt64(0), name: $0.string(1), attempt: $0.int(2), scheduledFor: $0.int64(3),
                        startedAt: $0.int64(4), runnerID: $0.int64(5), triggered: $0.int64(6) != 0
                    )
                }
            )
        else { return false }
        let job = try row.jobID.flatMap { try findJob(id: $0) }
        let claim = Claim(
            runID: runID, jobID: row.jobID ?? -1, jobName: row.name, queue: job?.definition.queue ?? "",
            attempt: row.attempt, occurrence: job?.occurrenceAt ?? row.scheduledFor, scheduledFor: row.scheduledFor,
            startedAt: row.startedAt, action: job?.definition.action ?? .handler(""), payload: nil, timeout: nil,
            triggered: row.triggered
        )
        return try record(
            Completion(
                claim: claim, runnerID: row.runnerID, outcome: outcome, finishedAt: now, exitCode: nil, error: error,
                output: nil)
        )
    }
}
