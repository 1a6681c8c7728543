import Foundation

extension SQLiteJobStore {
    /// Finds runners whose lease expired (or, on this host, whose process is gone), marks them dead,
    /// and records their runs `abandoned`, rescheduling each job by its policy.
    ///
    /// - Returns: the abandoned run ids.
    package func rescueOrphans(selfID: Int64?, now: UnixMicros, local: LocalProcesses) throws -> [Int64] {
        let hostKey = local.host.key
        func deadRunners() throws -> [Int64] {
            let candidates = try connection.all(
                "SELECT id, host_key, pid, heartbeat_at, lease_us FROM runners WHERE state IN ('running', 'draining')"
            ) {
                (
                    id: $0.int64(0), hostKey: $0.optionalString(1), pid: Int32(truncatingIfNeeded: $0.int64(2)),
                    heartbeat: $0.int64(3), lease: $0.int64(4)
                )
            }
            var dead: [Int64] = []
            for runner in candidates where runner.id != selfID {
                let expired = runner.heartbeat + runner.lease < now
                let gone = runner.hostKey == hostKey && !local.isAlive(runner.pid)
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
                SELECT r.id, r.pgid, r.pgid_start, n.host_key FROM runs r LEFT JOIN runners n ON n.id = r.runner_id
                WHERE r.outcome = 'running' AND (n.id IS NULL OR n.state NOT IN ('running', 'draining'))
                """
            ) {
                (id: $0.int64(0), pgid: $0.optionalInt64(1), start: $0.optionalInt64(2), hostKey: $0.optionalString(3))
            }
            var abandoned: [Int64] = []
            for orphan in orphans {
                // What is left of a command of the dead runner on this host is killed before the job
                // may run again, so that it never runs twice at once.
                if orphan.hostKey == hostKey {
                    local.killLeftovers(orphan.id, orphan.pgid.map { Int32(truncatingIfNeeded: $0) }, orphan.start)
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

    package func releaseUnknownRuns(_ runIDs: [Int64], runnerID: Int64, now: UnixMicros) throws -> [Int64] {
        try connection.write {
            var released: [Int64] = []
            for id in runIDs {
                let held = try connection.scalarInt(
                    "SELECT count(*) FROM runs WHERE id = ? AND runner_id = ? AND outcome = 'running'",
                    [.integer(id), .integer(runnerID)])
                guard held == 1 else { continue }
                if try finishOrphan(runID: id, outcome: .interrupted, error: Heartbeat.unknownRunError, now: now) {
                    released.append(id)
                }
            }
            return released
        }
    }

    /// Records a run as interrupted or abandoned from its history row alone (its runner is not there to do it).
    func finishOrphan(runID: Int64, outcome: RunOutcome, error: String, now: UnixMicros) throws -> Bool {
        guard
            let run = try connection.first(
                "SELECT job_id, job_name, attempt, scheduled_for, started_at, runner_id, triggered FROM runs WHERE id = ?",
                [.integer(runID)],
                map: {
                    FinishedRun(
                        runID: runID, runnerID: $0.int64(5), jobID: $0.optionalInt64(0), jobName: $0.string(1),
                        attempt: $0.int(2), scheduledFor: $0.int64(3), startedAt: $0.int64(4),
                        triggered: $0.int64(6) != 0, outcome: outcome, finishedAt: now, error: error)
                }
            )
        else { return false }
        return try record(run)
    }
}
