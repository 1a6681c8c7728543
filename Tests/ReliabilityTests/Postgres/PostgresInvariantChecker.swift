import Foundation
import TestSupport

/// The invariants of `SQLite/InvariantChecker.swift`, checked on a PostgreSQL database through `psql`,
/// independently of the product's code:
///
/// 1. the B-tree indexes of JobRunner's tables pass amcheck's `bt_index_check` (with `heapallindexed`)
///    and the tables pass `verify_heapam`; no run names a job that does not exist;
/// 2. every run has a final outcome and a finish time, or belongs to a live runner (and, when that
///    runner has this process's host key, whose process exists here);
/// 3. no scheduled occurrence has two `ok` runs;
/// 4. every active job still has a next occurrence, a trigger or a run in flight;
/// 5. each job's counters equal its history rows, `run_totals` (its shards summed) equals the history
///    by outcome, and a job's in-flight marker and its `running` run agree;
/// 6. nothing ran before its time;
/// 7. every job a client was told was added exists.
enum PostgresInvariantChecker {
    static func check(url: String, acknowledged: Set<String> = []) throws -> InvariantReport {
        let psql = Psql(url: url)
        var report = InvariantReport()
        func violation(_ text: String) { report.violations.append(text) }

        // 1. The database is sound (amcheck ships with postgresql-15's contrib; the test owns the database).
        do {
            try psql.run("CREATE EXTENSION IF NOT EXISTS amcheck;")
            let checked = try psql.int(
                """
                SELECT count(*) FROM (
                    SELECT bt_index_check(index => c.oid, heapallindexed => true)
                    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
                    WHERE a.amname = 'btree' AND c.relnamespace = current_schema()::regnamespace
                ) AS checked
                """)
            if checked == 0 { violation("amcheck: no B-tree index found to check") }
            let corrupt = try psql.rows(
                """
                SELECT c.relname, v.blkno, v.msg FROM pg_class c, verify_heapam(c.oid) AS v
                WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
                """)
            for row in corrupt.prefix(5) { violation("verify_heapam: \(row)") }
        } catch {
            violation("amcheck: \(error)")
        }
        let dangling = try psql.int(
            "SELECT count(*) FROM runs r WHERE r.job_id IS NOT NULL AND NOT EXISTS (SELECT FROM jobs j WHERE j.id = r.job_id)"
        )
        if dangling != 0 { violation("\(dangling) run(s) name a job that does not exist") }

        report.jobs = Int(try psql.int("SELECT count(*) FROM jobs"))
        for row in try psql.rows("SELECT outcome, count(*) FROM runs GROUP BY outcome") {
            report.runsByOutcome[row[0].string ?? "?"] = row[1].int ?? 0
        }

        // 2. Every run is final, or in flight on a runner that is alive.
        let hostKey = Self.hostKey
        for row in try psql.rows(
            """
            SELECT r.id, r.job_name, r.outcome, r.finished_at, n.id, n.state, n.host_key, n.pid
            FROM runs r LEFT JOIN runners n ON n.id = r.runner_id
            WHERE r.outcome = 'running' OR r.finished_at IS NULL
            """
        ) {
            let run = "run \(row[0]) of \(row[1])"
            guard row[2].string == "running" else {
                violation("\(run) is \(row[2]) but has no finish time")
                continue
            }
            if !row[3].isNull { violation("\(run) is running but has a finish time") }
            let live = ["running", "draining"].contains(row[5].string ?? "")
            let sameHostDead =
                row[6].string == hostKey && !ProcessTable.isLiving(Int32(truncatingIfNeeded: row[7].int ?? 0))
            if !live || sameHostDead {
                violation("\(run) has no final outcome and its runner \(row[4]) is \(row[5]) (pid \(row[7]))")
            }
        }

        // 3. No occurrence recorded ok twice.
        for row in try psql.rows(
            """
            SELECT job_name, scheduled_for, count(*) FROM runs WHERE outcome = 'ok' AND NOT triggered
            GROUP BY coalesce(job_id, -1), job_name, scheduled_for HAVING count(*) > 1
            """
        ) {
            violation("occurrence \(row[1]) of \(row[0]) has \(row[2]) ok runs")
        }

        // 4. Every active job has something ahead of it.
        for row in try psql.rows(
            """
            SELECT name, schedule_kind FROM jobs
            WHERE state = 'active' AND next_run_at IS NULL AND running_run_id IS NULL AND trigger_at IS NULL
            """
        ) {
            violation("active \(row[1]) job \(row[0]) has no next occurrence and nothing in flight")
        }

        // 5. Counters equal the history; in-flight markers agree with the runs.
        for row in try psql.rows(
            """
            SELECT j.name, j.run_count, j.ok_count, j.failed_count,
                (SELECT count(*) FROM runs r WHERE r.job_id = j.id AND r.outcome <> 'running'),
                (SELECT count(*) FROM runs r WHERE r.job_id = j.id AND r.outcome = 'ok'),
                (SELECT count(*) FROM runs r WHERE r.job_id = j.id AND r.outcome IN ('failed', 'timeout'))
            FROM jobs j
            """
        ) where row[1] != row[4] || row[2] != row[5] || row[3] != row[6] {
            violation(
                "counters of \(row[0]) (runs \(row[1]), ok \(row[2]), failed \(row[3])) differ from its history "
                    + "(runs \(row[4]), ok \(row[5]), failed \(row[6]))")
        }
        var totals: [String: Int64] = [:]
        for row in try psql.rows("SELECT outcome, sum(count)::bigint FROM run_totals GROUP BY outcome") {
            totals[row[0].string ?? "?"] = row[1].int
        }
        for (outcome, count) in report.runsByOutcome where outcome != "running" && totals[outcome, default: 0] != count
        {
            violation("run_totals says \(totals[outcome, default: 0]) \(outcome) runs, the history has \(count)")
        }
        for (outcome, count) in totals where count != 0 && report.runsByOutcome[outcome] == nil {
            violation("run_totals says \(count) \(outcome) runs, the history has none")
        }
        for row in try psql.rows(
            """
            SELECT j.name, j.running_run_id, r.outcome FROM jobs j LEFT JOIN runs r ON r.id = j.running_run_id
            WHERE j.running_run_id IS NOT NULL AND (r.id IS NULL OR r.outcome <> 'running' OR r.job_id <> j.id)
            """
        ) {
            violation("job \(row[0]) is marked in flight with run \(row[1]), which is \(row[2])")
        }
        for row in try psql.rows(
            """
            SELECT r.id, r.job_name FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.outcome = 'running' AND (j.running_run_id IS NULL OR j.running_run_id <> r.id)
            """
        ) {
            violation("run \(row[0]) of \(row[1]) is running but its job does not know it (two at once?)")
        }

        // 6. Nothing ran early.
        for row in try psql.rows(
            "SELECT id, job_name, scheduled_for, started_at FROM runs WHERE started_at < scheduled_for LIMIT 20"
        ) {
            violation("run \(row[0]) of \(row[1]) started at \(row[3]), before its time \(row[2])")
        }

        // 7. Nothing acknowledged is missing.
        let present = Set(try psql.strings("SELECT name FROM jobs"))
        for name in acknowledged.subtracting(present).sorted().prefix(20) {
            violation("job \(name) was acknowledged to its client but is not in the database")
        }
        return report
    }

    /// This process's host key as the runners write it (`runners.host_key`): the boot id and the PID
    /// namespace. Only runners with this key have pids that mean something here.
    static let hostKey: String = {
        let boot =
            (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let namespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        return "\(boot)/\(namespace)"
    }()
}
