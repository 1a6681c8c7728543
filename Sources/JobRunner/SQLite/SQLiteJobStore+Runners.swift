import Foundation

extension SQLiteJobStore {
    /// Registers a runner and returns its id.
    package func registerRunner(_ runner: RunnerRegistration, now: UnixMicros) throws -> Int64 {
        try connection.write {
            try connection.execute(
                """
                INSERT INTO runners (host, host_key, pid, started_at, heartbeat_at, lease_us, state, queues, concurrency)
                VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)
                """,
                [
                    .text(runner.host.name), .text(runner.host.key), .integer(Int64(runner.pid)), .integer(now),
                    .integer(now), .integer(runner.lease.microseconds), .string(runner.queues.map(JobRow.encodeArgv)),
                    .integer(Int64(runner.concurrency)),
                ]
            )
            return connection.lastInsertRowID
        }
    }

    /// Renews the runner's lease and picks up drain requests.
    package func heartbeat(runnerID: Int64, now: UnixMicros) throws -> Heartbeat {
        try connection.write {
            try connection.execute(
                "UPDATE runners SET heartbeat_at = ? WHERE id = ? AND state IN ('running', 'draining')",
                [.integer(now), .integer(runnerID)]
            )
            let alive = connection.changes == 1
            let held = try connection.all(
                "SELECT id FROM runs WHERE runner_id = ? AND outcome = 'running' ORDER BY id", [.integer(runnerID)]
            ) { $0.int64(0) }
            return Heartbeat(alive: alive, drain: try takeDrainRequest(runnerID: runnerID, now: now), held: held)
        }
    }

    /// Picks up a pending drain request without touching the heartbeat (cheap; called when the data version changes).
    package func takeDrainOrder(runnerID: Int64, now: UnixMicros) throws -> DrainOrder? {
        let pending = try connection.scalarInt(
            "SELECT count(*) FROM control WHERE runner_id = ? AND handled_at IS NULL",
            [.integer(runnerID)]
        )
        guard (pending ?? 0) > 0 else { return nil }
        return try connection.write { try takeDrainRequest(runnerID: runnerID, now: now) }
    }

    private func takeDrainRequest(runnerID: Int64, now: UnixMicros) throws -> DrainOrder? {
        let rows = try connection.all(
            "SELECT id, grace_us FROM control WHERE runner_id = ? AND handled_at IS NULL AND kind = 'drain'",
            [.integer(runnerID)]
        ) { ($0.int64(0), $0.optionalInt64(1)) }
        guard !rows.isEmpty else { return nil }
        try connection.execute(
            "UPDATE control SET handled_at = ? WHERE runner_id = ? AND handled_at IS NULL",
            [.integer(now), .integer(runnerID)]
        )
        return DrainOrder(grace: rows.compactMap(\.1).min().map { Duration.microseconds($0) })
    }

    /// Marks the runner as draining (visible to `jobctl status` and `jobctl drain`).
    package func markDraining(runnerID: Int64) throws {
        try connection.write {
            try connection.execute(
                "UPDATE runners SET state = 'draining' WHERE id = ? AND state = 'running'",
                [.integer(runnerID)]
            )
        }
    }

    /// Deregisters a runner that has stopped. Runs it still holds are recorded `interrupted`.
    package func deregisterRunner(runnerID: Int64, now: UnixMicros) throws {
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
}
