import Foundation
import JobRunner

/// Formatting for people (tables, local times, relative times) and for scripts (JSON).
enum Output {
    /// Prints rows as left-aligned columns separated by two spaces, aligned by the columns each
    /// cell takes on a terminal (a CJK character or an emoji takes two, a combining mark none).
    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(displayWidth)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], displayWidth(cell))
            }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (index, cell) in cells.enumerated() {
                let last = index == cells.count - 1
                out += last ? cell : cell + String(repeating: " ", count: widths[index] - displayWidth(cell) + 2)
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
        let (delta, overflow) = instant.subtractingReportingOverflow(now)
        if overflow { return instant > now ? "in the far future" : "long ago" }
        let magnitude = delta == .min ? Int64.max : abs(delta)
        if magnitude < 500_000 { return delta >= 0 ? "now" : "just now" }
        let text = short(micros: magnitude)
        return delta > 0 ? "in \(text)" : "\(text) ago"
    }

    /// Units of ``short(micros:)``, largest first, in seconds.
    private static let units: [(name: String, seconds: Int64)] = [
        ("y", 365 * 86_400), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// A human duration in at most two units, rounded to the nearest of the smaller one: `4s`,
    /// `1m 30s`, `1h` (for 59m59.9s), `3h 5m`, `2d 4h`, `7973y 5d`.
    static func short(micros: Int64) -> String {
        let seconds = max(1, micros / 1_000_000 + (micros % 1_000_000 >= 500_000 ? 1 : 0))
        guard let first = units.firstIndex(where: { seconds >= $0.seconds }) else { return "\(seconds)s" }
        let step = units[min(first + 1, units.count - 1)].seconds
        let rounded = (seconds / step + (seconds % step * 2 >= step ? 1 : 0)) * step
        // Rounding may carry into a larger unit (59m59.9s is 1h).
        let top = units.firstIndex(where: { rounded >= $0.seconds }) ?? first
        let major = units[top]
        let rest = rounded % major.seconds
        var text = "\(rounded / major.seconds)\(major.name)"
        if top + 1 < units.count, rest > 0 {
            let minor = units[top + 1]
            text += " \(rest / minor.seconds)\(minor.name)"
        }
        return text
    }

    /// A measured span (lateness, duration): milliseconds below a second (`0.412ms`), else
    /// ``short(micros:)``.
    static func preciseSpan(_ micros: Int64) -> String {
        if micros < 0 { return "-" + preciseSpan(micros == .min ? .max : -micros) }
        return micros < 1_000_000 ? millis(micros) : short(micros: micros)
    }

    /// The terminal columns `text` takes: per character, 2 for East Asian wide and full-width
    /// characters and for emoji shown as emoji, 0 for combining marks, else 1.
    static func displayWidth(_ text: String) -> Int {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text.utf8.count }
        var total = 0
        for character in text {
            let scalars = character.unicodeScalars
            if scalars.contains(where: { $0.properties.isEmojiPresentation || wide($0.value) })
                || (scalars.count > 1 && scalars.contains("\u{FE0F}"))
            {
                total += 2
            } else if scalars.allSatisfy({ zeroWidth($0) }) {
                continue
            } else {
                total += 1
            }
        }
        return total
    }

    /// East Asian Wide (W) and Fullwidth (F) blocks (Unicode's EastAsianWidth.txt, by block).
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60,
        0xFFE0...0xFFE6, 0x16FE0...0x18AFF, 0x1B000...0x1B2FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    private static func wide(_ value: UInt32) -> Bool {
        value >= 0x1100 && wideRanges.contains { $0.contains(value) }
    }

    private static func zeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: true
        default: false
        }
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

    /// `1 run`, `0 runs`, `30 times`: a count and its noun, plural unless one.
    static func count(_ count: some BinaryInteger, _ noun: String) -> String {
        count == 1 ? "1 \(noun)" : "\(count) \(noun)s"
    }

    /// An argv as a shell would need it typed: words with spaces, quotes or shell characters, and
    /// empty ones, in single quotes, so that `show` is unambiguous about where each argument ends.
    static func shellWords(_ argv: [String]) -> String {
        argv.map { word in
            let plain =
                !word.isEmpty
                && word.unicodeScalars.allSatisfy {
                    CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%^".unicodeScalars.contains($0)
                }
            return plain ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }.joined(separator: " ")
    }

    /// A duration in milliseconds with 3 decimals, e.g. `0.412ms`.
    static func millis(_ micros: Int64) -> String {
        String(format: "%.3fms", Double(micros) / 1000)
    }

    /// Prints one JSON document (sorted keys, pretty).
    static func json<T: Encodable>(_ value: T) throws {
        FileHandle.standardOutput.write(try jsonData(value))
    }

    /// One JSON document as `--json` prints it (sorted keys, pretty, a final newline): `jobctl serve`'s
    /// JSON API answers with the same bytes.
    static func jsonData<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(contentsOf: "\n".utf8)
        return data
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
    /// The job's own failure alert command (argv), or null.
    var onFailure: [String]?

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
        onFailure = d.onFailure
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
        try c.encode(onFailure, forKey: .onFailure)
        if let recentRuns { try c.encode(recentRuns, forKey: .recentRuns) }
    }

    enum CodingKeys: String, CodingKey {
        case name, queue, kind, handler, command, workingDirectory, payload, schedule, state, stateReason, nextRunAt
        case runCount, okCount, failedCount, lastOutcome, lastStartedAt, lastFinishedAt, running, timeout, retries
        case jitter, misfire, createdAt, recentRuns
        case environment, onFailure
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

extension RunnerJSON {
    /// The runner's state as recorded, or `dead` once its lease has expired: its runs are rescued by
    /// whichever process next can (one that could not write, such as on a read-only file, shows it so).
    static func state(of runner: RunnerRecord, now: UnixMicros) -> String {
        let live = runner.state == .running || runner.state == .draining
        return live && runner.heartbeatAt + runner.lease.microseconds < now ? "dead" : runner.state.rawValue
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

    init(_ r: RunnerRecord, now: UnixMicros) {
        id = r.id
        host = r.host
        pid = r.pid
        state = RunnerJSON.state(of: r, now: now)
        startedAt = Timestamp.formatRFC3339UTC(r.startedAt)
        heartbeatAt = Timestamp.formatRFC3339UTC(r.heartbeatAt)
        concurrency = r.concurrency
    }
}
