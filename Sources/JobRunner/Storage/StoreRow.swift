import Foundation

/// One row of a query result, read by column position: what the shared codecs below need of a
/// store's native row. Reading a column of another type than asked is a programming error in a store
/// (the column lists below and the schema disagree); stores that can detect it throw.
package protocol StoreRow {
    func int64(_ column: Int) throws -> Int64
    func optionalInt64(_ column: Int) throws -> Int64?
    func string(_ column: Int) throws -> String
    func optionalString(_ column: Int) throws -> String?
    func bool(_ column: Int) throws -> Bool
    func optionalBytes(_ column: Int) throws -> [UInt8]?
}

extension StoreRow {
    package func int(_ column: Int) throws -> Int { Int(try int64(column)) }
}

/// How a ``JobDefinition`` maps to and from the columns of the `jobs` table, the same on every store
/// (each store casts where its column types differ, e.g. PostgreSQL's `jsonb` read as text).
package enum JobRow {
    /// The columns of `jobs`, in the order ``decodeJob(_:)`` reads them.
    package static let jobColumns = """
        id, name, queue, kind, handler, command, working_directory, payload, schedule_kind, schedule, run_at, \
        interval_us, fixed_delay, cron, time_zone, anchor_at, initial_delay_us, timeout_us, max_retries, backoff_us, \
        jitter_us, misfire, state, state_reason, next_run_at, occurrence_at, attempt, trigger_at, running_run_id, \
        run_count, ok_count, failed_count, last_outcome, last_started_at, last_finished_at, created_at, updated_at, \
        abandoned_streak, environment, on_failure
        """

    package static func encodeArgv(_ argv: [String]) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: argv, options: [.withoutEscapingSlashes])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    package static func decodeArgv(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
    }

    /// A command's environment as a JSON object with sorted keys, or nil when it is empty.
    package static func encodeEnvironment(_ environment: [String: String]) -> String? {
        guard !environment.isEmpty else { return nil }
        let data =
            (try? JSONSerialization.data(withJSONObject: environment, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    package static func decodeEnvironment(_ text: String?) -> [String: String] {
        guard let text else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }

    /// Decodes the row read with ``jobColumns``.
    package static func decodeJob(_ row: some StoreRow) throws -> JobRecord {
        let name = try row.string(1)
        let action: JobAction =
            try row.string(3) == "command"
            ? .command(decodeArgv(try row.string(5)), workingDirectory: try row.optionalString(6))
            : .handler(try row.string(4))
        let schedule: Schedule
        switch try row.string(8) {
        case "every":
            schedule = .every(.microseconds(try row.int64(11)), fixedDelay: try row.bool(12))
        case "cron":
            let zoneName = try row.optionalString(14) ?? "UTC"
            guard let zone = TimeZone(identifier: zoneName) else {
                throw JobRunnerError.database("job \(JobRunnerError.quoted(name)) has an unknown time zone \(zoneName)")
            }
            schedule = .cron(try CronExpression(try row.string(13)), timeZone: zone)
        default:
            if let delay = try row.optionalInt64(11) {
                schedule = .after(.microseconds(delay))
            } else {
                schedule = .at(try row.int64(10))
            }
        }
        let definition = JobDefinition(
            name: name,
            queue: try row.string(2),
            action: action,
            payload: try row.optionalString(7),
            schedule: schedule,
            initialDelay: try row.optionalInt64(16).map { .microseconds($0) },
            timeout: try row.optionalInt64(17).map { .microseconds($0) },
            retry: RetryPolicy(maxRetries: try row.int(18), backoff: .microseconds(try row.int64(19))),
            jitter: .microseconds(try row.int64(20)),
            misfire: MisfirePolicy(rawValue: try row.string(21)) ?? .coalesce,
            environment: decodeEnvironment(try row.optionalString(38)),
            onFailure: try row.optionalString(39).map(decodeArgv)
        )
        return JobRecord(
            id: try row.int64(0),
            definition: definition,
            state: JobState(rawValue: try row.string(22)) ?? .active,
            stateReason: try row.optionalString(23),
            nextRunAt: try row.optionalInt64(24),
            occurrenceAt: try row.optionalInt64(25),
            attempt: try row.int(26),
            triggerAt: try row.optionalInt64(27),
            runningRunID: try row.optionalInt64(28),
            runCount: try row.int64(29),
            okCount: try row.int64(30),
            failedCount: try row.int64(31),
            lastOutcome: try row.optionalString(32).flatMap(RunOutcome.init(rawValue:)),
            lastStartedAt: try row.optionalInt64(33),
            lastFinishedAt: try row.optionalInt64(34),
            createdAt: try row.int64(35),
            updatedAt: try row.int64(36),
            abandonedStreak: try row.int(37),
            anchorAt: try row.optionalInt64(15),
            runAt: try row.optionalInt64(10)
        )
    }

    /// The names of the definition columns, for INSERT and UPDATE, in the order of
    /// ``DefinitionValues/sqlOrder``.
    package static let definitionColumns = [
        "queue", "kind", "handler", "command", "working_directory", "payload", "schedule_kind", "schedule", "run_at",
        "interval_us", "fixed_delay", "cron", "time_zone", "initial_delay_us", "timeout_us", "max_retries",
        "backoff_us", "jitter_us", "misfire", "environment", "on_failure",
    ]

    /// A definition as the values of its columns (`command`, `environment` and `on_failure` as JSON text).
    package struct DefinitionValues: Sendable {
        package var queue: String
        package var kind: String
        package var handler: String?
        package var command: String?
        package var workingDirectory: String?
        package var payload: String?
        package var scheduleKind: String
        package var schedule: String
        package var runAt: Int64?
        package var interval: Int64?
        package var fixedDelay: Bool
        package var cron: String?
        package var timeZone: String?
        package var initialDelay: Int64?
        package var timeout: Int64?
        package var maxRetries: Int64
        package var backoff: Int64
        package var jitter: Int64
        package var misfire: String
        package var environment: String?
        package var onFailure: String?
    }

    package static func definitionValues(_ d: JobDefinition, now: UnixMicros) -> DefinitionValues {
        var handler: String?
        var command: String?
        var directory: String?
        switch d.action {
        case .handler(let name): handler = name
        case .command(let argv, let dir):
            command = encodeArgv(argv)
            directory = dir
        }
        var runAt: Int64?
        var interval: Int64?
        var fixedDelay = false
        var cron: String?
        var zone: String?
        switch d.schedule {
        case .at(let instant): runAt = instant
        case .after(let delay):
            interval = delay.microseconds
            runAt = now + delay.microseconds
        case .every(let every, let delayMode):
            interval = every.microseconds
            fixedDelay = delayMode
        case .cron(let expression, let timeZone):
            cron = expression.description
            zone = timeZone.identifier
        }
        return DefinitionValues(
            queue: d.queue, kind: d.action.kind, handler: handler, command: command, workingDirectory: directory,
            payload: d.payload, scheduleKind: d.schedule.kindName, schedule: d.schedule.description, runAt: runAt,
            interval: interval, fixedDelay: fixedDelay, cron: cron, timeZone: zone,
            initialDelay: d.initialDelay?.microseconds, timeout: d.timeout?.microseconds,
            maxRetries: Int64(d.retry.maxRetries), backoff: d.retry.backoff.microseconds,
            jitter: d.jitter.microseconds, misfire: d.misfire.rawValue,
            environment: encodeEnvironment(d.environment), onFailure: d.onFailure.map(encodeArgv))
    }

    /// The columns of `runs`, in the order ``decodeRun(_:)`` reads them.
    package static let runColumns = """
        id, job_id, job_name, attempt, scheduled_for, started_at, finished_at, runner_id, outcome, exit_code, error, \
        output, triggered, output_bytes
        """

    package static func decodeRun(_ row: some StoreRow) throws -> RunRecord {
        RunRecord(
            id: try row.int64(0),
            jobID: try row.optionalInt64(1),
            jobName: try row.string(2),
            attempt: try row.int(3),
            scheduledFor: try row.int64(4),
            startedAt: try row.int64(5),
            finishedAt: try row.optionalInt64(6),
            runnerID: try row.optionalInt64(7),
            outcome: RunOutcome(rawValue: try row.string(8)) ?? .failed,
            exitCode: try row.optionalInt64(9).map { Int($0) },
            error: try row.optionalString(10),
            outputBytes: try row.optionalBytes(13) ?? row.optionalString(11).map { Array($0.utf8) },
            triggered: try row.bool(12)
        )
    }

    /// The columns of `runners`, in the order ``decodeRunner(_:)`` reads them.
    package static let runnerColumns =
        "id, host, pid, state, started_at, heartbeat_at, lease_us, concurrency, stopped_at"

    package static func decodeRunner(_ row: some StoreRow) throws -> RunnerRecord {
        RunnerRecord(
            id: try row.int64(0), host: try row.string(1), pid: Int32(truncatingIfNeeded: try row.int64(2)),
            state: RunnerState(rawValue: try row.string(3)) ?? .dead,
            startedAt: try row.int64(4), heartbeatAt: try row.int64(5), lease: .microseconds(try row.int64(6)),
            concurrency: try row.int(7), stoppedAt: try row.optionalInt64(8)
        )
    }
}
