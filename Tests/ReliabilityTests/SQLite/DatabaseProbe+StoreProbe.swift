import TestSupport

/// The scenarios' questions, asked of the SQLite file in SQL.
extension DatabaseProbe: StoreProbe {
    func jobs() throws -> [StoredJob] {
        try rows("SELECT \(Self.jobColumns) FROM jobs ORDER BY name").map(Self.job)
    }

    func job(named name: String) throws -> StoredJob? {
        try rows("SELECT \(Self.jobColumns) FROM jobs WHERE name = ?", [.text(name)]).first.map(Self.job)
    }

    func jobCount(state: String?) throws -> Int64 {
        guard let state else { return try int("SELECT count(*) FROM jobs") }
        return try int("SELECT count(*) FROM jobs WHERE state = ?", [.text(state)])
    }

    func runs(after runID: Int64) throws -> [StoredRun] {
        try rows("SELECT \(Self.runColumns) FROM runs WHERE id > ? ORDER BY id", [.integer(runID)]).map(Self.run)
    }

    func run(id: Int64) throws -> StoredRun? {
        try rows("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [.integer(id)]).first.map(Self.run)
    }

    func runningRuns(of job: String, runner: Int64) throws -> [StoredRun] {
        try rows(
            "SELECT \(Self.runColumns) FROM runs WHERE job_name = ? AND outcome = 'running' AND runner_id = ? ORDER BY id",
            [.text(job), .integer(runner)]
        ).map(Self.run)
    }

    func runCount(_ criteria: RunCriteria) throws -> Int64 {
        var conditions: [String] = []
        var arguments: [ProbeValue] = []
        if let job = criteria.job {
            conditions.append("job_name = ?")
            arguments.append(.text(job))
        }
        if let outcome = criteria.outcome {
            conditions.append("outcome = ?")
            arguments.append(.text(outcome))
        }
        if let runner = criteria.runner {
            conditions.append("runner_id = ?")
            arguments.append(.integer(runner))
        }
        if let after = criteria.after {
            conditions.append("id > ?")
            arguments.append(.integer(after))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try int("SELECT count(*) FROM runs" + filter, arguments)
    }

    func runsInFlight(notOf runner: Int64) throws -> Int64 {
        try int("SELECT count(*) FROM runs WHERE outcome = 'running' AND runner_id <> ?", [.integer(runner)])
    }

    func lastRunID() throws -> Int64 {
        try int("SELECT coalesce(max(id), 0) FROM runs")
    }

    func runners() throws -> [StoredRunner] {
        try rows("SELECT id, pid, state, stopped_at, heartbeat_at FROM runners ORDER BY id").map { row in
            StoredRunner(
                id: try Self.integer(row, 0), pid: try Self.integer(row, 1), state: try Self.text(row, 2),
                stoppedAt: row[3].int, heartbeatAt: try Self.integer(row, 4))
        }
    }

    func tableCount(named names: [String]) throws -> Int64 {
        let placeholders = names.map { _ in "?" }.joined(separator: ", ")
        return try int(
            "SELECT count(*) FROM sqlite_schema WHERE name IN (\(placeholders))", names.map { .text($0) })
    }

    func isWriteLocked() throws -> Bool { try Self.isWriteLocked(path) }

    // MARK: Rows to records

    private static let jobColumns =
        "id, name, schedule_kind, handler, command, payload, state, state_reason, next_run_at, running_run_id, run_count"

    private static func job(_ row: [ProbeValue]) throws -> StoredJob {
        StoredJob(
            id: try integer(row, 0), name: try text(row, 1), scheduleKind: try text(row, 2), handler: row[3].string,
            command: row[4].string, payload: row[5].string, state: try text(row, 6), stateReason: row[7].string,
            nextRunAt: row[8].int, runningRunID: row[9].int, runCount: try integer(row, 10))
    }

    /// The output is the tail's bytes (`output_bytes`) read as text, as `CAST … AS TEXT` reads them.
    private static let runColumns =
        "id, job_id, job_name, scheduled_for, started_at, finished_at, runner_id, outcome, error, "
        + "CAST(output_bytes AS TEXT), triggered"

    private static func run(_ row: [ProbeValue]) throws -> StoredRun {
        StoredRun(
            id: try integer(row, 0), jobID: row[1].int, job: try text(row, 2), scheduledFor: try integer(row, 3),
            startedAt: try integer(row, 4), finishedAt: row[5].int, runnerID: row[6].int, outcome: try text(row, 7),
            error: row[8].string, output: row[9].string, triggered: try integer(row, 10) == 1)
    }

    private static func integer(_ row: [ProbeValue], _ column: Int) throws -> Int64 {
        guard let value = row[column].int else {
            throw HarnessError("probe: column \(column) of \(row) is not an integer")
        }
        return value
    }

    private static func text(_ row: [ProbeValue], _ column: Int) throws -> String {
        guard let value = row[column].string else {
            throw HarnessError("probe: column \(column) of \(row) is not text")
        }
        return value
    }
}
