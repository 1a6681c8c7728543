#if PostgreSQL
    import JobRunner
    import PostgresNIO

    extension PostgresJobStore {
        /// Fills an empty database with what bench/dashboard measures, the rows `BenchmarkDatabase.seed`
        /// writes into a SQLite file: `futureJobs` jobs `future-NNNNNNN` (every 1 d, due one after
        /// another from 1 h from now over a day, each with its share of the history counted as ok), and
        /// `history` ok runs 10 ms apart ending a day ago, over those jobs in turn, by one stopped
        /// runner, with their number in the totals by outcome.
        ///
        /// The rows are made by the server (`generate_series`), every value bound, the runs in
        /// statements of a million so that no statement queues ten million foreign-key checks. The
        /// indexes of `jobs` and `runs` other than their keys are dropped for the load and built again
        /// from their own definitions (`pg_indexes`) afterwards; then both tables are vacuumed and
        /// analysed. One transaction: a seed that fails leaves the database as it was.
        ///
        /// - Throws: `JobRunnerError.invalidState` when the database has jobs or runs already.
        package func seedDashboardBench(futureJobs: Int, history: Int) async throws {
            let now = clock.now()
            let day: Int64 = 86_400_000_000
            let hour: Int64 = 3_600_000_000
            let jobs = Int64(max(0, futureJobs))
            let runs = Int64(max(0, history))
            let prefix = "future-"
            try await write { connection in
                let existing =
                    try await scalar(
                        "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM runs)", on: connection) ?? 0
                guard existing == 0 else {
                    throw JobRunnerError.invalidState("the database holds jobs or runs already; seed an empty one")
                }
                try await execute("SET LOCAL maintenance_work_mem = '256MB'", on: connection)
                let indexes = try await all(
                    """
                    SELECT i.indexname, i.indexdef FROM pg_indexes i
                    WHERE i.schemaname = current_schema() AND i.tablename IN ('jobs', 'runs')
                        AND NOT EXISTS (
                            SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))
                    ORDER BY i.indexname
                    """, on: connection
                ) { (name: try $0.string(0), definition: try $0.string(1)) }
                for index in indexes {
                    // An identifier cannot be a bound parameter: the name comes from the catalog, quoted.
                    let quoted =
                        "\""
                        + index.name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"")
                        + "\""
                    try await execute("DROP INDEX \(unescaped: quoted)", on: connection)
                }
                try await ensureQueue("default", now: now, on: connection)
                if jobs > 0 {
                    let spacing = max(1, day / jobs)
                    let runsPerJob = runs / jobs
                    let lastOutcome: String? = runsPerJob > 0 ? "ok" : nil
                    try await execute(
                        """
                        INSERT INTO jobs (name, queue, kind, handler, schedule_kind, schedule, interval_us, fixed_delay,
                            anchor_at, max_retries, backoff_us, jitter_us, misfire, state, next_run_at, occurrence_at,
                            attempt, run_count, ok_count, failed_count, abandoned_streak, last_outcome, last_started_at,
                            last_finished_at, created_at, updated_at)
                        SELECT \(prefix) || lpad(i::text, 7, '0'), 'default', 'handler', \("tick"), 'every',
                            \("every 1d"), \(day), false, \(now + hour) + i * \(spacing), 0, 1000000, 0, 'coalesce',
                            'active', \(now + hour) + i * \(spacing), \(now + hour) + i * \(spacing), 1, \(runsPerJob),
                            \(runsPerJob), 0, 0, \(lastOutcome), \(now - day), \(now - day), \(now - day), \(now - day)
                        FROM generate_series(0::bigint, \(jobs - 1)) AS i
                        """, on: connection)
                }
                if runs > 0 {
                    let step: Int64 = 10_000
                    let first = now - step * runs - day
                    guard
                        let runner = try await scalar(
                            """
                            INSERT INTO runners (host, pid, started_at, heartbeat_at, lease_us, state, concurrency,
                                stopped_at)
                            VALUES (\("bench-seed"), 1, \(first), \(first), 10000000, 'stopped', 4, \(first))
                            RETURNING id
                            """, on: connection)
                    else { throw JobRunnerError.database("the seed's runner was not inserted") }
                    let firstJob = try await scalar("SELECT min(id) FROM jobs", on: connection)
                    let jobCount = max(jobs, 1)
                    let batch: Int64 = 1_000_000
                    for from in stride(from: Int64(0), to: runs, by: Int(batch)) {
                        try await execute(
                            """
                            INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at,
                                runner_id, outcome, triggered, queue)
                            SELECT \(firstJob) + i % \(jobCount), \(prefix) || lpad((i % \(jobCount))::text, 7, '0'), 1,
                                \(first) + i * \(step), \(first) + i * \(step) + 150, \(first) + i * \(step) + 400,
                                \(runner), 'ok', false, 'default'
                            FROM generate_series(\(from), \(min(runs, from + batch) - 1)) AS i
                            """, on: connection)
                    }
                    try await execute(
                        """
                        INSERT INTO run_totals (outcome, shard, count) VALUES ('ok', \(Int16(runner % 16)), \(runs))
                        ON CONFLICT (outcome, shard) DO UPDATE SET count = run_totals.count + excluded.count
                        """, on: connection)
                }
                for index in indexes { try await execute("\(unescaped: index.definition)", on: connection) }
            }
            // As autovacuum would leave them, and at once rather than some time during the measurement:
            // statistics for the planner, and visibility maps for index-only scans.
            try await read { connection in try await execute("VACUUM (ANALYZE) jobs, runs", on: connection) }
        }
    }
#endif
