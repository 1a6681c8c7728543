import Foundation

extension SQLiteJobStore {
    /// Records finished runs in one transaction: each history row, the job's counters, and its next
    /// occurrence (or retry, or done).
    ///
    /// A run that is no longer `running` under this runner — another runner declared it
    /// abandoned while this one was paused — is fenced: it changes nothing.
    ///
    /// - Returns: for each completion, whether it was recorded (false when fenced).
    package func finish(_ runs: [FinishedRun]) throws -> [Bool] {
        try connection.write {
            try runs.map { try record($0) }
        }
    }

    func record(_ c: FinishedRun) throws -> Bool {
        try connection.execute(
            """
            UPDATE runs SET outcome = ?, finished_at = ?, exit_code = ?, error = ?, output_bytes = ?
            WHERE id = ? AND outcome = 'running' AND runner_id = ?
            """,
            [
                .text(c.outcome.rawValue), .integer(c.finishedAt), .int(c.exitCode),
                .string(c.error), c.output.map(SQLiteValue.blob) ?? .null,
                .integer(c.runID), .integer(c.runnerID),
            ]
        )
        guard connection.changes == 1 else { return false }
        try connection.execute(
            "INSERT INTO run_totals (outcome, count) VALUES (?, 1) ON CONFLICT(outcome) DO UPDATE SET count = count + 1",
            [.text(c.outcome.rawValue)]
        )
        guard let jobID = c.jobID, let job = try findJob(id: jobID), job.runningRunID == c.runID else { return true }
        let after = JobTransition.afterRun(
            job, occurrence: c.occurrence ?? job.occurrenceAt ?? c.scheduledFor, attempt: c.attempt,
            triggered: c.triggered, outcome: c.outcome, finishedAt: c.finishedAt
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
                .integer(c.scheduledFor), .integer(job.id),
            ]
        )
        return true
    }

    /// Records the process group of a command run, for rescue if its runner dies.
    ///
    /// - Returns: false when the run is no longer this runner's (it was declared dead and the run
    ///   rescued): the caller must then kill the group it has just started.
    package func recordProcessGroup(runID: Int64, runnerID: Int64, pgid: Int32, leaderStart: Int64?) throws -> Bool {
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
    package func isStillClaimed(runID: Int64, runnerID: Int64) throws -> Bool {
        try connection.scalarInt(
            """
            SELECT count(*) FROM runs r JOIN runners n ON n.id = r.runner_id
            WHERE r.id = ? AND r.runner_id = ? AND r.outcome = 'running' AND n.state IN ('running', 'draining')
            """,
            [.integer(runID), .integer(runnerID)]
        ) == 1
    }

    package func recallable(runIDs: [Int64]) throws -> [Int64] {
        guard !runIDs.isEmpty else { return [] }
        return try connection.all(
            """
            SELECT r.id FROM runs r LEFT JOIN jobs j ON j.id = r.job_id LEFT JOIN queues q ON q.name = r.queue
            WHERE r.id IN (SELECT value FROM json_each(?)) AND r.outcome = 'running' AND NOT r.triggered
                AND (j.id IS NULL OR j.state <> 'active' OR coalesce(q.paused, 0) <> 0)
            ORDER BY r.id
            """,
            [.text("[" + runIDs.map(String.init).joined(separator: ",") + "]")]
        ) { $0.int64(0) }
    }
}
