import CSQLite
import Foundation

/// What `jobctl bench` needs of a database beyond the public API: a large file seeded in a few
/// statements, a consistent copy of it, figures read back on a connection of its own while a runner
/// works, and the cron comparison's UPDATE. Package-level, for the benchmark only: the runner and
/// the rest of the library never use it.
package enum BenchmarkDatabase {
    /// The SQLite library this process runs, for the report.
    package static var sqliteVersion: String { String(cString: sqlite3_libversion()) }

    /// How the benchmark's own connections wait for another connection's lock.
    static func options(readOnly: Bool = false) -> Connection.Options {
        var options = Connection.Options()
        options.busyTimeout = .seconds(10)
        options.readOnly = readOnly
        return options
    }

    // MARK: Seeding

    /// Creates the database at `path` (through ``JobStore/open(path:configuration:clock:)``, so the
    /// schema is the migrations') and fills it with `futureJobs` jobs and `history` finished runs.
    ///
    /// The rows are what the library would have written for `every 1d` handler jobs (handler `tick`,
    /// queue `default`) that have each run several times: the jobs are due between 1 h and 25 h from
    /// now, the runs are spread over them, ok, by one stopped runner. Indexes of `jobs` and `runs` are
    /// dropped during the load and recreated from their own stored SQL, so the file ends with exactly
    /// the schema of the migrations. No `ANALYZE`: the planner sees the file as a user's would.
    package static func seed(path: String, futureJobs: Int, history: Int) async throws {
        _ = try await JobStore.open(path: path)
        let now = SystemJobClock().now()
        let connection = try Connection(path: path, options: options())
        // A bulk load on a private file: no journal, no syncs, a large cache for the index builds,
        // and no foreign-key lookups (the rows are consistent by construction). While another
        // connection is still open (the store's, on its way out) SQLite refuses to leave WAL mode:
        // the load is then journaled, slower and still correct, so that refusal is no error.
        try connection.execute("PRAGMA foreign_keys=OFF")
        try? connection.execute("PRAGMA journal_mode=OFF")
        try connection.execute("PRAGMA synchronous=OFF")
        try connection.execute("PRAGMA cache_size=-524288")
        try connection.execute("PRAGMA temp_store=MEMORY")
        let indexes = try connection.all(
            """
            SELECT name, sql FROM sqlite_schema
            WHERE type = 'index' AND tbl_name IN (?, ?) AND sql IS NOT NULL ORDER BY name
            """,
            [.text("jobs"), .text("runs")]
        ) { (name: $0.string(0), sql: $0.string(1)) }
        try connection.write {
            // Names and statements come from the schema itself; an identifier cannot be a parameter.
            for index in indexes {
                try connection.executeScript(
                    "DROP INDEX \"\(index.name.replacingOccurrences(of: "\"", with: "\"\""))\"")
            }
            try connection.execute(
                "INSERT INTO queues (name, updated_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                [.text("default"), .integer(now)]
            )
            try insertJobs(connection, count: futureJobs, history: history, now: now)
            try insertRuns(connection, count: history, jobs: futureJobs, now: now)
            for index in indexes { try connection.executeScript(index.sql) }
        }
        // Back to WAL, where the switch above was made; were it refused, the next store to open the
        // file switches it.
        try? connection.execute("PRAGMA journal_mode=WAL")
    }

    private static let day: Int64 = 86_400_000_000
    private static let hour: Int64 = 3_600_000_000
    /// The names of the seeded jobs, for `printf`: `future-0000000`, `future-0000001`, …
    private static let jobNamePattern = "future-%07d"

    /// `count` jobs `future-NNNNNNN`, every 1 d, due one after another from 1 h from now over a day,
    /// each with its share of the `history` runs counted as ok.
    private static func insertJobs(_ connection: Connection, count: Int, history: Int, now: UnixMicros) throws {
        guard count > 0 else { return }
        let spacing = max(1, day / Int64(count))
        let runsPerJob = Int64(history / count)
        try connection.execute(
            """
            WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
            INSERT INTO jobs (name, queue, kind, handler, schedule_kind, schedule, interval_us, fixed_delay,
                anchor_at, max_retries, backoff_us, jitter_us, misfire, state, next_run_at, occurrence_at,
                attempt, run_count, ok_count, failed_count, abandoned_streak, last_outcome, last_started_at,
                last_finished_at, created_at, updated_at)
            SELECT printf(?7, i), ?8, 'handler', ?9, 'every', ?10, ?2, 0,
                ?3 + i * ?4, 0, 1000000, 0, 'coalesce', 'active', ?3 + i * ?4, ?3 + i * ?4,
                1, ?5, ?5, 0, 0, CASE WHEN ?5 > 0 THEN 'ok' END, ?6, ?6, ?6, ?6
            FROM seq
            """,
            [
                .integer(Int64(count)), .integer(day), .integer(now + hour), .integer(spacing), .integer(runsPerJob),
                .integer(now - day), .text(jobNamePattern), .text("default"), .text("tick"), .text("every 1d"),
            ]
        )
    }

    /// `count` ok runs, 10 ms apart, ending a day ago, over the seeded jobs in turn, by one stopped
    /// runner; and their number in the totals by outcome.
    private static func insertRuns(_ connection: Connection, count: Int, jobs: Int, now: UnixMicros) throws {
        guard count > 0 else { return }
        let step: Int64 = 10_000
        let first = now - step * Int64(count) - day
        try connection.execute(
            """
            INSERT INTO runners (id, host, pid, started_at, heartbeat_at, lease_us, state, concurrency, stopped_at)
            VALUES (1, ?2, 1, ?1, ?1, 10000000, 'stopped', 4, ?1)
            """,
            [.integer(first), .text("bench-seed")]
        )
        try connection.execute(
            """
            WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?1)
            INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at, runner_id,
                outcome, triggered)
            SELECT 1 + i % ?2, printf(?5, i % ?2), 1, ?3 + i * ?4, ?3 + i * ?4 + 150,
                ?3 + i * ?4 + 400, 1, 'ok', 0
            FROM seq
            """,
            [
                .integer(Int64(count)), .integer(Int64(max(jobs, 1))), .integer(first), .integer(step),
                .text(jobNamePattern),
            ]
        )
        try connection.execute(
            """
            INSERT INTO run_totals (outcome, count) VALUES ('ok', ?)
            ON CONFLICT(outcome) DO UPDATE SET count = count + excluded.count
            """,
            [.integer(Int64(count))]
        )
    }

    /// Copies a seeded database to `destination` (replacing what is there): its log is checkpointed
    /// into the file first, and the copy is flushed to disk before this returns, so that a runner's
    /// first fsync on it (a WAL checkpoint) does not wait for the kernel to write out the whole
    /// copied file, and is not measured as lateness.
    package static func copy(_ source: String, to destination: String) throws {
        do {
            let connection = try Connection(path: source, options: options())
            try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.copyItem(atPath: source, toPath: destination)
        let fd = open(destination, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    // MARK: Reading back

    /// A read-only connection of the benchmark's own, for figures read while a runner works on the
    /// database (in this process or another) without going through the runner's store, and so
    /// without queueing behind its work. Each call is one cheap query.
    package final class Probe {
        private let connection: Connection

        /// Opens the existing database at `path` read-only.
        package init(path: String) throws {
            connection = try Connection(path: path, options: BenchmarkDatabase.options(readOnly: true))
        }

        /// Runs finished over all time (any outcome), from the totals the finish transaction keeps.
        package func finishedRuns() throws -> Int64 {
            try connection.scalarInt("SELECT coalesce(sum(count), 0) FROM run_totals") ?? 0
        }

        /// The id of the newest run, or 0 when there is none.
        package func lastRunID() throws -> Int64 {
            try connection.scalarInt("SELECT coalesce(max(id), 0) FROM runs") ?? 0
        }

        /// The runs with an id above `id`, and how many of them ended ok (a run still in flight is
        /// one of the first and not of the second).
        package func outcomes(ofRunsAfter id: Int64) throws -> (runs: Int64, ok: Int64) {
            try connection.first(
                "SELECT count(*), coalesce(sum(outcome = ?), 0) FROM runs WHERE id > ?",
                [.text(RunOutcome.ok.rawValue), .integer(id)]
            ) { (runs: $0.int64(0), ok: $0.int64(1)) } ?? (0, 0)
        }

        /// `started_at - scheduled_for`, in microseconds, of the ok runs scheduled in `[from, to)`:
        /// the lateness the history records.
        package func recordedLateness(scheduledFrom from: UnixMicros, to: UnixMicros) throws -> [Int64] {
            try connection.all(
                """
                SELECT started_at - scheduled_for FROM runs
                WHERE scheduled_for >= ? AND scheduled_for < ? AND outcome = ?
                """,
                [.integer(from), .integer(to), .text(RunOutcome.ok.rawValue)]
            ) { $0.int64(0) }
        }
    }

    // MARK: The cron way

    /// The cron comparison's unit of work: one autocommitted UPDATE of one job's run count, made by
    /// a process spawned for it (the `sqlite3` shell) against the same UPDATE in a long-lived process.
    package final class CronTick {
        /// The job the UPDATE counts on; the benchmark adds it.
        package static let jobName = "cron-tick"

        /// The UPDATE as the `sqlite3` shell is given it, one command-line argument. The shell takes
        /// no bound parameters from its command line; the name is the constant ``jobName``.
        package static let shellStatement = "UPDATE jobs SET run_count = run_count + 1 WHERE name = 'cron-tick'"

        private let connection: Connection

        /// Opens the database at `path` (WAL, `synchronous=NORMAL`, as the runner does).
        package init(path: String) throws {
            connection = try Connection(path: path, options: BenchmarkDatabase.options())
        }

        /// The same UPDATE, on this connection, committed.
        package func tick() throws {
            try connection.execute(
                "UPDATE jobs SET run_count = run_count + 1 WHERE name = ?", [.text(CronTick.jobName)])
        }
    }
}

@available(*, unavailable)
extension BenchmarkDatabase.Probe: Sendable {}

@available(*, unavailable)
extension BenchmarkDatabase.CronTick: Sendable {}
