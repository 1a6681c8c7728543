import Foundation
import TestSupport

/// What the invariant checker found in a database.
struct InvariantReport: CustomStringConvertible {
    var violations: [String] = []
    var runsByOutcome: [String: Int64] = [:]
    var jobs = 0

    var totalRuns: Int64 { runsByOutcome.values.reduce(0, +) }
    func runs(_ outcome: String) -> Int64 { runsByOutcome[outcome] ?? 0 }

    var description: String {
        let outcomes = runsByOutcome.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var text = "\(jobs) jobs, \(totalRuns) runs (\(outcomes)); \(violations.count) violation(s)"
        for violation in violations.prefix(20) { text += "\n  - " + violation }
        return text
    }
}

/// The invariants every scenario ends with, checked straight on the database file:
///
/// 1. `PRAGMA integrity_check` is `ok` (and no foreign key dangles);
/// 2. every run has a final outcome and a finish time, or belongs to a live runner;
/// 3. no scheduled occurrence has two `ok` runs;
/// 4. every active job (periodic or one-shot) still has a next occurrence or a run in flight;
/// 5. each job's counters equal its history rows, and the all-time totals equal the history (before
///    any pruning); a job's in-flight marker and its `running` run agree (at most one per job);
/// 6. nothing ran before its time (started at or after it was scheduled);
/// 7. nothing acknowledged is missing: every job a client was told was added exists.
enum InvariantChecker {
    static func check(db: String, acknowledged: Set<String> = []) throws -> InvariantReport {
        let probe = try DatabaseProbe(db)
        var report = InvariantReport()
        func violation(_ text: String) { report.violations.append(text) }

        // 1. The file is sound.
        let integrity = try probe.strings("PRAGMA integrity_check")
        if integrity != ["ok"] { violation("integrity_check: " + integrity.prefix(5).joined(separator: "; ")) }
        let dangling = try probe.rows("PRAGMA foreign_key_check")
        if !dangling.isEmpty { violation("foreign_key_check: \(dangling.count) dangling reference(s)") }

        report.jobs = Int(try probe.int("SELECT count(*) FROM jobs"))
        for row in try probe.rows("SELECT outcome, count(*) FROM runs GROUP BY outcome") {
            report.runsByOutcome[row[0].string ?? "?"] = row[1].int ?? 0
        }

        // 2. Every run is final, or in flight on a runner that is alive.
        let host = ProcessInfo.processInfo.hostName
        for row in try probe.rows(
            """
            SELECT r.id, r.job_name, r.outcome, r.finished_at, n.id, n.state, n.host, n.pid
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
                row[6].string == host && !ProcessTable.isLiving(Int32(truncatingIfNeeded: row[7].int ?? 0))
            if !live || sameHostDead {
                violation("\(run) has no final outcome and its runner \(row[4]) is \(row[5]) (pid \(row[7]))")
            }
        }

        // 3. No occurrence recorded ok twice.
        for row in try probe.rows(
            """
            SELECT job_name, scheduled_for, count(*) FROM runs WHERE outcome = 'ok' AND triggered = 0
            GROUP BY coalesce(job_id, -1), job_name, scheduled_for HAVING count(*) > 1
            """
        ) {
            violation("occurrence \(row[1]) of \(row[0]) has \(row[2]) ok runs")
        }

        // 4. Every active job has something ahead of it.
        for row in try probe.rows(
            """
            SELECT name, schedule_kind FROM jobs
            WHERE state = 'active' AND next_run_at IS NULL AND running_run_id IS NULL AND trigger_at IS NULL
            """
        ) {
            violation("active \(row[1]) job \(row[0]) has no next occurrence and nothing in flight")
        }

        // 5. Counters equal the history; in-flight markers agree with the runs.
        for row in try probe.rows(
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
        for row in try probe.rows("SELECT outcome, count FROM run_totals") { totals[row[0].string ?? "?"] = row[1].int }
        for (outcome, count) in report.runsByOutcome where outcome != "running" && totals[outcome, default: 0] != count
        {
            violation("run_totals says \(totals[outcome, default: 0]) \(outcome) runs, the history has \(count)")
        }
        for (outcome, count) in totals where count != 0 && report.runsByOutcome[outcome] == nil {
            violation("run_totals says \(count) \(outcome) runs, the history has none")
        }
        for row in try probe.rows(
            """
            SELECT j.name, j.running_run_id, r.outcome FROM jobs j LEFT JOIN runs r ON r.id = j.running_run_id
            WHERE j.running_run_id IS NOT NULL AND (r.id IS NULL OR r.outcome <> 'running' OR r.job_id <> j.id)
            """
        ) {
            violation("job \(row[0]) is marked in flight with run \(row[1]), which is \(row[2])")
        }
        for row in try probe.rows(
            """
            SELECT r.id, r.job_name FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE r.outcome = 'running' AND (j.running_run_id IS NULL OR j.running_run_id <> r.id)
            """
        ) {
            violation("run \(row[0]) of \(row[1]) is running but its job does not know it (two at once?)")
        }

        // 6. Nothing ran early.
        for row in try probe.rows(
            "SELECT id, job_name, scheduled_for, started_at FROM runs WHERE started_at < scheduled_for LIMIT 20"
        ) {
            violation("run \(row[0]) of \(row[1]) started at \(row[3]), before its time \(row[2])")
        }

        // 7. Nothing acknowledged is missing.
        let present = Set(try probe.strings("SELECT name FROM jobs"))
        for name in acknowledged.subtracting(present).sorted().prefix(20) {
            violation("job \(name) was acknowledged to its client but is not in the database")
        }
        return report
    }
}
