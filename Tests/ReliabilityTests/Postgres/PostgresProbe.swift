import Foundation
import TestSupport

/// The scenarios' questions, asked of a PostgreSQL database in SQL through `psql` (``Psql``): the same
/// answers as the SQLite probe (`SQLite/DatabaseProbe+StoreProbe.swift`), read from the same columns.
struct PostgresProbe: StoreProbe {
    let psql: Psql

    init(_ url: String) { psql = Psql(url: url) }

    func jobs() throws -> [StoredJob] {
        try psql.rows("SELECT \(Self.jobColumns) FROM jobs ORDER BY name").map(Self.job)
    }

    func job(named name: String) throws -> StoredJob? {
        try psql.rows("SELECT \(Self.jobColumns) FROM jobs WHERE name = :'name'", ["name": name]).first.map(Self.job)
    }

    func jobCount(state: String?) throws -> Int64 {
        guard let state else { return try psql.int("SELECT count(*) FROM jobs") }
        return try psql.int("SELECT count(*) FROM jobs WHERE state = :'state'", ["state": state])
    }

    func runs(after runID: Int64) throws -> [StoredRun] {
        try psql.rows("SELECT \(Self.runColumns) FROM runs WHERE id > :'after' ORDER BY id", ["after": "\(runID)"])
            .map(Self.run)
    }

    func run(id: Int64) throws -> StoredRun? {
        try psql.rows("SELECT \(Self.runColumns) FROM runs WHERE id = :'id'", ["id": "\(id)"]).first.map(Self.run)
    }

    func runningRuns(of job: String, runner: Int64) throws -> [StoredRun] {
        try psql.rows(
            """
            SELECT \(Self.runColumns) FROM runs
            WHERE job_name = :'job' AND outcome = 'running' AND runner_id = :'runner' ORDER BY id
            """, ["job": job, "runner": "\(runner)"]
        ).map(Self.run)
    }

    func runCount(_ criteria: RunCriteria) throws -> Int64 {
        var conditions: [String] = []
        var variables: [String: String] = [:]
        if let job = criteria.job {
            conditions.append("job_name = :'job'")
            variables["job"] = job
        }
        if let outcome = criteria.outcome {
            conditions.append("outcome = :'outcome'")
            variables["outcome"] = outcome
        }
        if let runner = criteria.runner {
            conditions.append("runner_id = :'runner'")
            variables["runner"] = "\(runner)"
        }
        if let after = criteria.after {
            conditions.append("id > :'after'")
            variables["after"] = "\(after)"
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try psql.int("SELECT count(*) FROM runs" + filter, variables)
    }

    func runsInFlight(notOf runner: Int64) throws -> Int64 {
        try psql.int(
            "SELECT count(*) FROM runs WHERE outcome = 'running' AND runner_id <> :'runner'", ["runner": "\(runner)"])
    }

    func lastRunID() throws -> Int64 {
        try psql.int("SELECT coalesce(max(id), 0) FROM runs")
    }

    func runners() throws -> [StoredRunner] {
        try psql.rows("SELECT id, pid, state, stopped_at, heartbeat_at FROM runners ORDER BY id").map { row in
            StoredRunner(
                id: try Self.integer(row, 0), pid: try Self.integer(row, 1), state: try Self.text(row, 2),
                stoppedAt: row[3].int, heartbeatAt: try Self.integer(row, 4))
        }
    }

    func tableCount(named names: [String]) throws -> Int64 {
        let list = String(decoding: try JSONSerialization.data(withJSONObject: names), as: UTF8.self)
        return try psql.int(
            """
            SELECT count(*) FROM pg_tables
            WHERE schemaname = current_schema() AND tablename IN (SELECT json_array_elements_text(:'names'::json))
            """, ["names": list])
    }

    /// Never: PostgreSQL has no store-wide write lock. A runner frozen inside a transaction holds only
    /// its own rows (a claim: its runner row FOR SHARE and the jobs it locked), which rescuers skip
    /// (SKIP LOCKED) until the server ends the session for idling in a transaction (the runner sets
    /// `idle_in_transaction_session_timeout`, 5 s: half the default lease). So scenario 4 freezes the runner wherever
    /// it happens to be, inside a transaction or not, and expects the rescue all the same.
    func isWriteLocked() throws -> Bool { false }

    // MARK: Rows to records

    private static let jobColumns =
        "id, name, schedule_kind, handler, command::text, payload::text, state, state_reason, next_run_at, "
        + "running_run_id, run_count"

    private static func job(_ row: [ProbeValue]) throws -> StoredJob {
        StoredJob(
            id: try integer(row, 0), name: try text(row, 1), scheduleKind: try text(row, 2), handler: row[3].string,
            command: row[4].string, payload: row[5].string, state: try text(row, 6), stateReason: row[7].string,
            nextRunAt: row[8].int, runningRunID: row[9].int, runCount: try integer(row, 10))
    }

    /// The output tail: its bytes (`output_bytes`, base64 on the way) read as UTF-8, else the older text column.
    private static let runColumns =
        "id, job_id, job_name, scheduled_for, started_at, finished_at, runner_id, outcome, error, "
        + "encode(output_bytes, 'base64'), output, triggered::int"

    private static func run(_ row: [ProbeValue]) throws -> StoredRun {
        var output = row[10].string
        if let base64 = row[9].string, let bytes = Data(base64Encoded: base64, options: .ignoreUnknownCharacters) {
            output = String(decoding: bytes, as: UTF8.self)
        }
        return StoredRun(
            id: try integer(row, 0), jobID: row[1].int, job: try text(row, 2), scheduledFor: try integer(row, 3),
            startedAt: try integer(row, 4), finishedAt: row[5].int, runnerID: row[6].int, outcome: try text(row, 7),
            error: row[8].string, output: output, triggered: try integer(row, 11) == 1)
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
