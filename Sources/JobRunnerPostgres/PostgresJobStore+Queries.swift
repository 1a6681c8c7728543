#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    extension PostgresJobStore {
        /// Runs `body` in one read-only REPEATABLE READ transaction: every statement sees the same
        /// snapshot, as SQLite's read transactions do (counts that agree with each other, a cursor
        /// read at one instant).
        func snapshotRead<T>(_ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
            try await transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
        }

        /// A row limit for SQL: SQLite reads a negative LIMIT as "no limit", PostgreSQL refuses it.
        static func sqlLimit(_ limit: Int?) -> Int64 {
            guard let limit, limit >= 0 else { return Int64.max }
            return Int64(limit)
        }

        // MARK: History

        /// Run history, newest first (see `SQLiteJobStore.history(_:)`).
        ///
        /// - Throws: `JobRunnerError.jobNotFound` when `query.job` names no job and no history.
        package func history(_ query: HistoryQuery) async throws -> [RunRecord] {
            let limit = Int64(max(0, query.limit))
            let outcome = query.outcome?.rawValue
            return try await read { connection in
                // A NULL filter is folded away when the statement is planned with its values, so each
                // filter that is set can use its index (runs_job_name, runs_job).
                // Keyset paging by id (`before`, `after`); after a run, the runs right after it are
                // read oldest first and returned newest first.
                var runs = try await all(
                    """
                    SELECT \(unescaped: JobRow.runColumns) FROM runs
                    WHERE (\(query.job)::text IS NULL OR job_name = \(query.job))
                        AND (\(query.jobID)::bigint IS NULL OR job_id = \(query.jobID))
                        AND (\(query.since)::bigint IS NULL OR started_at >= \(query.since))
                        AND (\(outcome)::text IS NULL OR outcome = \(outcome))
                        AND (\(query.before)::bigint IS NULL OR id < \(query.before))
                        AND (\(query.after)::bigint IS NULL OR id > \(query.after))
                    ORDER BY id \(unescaped: query.after == nil ? "DESC" : "ASC") LIMIT \(limit)
                    """, on: connection
                ) { try JobRow.decodeRun($0) }
                if query.after != nil { runs.reverse() }
                if runs.isEmpty, let job = query.job, try await findJob(named: job, on: connection) == nil {
                    throw JobRunnerError.jobNotFound(job)
                }
                return runs
            }
        }

        /// One run by id.
        package func run(id: Int64) async throws -> RunRecord? {
            try await read { connection in
                try await first("SELECT \(unescaped: JobRow.runColumns) FROM runs WHERE id = \(id)", on: connection) {
                    try JobRow.decodeRun($0)
                }
            }
        }

        // MARK: Status

        /// Counts over the whole database, read in one snapshot. The totals by outcome are the sums of
        /// `run_totals`' shards.
        ///
        /// - Parameter perJobLimit: list at most this many jobs (by name, in byte order) in
        ///   `StoreStatus.perJob`; nil for all.
        package func status(perJobLimit: Int?) async throws -> StoreStatus {
            let now = clock.now()
            let perJobLimit = Self.sqlLimit(perJobLimit)
            return try await snapshotRead { connection in
                var jobs: [JobState: Int] = [:]
                for (state, count) in try await all(
                    "SELECT state, count(*) FROM jobs GROUP BY state", on: connection,
                    map: { (try $0.string(0), try $0.int(1)) })
                {
                    if let state = JobState(rawValue: state) { jobs[state] = count }
                }
                var runs: [RunOutcome: Int64] = [:]
                for (outcome, count) in try await all(
                    "SELECT outcome, sum(count)::bigint FROM run_totals GROUP BY outcome", on: connection,
                    map: { (try $0.string(0), try $0.int64(1)) })
                {
                    if let outcome = RunOutcome(rawValue: outcome) { runs[outcome] = count }
                }
                let inFlight =
                    try await scalar("SELECT count(*) FROM runs WHERE outcome = 'running'", on: connection) ?? 0
                let due = try await dueCount(now: now, limit: Int.max, on: connection)
                let perJob = try await all(
                    """
                    SELECT name, run_count FROM jobs ORDER BY name COLLATE "C" LIMIT \(perJobLimit)
                    """, on: connection
                ) { (name: try $0.string(0), runCount: try $0.int64(1)) }
                return StoreStatus(
                    jobsByState: jobs,
                    runsByOutcome: runs,
                    liveRunners: try await liveRunners(on: connection),
                    inFlight: Int(inFlight),
                    due: due,
                    perJob: perJob
                )
            }
        }

        /// How many jobs are due at `now` but not yet claimed, counting at most `limit`.
        /// Jobs due at `now` and not yet claimed, at most `limit`.
        ///
        /// A runner samples this right after each heartbeat (its `jobrunner_due_waiting` gauge); the
        /// heartbeat's statement counts them too (``heartbeat(runnerID:now:)``), and that count answers
        /// when it was taken at most a quarter of a second before `now` with the same limit: one round
        /// trip fewer per beat, most of what an idle runner does.
        package func dueCount(now: UnixMicros, limit: Int) async throws -> Int {
            if let taken = heartbeatDueCount, taken.limit == limit, (0...250_000).contains(now - taken.now) {
                heartbeatDueCount = nil
                return taken.count
            }
            return try await read { connection in try await dueCount(now: now, limit: limit, on: connection) }
        }

        /// The limit of the due count a heartbeat takes: the runner's gauge's.
        static let heartbeatDueLimit = 100_000

        /// Appends ``dueCount(now:limit:)``'s statement to `sql` (also a scalar subquery of the heartbeat's).
        static func appendDueCount(to sql: inout PostgresQuery.StringInterpolation, now: UnixMicros, limit: Int) {
            let limit = Int64(max(0, limit))
            sql.appendLiteral("SELECT least(coalesce(sum(due.n), 0), ")
            sql.appendInterpolation(limit)
            sql.appendLiteral(
                """
                )::bigint FROM queues q CROSS JOIN LATERAL (SELECT count(*) AS n FROM (SELECT 1 FROM jobs \
                WHERE queue = q.name AND state = 'active' AND running_run_id IS NULL AND next_run_at IS NOT NULL \
                AND next_run_at <= 
                """)
            sql.appendInterpolation(now)
            sql.appendLiteral(" LIMIT ")
            sql.appendInterpolation(limit)
            sql.appendLiteral(") AS one) AS due")
        }

        /// Counts queue by queue (one statement), so that each count is a range of the `jobs_due`
        /// index, at most `limit` rows of it, rather than a walk over every job. The result is
        /// min(due, limit), as SQLite's loop over the queues gives.
        private func dueCount(now: UnixMicros, limit: Int, on connection: PostgresConnection) async throws -> Int {
            var sql = PostgresQuery.StringInterpolation(literalCapacity: 320, interpolationCount: 3)
            Self.appendDueCount(to: &sql, now: now, limit: limit)
            return Int(try await scalar(PostgresQuery(stringInterpolation: sql), on: connection) ?? 0)
        }

        // MARK: Runners

        /// Runners that are running or draining.
        package func liveRunners() async throws -> [RunnerRecord] {
            try await read { connection in try await liveRunners(on: connection) }
        }

        /// All runners ever registered, newest first.
        package func runners(limit: Int) async throws -> [RunnerRecord] {
            let limit = Self.sqlLimit(limit)
            return try await read { connection in
                try await all(
                    "SELECT \(unescaped: JobRow.runnerColumns) FROM runners ORDER BY id DESC LIMIT \(limit)",
                    on: connection
                ) { try JobRow.decodeRunner($0) }
            }
        }

        func liveRunners(on connection: PostgresConnection) async throws -> [RunnerRecord] {
            try await all(
                """
                SELECT \(unescaped: JobRow.runnerColumns) FROM runners
                WHERE state IN ('running', 'draining') ORDER BY id
                """, on: connection
            ) { try JobRow.decodeRunner($0) }
        }

        // MARK: Drains

        /// Asks every live runner of this database to drain, with an optional grace period that
        /// overrides each runner's own. Returns the runners asked and when.
        ///
        /// The request wakes the runners at once through `NOTIFY` on ``wakeChannel`` when it commits;
        /// a runner that misses it takes the order at its next heartbeat.
        package func requestDrain(grace: Duration?) async throws -> DrainRequest {
            let now = clock.now()
            let graceUs = grace?.microseconds
            return try await write { connection in
                let runners = try await liveRunners(on: connection)
                if !runners.isEmpty {
                    try await execute(
                        """
                        INSERT INTO control (kind, runner_id, grace_us, requested_at)
                        SELECT 'drain', id, \(graceUs), \(now) FROM unnest(\(runners.map(\.id))::bigint[]) AS id
                        """, on: connection)
                    try await notifyRunners(on: connection)
                }
                return DrainRequest(runners: runners, requestedAt: now)
            }
        }

        /// The state of the given runners and what their runs that ended since `since` came to, for
        /// following a drain.
        package func drainProgress(runnerIDs: [Int64], since: UnixMicros) async throws -> DrainProgress {
            try await snapshotRead { connection in
                let live = try await all(
                    """
                    SELECT \(unescaped: JobRow.runnerColumns) FROM runners
                    WHERE id = ANY(\(runnerIDs)) AND state IN ('running', 'draining') ORDER BY id
                    """, on: connection
                ) { try JobRow.decodeRunner($0) }
                var outcomes: [RunOutcome: Int] = [:]
                var inFlight = 0
                for (outcome, count) in try await all(
                    """
                    SELECT outcome, count(*) FROM runs
                    WHERE runner_id = ANY(\(runnerIDs)) AND (outcome = 'running' OR finished_at >= \(since))
                    GROUP BY outcome
                    """, on: connection, map: { (try $0.string(0), try $0.int(1)) })
                {
                    guard let outcome = RunOutcome(rawValue: outcome) else { continue }
                    if outcome == .running { inFlight = count } else { outcomes[outcome] = count }
                }
                return DrainProgress(live: live, inFlight: inFlight, outcomes: outcomes)
            }
        }
    }
#endif
