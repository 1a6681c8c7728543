import Foundation
import JobRunner

/// Fills a new database with many future jobs and a long history, in a few statements.
///
/// The schema comes from the library (its migration); the rows are what the library would have
/// written for `every 1d` handler jobs that have each run several times. Indexes are dropped during
/// the load and recreated from their own stored SQL, so the file ends with exactly the schema of
/// `migrations/0001_create_schema.sql`.
enum BenchSeeder {
    /// Creates `path` and seeds it with `futureJobs` jobs (due between 1 h and 25 h from now) and
    /// `history` finished runs spread over them.
    static func seed(path: String, futureJobs: Int, history: Int) async throws {
        try await createSchema(path)
        let now = BenchClock.now()
        let db = try BenchSQLite(path: path)
        // A bulk load on a private file: no journal, no syncs, a large cache for index builds.
        // (If another connection were still open, the journal would stay WAL: slower, still correct.)
        _ = try db.strings("PRAGMA journal_mode=OFF")
        try db.exec("PRAGMA synchronous=OFF; PRAGMA cache_size=-524288; PRAGMA temp_store=MEMORY")
        let indexes = try db.strings(
            """
            SELECT name || char(10) || sql FROM sqlite_schema
            WHERE type = 'index' AND tbl_name IN ('jobs', 'runs') AND sql IS NOT NULL ORDER BY name
            """
        ).map { line -> (name: String, sql: String) in
            let parts = line.split(separator: "\n", maxSplits: 1)
            return (String(parts[0]), String(parts[1]))
        }
        try db.exec("BEGIN")
        for index in indexes { try db.exec("DROP INDEX \(index.name)") }
        try db.run("INSERT INTO queues (name, updated_at) VALUES ('default', ?) ON CONFLICT(name) DO NOTHING", [now])
        let day: Int64 = 86_400_000_000
        let hour: Int64 = 3_600_000_000
        if futureJobs > 0 {
            let spacing = max(1, day / Int64(futureJobs))
            let runsPerJob = Int64(history / futureJobs)
            try db.run(
                """
                WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
                INSERT INTO jobs (name, queue, kind, handler, schedule_kind, schedule, interval_us, fixed_delay,
                    anchor_at, max_retries, backoff_us, jitter_us, misfire, state, next_run_at, occurrence_at,
                    attempt, run_count, ok_count, failed_count, abandoned_streak, last_outcome, last_started_at,
                    last_finished_at, created_at, updated_at)
                SELECT printf('future-%07d', i), 'default', 'handler', 'tick', 'every', 'every 1d', ?2, 0,
                    ?3 + i * ?4, 0, 1000000, 0, 'coalesce', 'active', ?3 + i * ?4, ?3 + i * ?4,
                    1, ?5, ?5, 0, 0, CASE WHEN ?5 > 0 THEN 'ok' END, ?6, ?6, ?6, ?6
                FROM seq
                """,
                [Int64(futureJobs), day, now + hour, spacing, runsPerJob, now - day]
            )
        }
        if history > 0 {
            let jobs = Int64(max(futureJobs, 1))
            let step: Int64 = 10_000
            try db.run(
                """
                INSERT INTO runners (id, host, pid, started_at, heartbeat_at, lease_us, state, concurrency, stopped_at)
                VALUES (1, 'bench-seed', 1, ?1, ?1, 10000000, 'stopped', 4, ?1)
                """,
                [now - step * Int64(history) - day]
            )
            try db.run(
                """
                WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
                INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at, runner_id,
                    outcome, triggered)
                SELECT 1 + i % ?2, printf('future-%07d', i % ?2), 1, ?3 + i * ?4, ?3 + i * ?4 + 150,
                    ?3 + i * ?4 + 400, 1, 'ok', 0
                FROM seq
                """,
                [Int64(history), jobs, now - step * Int64(history) - day, step]
            )
            try db.run(
                """
                INSERT INTO run_totals (outcome, count) VALUES ('ok', ?)
                ON CONFLICT(outcome) DO UPDATE SET count = count + excluded.count
                """,
                [Int64(history)]
            )
        }
        for index in indexes { try db.exec(index.sql) }
        try db.exec("COMMIT")
        // No ANALYZE: the planner sees the file as a user's would, without statistics.
        _ = try db.strings("PRAGMA journal_mode=WAL")
    }

    /// Opens (and so creates and migrates) the database with the library, then closes it.
    static func createSchema(_ path: String) async throws {
        _ = try await JobStore.open(path: path)
    }

    /// Copies a seeded file (its WAL is checkpointed into it first) to a new path.
    static func copy(_ source: String, to destination: String) throws {
        do {
            let db = try BenchSQLite(path: source)
            try db.exec("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: source, toPath: destination)
        // Flush the copy now: otherwise the runner's first fsync (a WAL checkpoint) would wait for
        // the kernel to write out the whole copied file, and be measured as lateness.
        let fd = open(destination, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
