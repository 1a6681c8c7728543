import Foundation

extension SQLiteJobStore {
    /// Run history, newest first.
    ///
    /// ```swift
    /// let failures = try await store.history(HistoryQuery(job: "prune", outcome: .failed, limit: 10))
    /// ```
    ///
    /// - Throws: ``JobRunnerError`` when `query.job` names no job and no history.
    package func history(_ query: HistoryQuery) throws -> [RunRecord] {
        var conditions: [String] = []
        var args: [SQLiteValue] = []
        if let job = query.job {
            conditions.append("job_name = ?")
            args.append(.text(job))
        }
        if let jobID = query.jobID {
            conditions.append("job_id = ?")
            args.append(.integer(jobID))
        }
        if let since = query.since {
            conditions.append("started_at >= ?")
            args.append(.integer(since))
        }
        if let outcome = query.outcome {
            conditions.append("outcome = ?")
            args.append(.text(outcome.rawValue))
        }
        // Keyset paging: the id bounds are ranges of the primary key, or of runs_job/runs_job_name
        // after the job, so a page deep in the history costs what the first one does.
        if let before = query.before {
            conditions.append("id < ?")
            args.append(.integer(before))
        }
        if let after = query.after {
            conditions.append("id > ?")
            args.append(.integer(after))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        args.append(.integer(Int64(max(0, query.limit))))
        // After a run: the runs right after it, read oldest first, returned newest first.
        let order = query.after == nil ? "DESC" : "ASC"
        return try connection.read {
            var runs = try connection.all(
                "SELECT \(JobRow.runColumns) FROM runs \(filter) ORDER BY id \(order) LIMIT ?",
                args,
                map: JobRow.decodeRun
            )
            if query.after != nil { runs.reverse() }
            if runs.isEmpty, let job = query.job, try findJob(named: job) == nil {
                throw JobRunnerError.jobNotFound(job)
            }
            return runs
        }
    }

    /// One run by id.
    package func run(id: Int64) throws -> RunRecord? {
        try connection.first(
            "SELECT \(JobRow.runColumns) FROM runs WHERE id = ?", [.integer(id)], map: JobRow.decodeRun)
    }

    /// Counts over the whole database: jobs by state, runs by outcome, live runners, in-flight and due work.
    ///
    /// - Parameter perJobLimit: list at most this many jobs (by name) in ``StoreStatus/perJob``; nil for all.
    package func status(perJobLimit: Int?) throws -> StoreStatus {
        let now = clock.now()
        return try connection.read {
            var jobs: [JobState: Int] = [:]
            try connection.query("SELECT state, count(*) FROM jobs GROUP BY state") {
                if let state = JobState(rawValue: $0.string(0)) { jobs[state] = $0.int(1) }
            }
            var runs: [RunOutcome: Int64] = [:]
            try connection.query("SELECT outcome, count FROM run_totals") {
                if let outcome = RunOutcome(rawValue: $0.string(0)) { runs[outcome] = $0.int64(1) }
            }
            let inFlight = try connection.scalarInt("SELECT count(*) FROM runs WHERE outcome = 'running'") ?? 0
            let due = try dueCountLocked(now: now, limit: Int.max)
            let perJob = try connection.all(
                "SELECT name, run_count FROM jobs ORDER BY name LIMIT ?",
                [.integer(Int64(min(perJobLimit ?? Int(Int64.max), Int(Int64.max))))]
            ) { (name: $0.string(0), runCount: $0.int64(1)) }
            return StoreStatus(
                jobsByState: jobs,
                runsByOutcome: runs,
                liveRunners: try liveRunnersLocked(),
                inFlight: Int(inFlight),
                due: Int(due),
                perJob: perJob
            )
        }
    }

    /// How many jobs are due at `now` but not yet claimed, counting at most `limit`.
    package func dueCount(now: UnixMicros, limit: Int) throws -> Int {
        try connection.read { try dueCountLocked(now: now, limit: limit) }
    }

    /// Counts queue by queue, so that each count is a range of the `jobs_due` index (O(log n + due))
    /// rather than a walk over every job.
    private func dueCountLocked(now: UnixMicros, limit: Int) throws -> Int {
        let queues = try connection.all("SELECT name FROM queues") { $0.string(0) }
        var total = 0
        for queue in queues where total < limit {
            total += Int(
                try connection.scalarInt(
                    """
                    SELECT count(*) FROM (
                        SELECT 1 FROM jobs
                        WHERE queue = ? AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL
                            AND next_run_at <= ?
                        LIMIT ?)
                    """,
                    [.text(queue), .integer(now), .integer(Int64(min(limit - total, Int(Int64.max))))]
                ) ?? 0
            )
        }
        return total
    }

    /// Runners that are running or draining.
    package func liveRunners() throws -> [RunnerRecord] { try liveRunnersLocked() }

    /// All runners ever registered, newest first.
    package func runners(limit: Int) throws -> [RunnerRecord] {
        try connection.all(
            "SELECT \(JobRow.runnerColumns) FROM runners ORDER BY id DESC LIMIT ?",
            [.integer(Int64(limit))],
            map: JobRow.decodeRunner
        )
    }

    func liveRunnersLocked() throws -> [RunnerRecord] {
        try connection.all(
            "SELECT \(JobRow.runnerColumns) FROM runners WHERE state IN ('running', 'draining') ORDER BY id",
            map: JobRow.decodeRunner
        )
    }

    /// Asks every live runner of this database to drain, with an optional grace period that overrides
    /// each runner's own. Returns the runners asked and when.
    ///
    /// The runners notice the request within their change-detection interval (40 ms by default).
    package func requestDrain(grace: Duration?) throws -> DrainRequest {
        let now = clock.now()
        return try connection.write {
            let runners = try liveRunnersLocked()
            for runner in runners {
                try connection.execute(
                    "INSERT INTO control (kind, runner_id, grace_us, requested_at) VALUES ('drain', ?, ?, ?)",
                    [.integer(runner.id), .int(grace?.microseconds), .integer(now)]
                )
            }
            return DrainRequest(runners: runners, requestedAt: now)
        }
    }

    /// The state of the given runners and what their runs that ended since `since` came to, for following a drain.
    package func drainProgress(
        runnerIDs: [Int64],
        since: UnixMicros
    ) throws -> DrainProgress {
        let ids = JobRow.encodeArgv(runnerIDs.map(String.init))
        return try connection.read {
            let live = try connection.all(
                """
                SELECT \(JobRow.runnerColumns) FROM runners
                WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) AND state IN ('running', 'draining')
                """,
                [.text(ids)],
                map: JobRow.decodeRunner
            )
            var outcomes: [RunOutcome: Int] = [:]
            var inFlight = 0
            try connection.query(
                """
                SELECT outcome, count(*) FROM runs
                WHERE runner_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))
                    AND (outcome = 'running' OR finished_at >= ?)
                GROUP BY outcome
                """,
                [.text(ids), .integer(since)]
            ) { row in
                guard let outcome = RunOutcome(rawValue: row.string(0)) else { return }
                if outcome == .running { inFlight = row.int(1) } else { outcomes[outcome] = row.int(1) }
            }
            return DrainProgress(live: live, inFlight: inFlight, outcomes: outcomes)
        }
    }
}
