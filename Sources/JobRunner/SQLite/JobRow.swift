import Foundation

/// How a ``JobDefinition`` maps to and from the columns of the `jobs` table.
enum JobRow {
    /// The columns of `jobs`, in the order ``decodeJob(_:)`` reads them.
    static let jobColumns = """
        id, name, queue, kind, handler, command, working_directory, payload, schedule_kind, schedule, run_at, \
        interval_us, fixed_delay, cron, time_zone, anchor_at, initial_delay_us, timeout_us, max_retries, backoff_us, \
        jitter_us, misfire, state, state_reason, next_run_at, occurrence_at, attempt, trigger_at, running_run_id, \
        run_count, ok_count, failed_count, last_outcome, last_started_at, last_finished_at, created_at, updated_at, \
        abandoned_streak, environment
        """

    static func encodeArgv(_ argv: [String]) -> String {
        let data =
            (try? JSONSerialization.data(withJSONObject: argv, options: [.withoutEscapingSlashes])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeArgv(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
    }

    /// A command's environment as a JSON object with sorted keys, or nil when it is empty.
    static func encodeEnvironment(_ environment: [String: String]) -> String? {
        guard !environment.isEmpty else { return nil }
        let data =
            (try? JSONSerialization.data(withJSONObject: environment, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeEnvironment(_ text: String?) -> [String: String] {
        guard let text else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
    }

    /// Decodes the row read with ``jobColumns``.
    static func decodeJob(_ row: Statement) throws -> JobRecord {
        let name = row.string(1)
        let action: JobAction =
            row.string(3) == "command"
            ? .command(decodeArgv(row.string(5)), workingDirectory: row.optionalString(6))
            : .handler(row.string(4))
        let schedule: Schedule
        switch row.string(8) {
        case "every":
            schedule = .every(.microseconds(row.int64(11)), fixedDelay: row.int64(12) != 0)
        case "cron":
            let zoneName = row.optionalString(14) ?? "UTC"
            guard let zone = TimeZone(identifier: zoneName) else {
                throw JobRunnerError.database("job \(JobRunnerError.quoted(name)) has an unknown time zone \(zoneName)")
            }
            schedule = .cron(try CronExpression(row.string(13)), timeZone: zone)
        default:
            if let delay = row.optionalInt64(11) {
                schedule = .after(.microseconds(delay))
            } else {
                schedule = .at(row.int64(10))
            }
        }
        let definition = JobDefinition(
            name: name,
            queue: row.string(2),
            action: action,
            payload: row.optionalString(7),
            schedule: schedule,
            initialDelay: row.optionalInt64(16).map { .microseconds($0) },
            timeout: row.optionalInt64(17).map { .microseconds($0) },
            retry: RetryPolicy(maxRetries: row.int(18), backoff: .microseconds(row.int64(19))),
            jitter: .microseconds(row.int64(20)),
            misfire: MisfirePolicy(rawValue: row.string(21)) ?? .coalesce,
            environment: decodeEnvironment(row.optionalString(38))
        )
        return JobRecord(
            id: row.int64(0),
            definition: definition,
            state: JobState(rawValue: row.string(22)) ?? .active,
            stateReason: row.optionalString(23),
            nextRunAt: row.optionalInt64(24),
            occurrenceAt: row.optionalInt64(25),
            attempt: row.int(26),
            triggerAt: row.optionalInt64(27),
            runningRunID: row.optionalInt64(28),
            runCount: row.int64(29),
            okCount: row.int64(30),
            failedCount: row.int64(31),
            lastOutcome: row.optionalString(32).flatMap(RunOutcome.init(rawValue:)),
            lastStartedAt: row.optionalInt64(33),
            lastFinishedAt: row.optionalInt64(34),
            createdAt: row.int64(35),
            updatedAt: row.int64(36),
            abandonedStreak: row.int(37),
            anchorAt: row.optionalInt64(15),
            runAt: row.optionalInt64(10)
        )
    }

    /// The definition columns, for INSERT and UPDATE, in this order:
    /// queue, kind, handler, command, working_directory, payload, schedule_kind, schedule, run_at, interval_us,
    /// fixed_delay, cron, time_zone, initial_delay_us, timeout_us, max_retries, backoff_us, jitter_us, misfire,
    /// environment.
    static let definitionColumns = [
        "queue", "kind", "handler", "command", "working_directory", "payload", "schedule_kind", "schedule", "run_at",
        "interval_us", "fixed_delay", "cron", "time_zone", "initial_delay_us", "timeout_us", "max_retries",
        "backoff_us", "jitter_us", "misfire", "environment",
    ]

    static func definitionValues(_ d: JobDefinition, now: UnixMicros) -> [SQLiteValue] {
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
        return [
            .text(d.queue), .text(d.action.kind), .string(handler), .string(command), .string(directory),
            .string(d.payload), .text(d.schedule.kindName), .text(d.schedule.description), .int(runAt),
            .int(interval), .bool(fixedDelay), .string(cron), .string(zone), .int(d.initialDelay?.microseconds),
            .int(d.timeout?.microseconds), .integer(Int64(d.retry.maxRetries)), .integer(d.retry.backoff.microseconds),
            .integer(d.jitter.microseconds), .text(d.misfire.rawValue), .string(encodeEnvironment(d.environment)),
        ]
    }
}
