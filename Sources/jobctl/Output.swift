import Foundation
import JobRunner

/// Formatting for people (tables, local times, relative times) and for scripts (JSON).
enum Output {
    /// Prints rows as left-aligned columns separated by two spaces.
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (index, cell) in cells.enumerated() {
                let last = index == cells.count - 1
                out += last ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
            }
            return out
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// A time for people: local, readable, with a relative hint, e.g. `2026-11-25 10:00:03 (in 4s)`.
    static func time(_ instant: UnixMicros?, now: UnixMicros) -> String {
        guard let instant else { return "-" }
        return "\(localTime(instant)) (\(relative(instant, now: now)))"
    }

    /// Only the relative part: `in 4s`, `2m ago`, `now`.
    static func relative(_ instant: UnixMicros, now: UnixMicros) -> String {
        let delta = instant - now
        let magnitude = abs(delta)
        if magnitude < 500_000 { return delta >= 0 ? "now" : "just now" }
        let text = short(micros: magnitude)
        return delta > 0 ? "in \(text)" : "\(text) ago"
    }

    /// A coarse human duration: `4s`, `2m`, `3h`, `5d`.
    static func short(micros: Int64) -> String {
        let seconds = micros / 1_000_000
        if seconds < 60 { return "\(max(1, seconds))s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86_400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86_400)d"
    }

    /// Local wall-clock time, `yyyy-MM-dd HH:mm:ss` (with milliseconds when asked).
    static func localTime(_ instant: UnixMicros, milliseconds: Bool = false) -> String {
        var seconds = time_t(instant / 1_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        var text = String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)
        )
        if milliseconds { text += String(format: ".%03d", Int((instant % 1_000_000) / 1000)) }
        return text
    }

    /// A duration in milliseconds with 3 decimals, e.g. `0.412ms`.
    static func millis(_ micros: Int64) -> String {
        String(format: "%.3fms", Double(micros) / 1000)
    }

    /// Prints one JSON document (sorted keys, pretty).
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// RFC 3339 UTC, or nil.
    static func rfc3339(_ instant: UnixMicros?) -> String? {
        instant.map(Timestamp.formatRFC3339UTC)
    }

    /// One line for a table cell: control characters escaped, long text cut.
    static func cell(_ text: String, limit: Int = 60) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += scalar == "\n" ? "\\n" : (scalar == "\t" ? "\\t" : "?")
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        if out.count > limit { out = String(out.prefix(limit - 1)) + "…" }
        return out
    }
}

/// The JSON shape of a job (`list --json`, `show --json`). Field names are stable.
struct JobJSON: Encodable {
    var name: String
    var queue: String
    var kind: String
    var handler: String?
    var command: [String]?
    var workingDirectory: String?
    var payload: String?
    var schedule: String
    var state: String
    var stateReason: String?
    var nextRunAt: String?
    var runCount: Int64
    var okCount: Int64
    var failedCount: Int64
    var lastOutcome: String?
    var lastStartedAt: String?
    var lastFinishedAt: String?
    var running: Bool
    var timeout: String?
    var retries: Int
    var jitter: String
    var misfire: String
    var createdAt: String
    var recentRuns: [RunJSON]?
    /// A command job's own environment variables (empty for none).
    var environment: [String: String]

    init(_ job: JobRecord, recentRuns: [RunRecord]? = nil) {
        let d = job.definition
        name = d.name
        queue = d.queue
        kind = d.action.kind
        switch d.action {
        case .handler(let h): handler = h
        case .command(let argv, let dir):
            command = argv
            workingDirectory = dir
        }
        payload = d.payload
        schedule = d.schedule.description
        state = job.state.rawValue
        stateReason = job.stateReason
        nextRunAt = Output.rfc3339(job.nextRunAt)
        runCount = job.runCount
        okCount = job.okCount
        failedCount = job.failedCount
        lastOutcome = job.lastOutcome?.rawValue
        lastStartedAt = Output.rfc3339(job.lastStartedAt)
        lastFinishedAt = Output.rfc3339(job.lastFinishedAt)
        running = job.runningRunID != nil
        timeout = d.timeout.map(DurationFormat.format)
        retries = d.retry.maxRetries
        jitter = DurationFormat.format(d.jitter)
        misfire = d.misfire.rawValue
        createdAt = Timestamp.formatRFC3339UTC(job.createdAt)
        self.recentRuns = recentRuns?.map(RunJSON.init)
        environment = d.environment
    }

    // Encode nulls explicitly so that every documented field is always present.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(queue, forKey: .queue)
        try c.encode(kind, forKey: .kind)
        try c.encode(handler, forKey: .handler)
        try c.encode(command, forKey: .command)
        try c.encode(workingDirectory, forKey: .workingDirectory)
        try c.encode(payload, forKey: .payload)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(state, forKey: .state)
        try c.encode(stateReason, forKey: .stateReason)
        try c.encode(nextRunAt, forKey: .nextRunAt)
        try c.encode(runCount, forKey: .runCount)
        try c.encode(okCount, forKey: .okCount)
        try c.encode(failedCount, forKey: .failedCount)
        try c.encode(lastOutcome, forKey: .lastOutcome)
        try c.encode(lastStartedAt, forKey: .lastStartedAt)
        try c.encode(lastFinishedAt, forKey: .lastFinishedAt)
        try c.encode(running, forKey: .running)
        try c.encode(timeout, forKey: .timeout)
        try c.encode(retries, forKey: .retries)
        try c.encode(jitter, forKey: .jitter)
        try c.encode(misfire, forKey: .misfire)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(environment, forKey: .environment)
        if let recentRuns { try c.encode(recentRuns, forKey: .recentRuns) }
    }

    enum CodingKeys: String, CodingKey {
        case name, queue, kind, handler, command, workingDirectory, payload, schedule, state, stateReason, nextRunAt
        case runCount, okCount, failedCount, lastOutcome, lastStartedAt, lastFinishedAt, running, timeout, retries
        case jitter, misfire, createdAt, recentRuns
        case environment
    }
}

/// The JSON shape of a run (`history --json`, `show --json`). Field names are stable.
struct RunJSON: Encodable {
    var run: RunRecord
    init(_ run: RunRecord) { self.run = run }

    enum CodingKeys: String, CodingKey {
        case id, job, attempt, scheduledFor, startedAt, finishedAt, outcome, exitCode, error, output, runner
        case latenessMicros, durationMicros, triggered
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run.id, forKey: .id)
        try c.encode(run.jobName, forKey: .job)
        try c.encode(run.attempt, forKey: .attempt)
        try c.encode(Timestamp.formatRFC3339UTC(run.scheduledFor), forKey: .scheduledFor)
        try c.encode(Timestamp.formatRFC3339UTC(run.startedAt), forKey: .startedAt)
        try c.encode(Output.rfc3339(run.finishedAt), forKey: .finishedAt)
        try c.encode(run.outcome.rawValue, forKey: .outcome)
        try c.encode(run.exitCode, forKey: .exitCode)
        try c.encode(run.error, forKey: .error)
        try c.encode(run.output, forKey: .output)
        try c.encode(run.runnerID, forKey: .runner)
        try c.encode(run.lateness, forKey: .latenessMicros)
        try c.encode(run.finishedAt.map { $0 - run.startedAt }, forKey: .durationMicros)
        try c.encode(run.triggered, forKey: .triggered)
    }
}

/// The JSON shape of a runner. Field names are stable.
struct RunnerJSON: Encodable {
    var id: Int64
    var host: String
    var pid: Int32
    var state: String
    var startedAt: String
    var heartbeatAt: String
    var concurrency: Int

    init(_ r: RunnerRecord) {
        id = r.id
        host = r.host
        pid = r.pid
        state = r.state
        startedAt = Timestamp.formatRFC3339UTC(r.startedAt)
        heartbeatAt = Timestamp.formatRFC3339UTC(r.heartbeatAt)
        concurrency = r.concurrency
    }
}
