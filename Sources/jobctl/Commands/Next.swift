import ArgumentParser
import Foundation
import JobRunner

struct Next: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the next firing times of a job or a schedule, in local time and UTC.",
        discussion: """
            Like `systemd-analyze calendar --iterations`: for a stored job (its next run as stored, then \
            its schedule's slots), or for a schedule given by --cron [--tz] or --every as if a job with it \
            were added now. Cron times follow the DST rules of the zone: a skipped local time fires once \
            right after the gap, a repeated one fires once. Local time is this machine's ($TZ). Jitter is \
            not included; a fixed-delay job's later runs depend on when each run ends and are shown for \
            runs that take no time.

            Examples:
              jobctl next rotate
              jobctl next --cron '30 2 * * *' --tz Europe/Berlin --count 3
              jobctl next --every 90m --json
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A job's name (or give --cron or --every instead).")
    var name: String?

    @Option(help: ArgumentHelp("A cron expression (5 or 6 fields, or @hourly, @daily, …).", valueName: "expr"))
    var cron: String?

    @Option(help: ArgumentHelp("With --cron: the IANA time zone, e.g. Europe/Berlin (default UTC).", valueName: "zone"))
    var tz: String?

    @Option(help: ArgumentHelp("A fixed-rate interval, e.g. 5m, 1h30m.", valueName: "duration"))
    var every: String?

    @Option(help: "How many firing times (1-1000).")
    var count: Int = 5

    @Flag(help: "Print one JSON document.")
    var json = false

    /// For tests: compute from this RFC 3339 instant instead of the clock.
    @Option(help: ArgumentHelp("Pretend it is this instant (RFC 3339).", valueName: "time", visibility: .hidden))
    var now: String?

    func validate() throws {
        let given = [name != nil, cron != nil, every != nil].filter { $0 }.count
        if given != 1 {
            throw ValidationError(
                given == 0
                    ? "give a job NAME, --cron EXPR or --every DURATION" : "give only one of NAME, --cron and --every")
        }
        if tz != nil && cron == nil { throw ValidationError("--tz goes with --cron") }
        if !(1...1000).contains(count) { throw ValidationError("--count must be between 1 and 1000") }
        if let now { _ = try Parse.instant(now, flag: "--now") }
        _ = try schedule()
    }

    /// The schedule given by --cron or --every, or nil when a job name was given.
    func schedule() throws -> Schedule? {
        if let cron { return try Parse.cron(cron, timeZone: tz) }
        if let every { return .every(try Parse.duration(every, flag: "--every", allowZero: false)) }
        return nil
    }

    func run() async throws {
        let schedule: Schedule
        let times: [UnixMicros]
        let current: UnixMicros
        var state: JobState?
        if let given = try self.schedule() {
            current = try now.map { try Parse.instant($0, flag: "--now") } ?? SystemJobClock().now()
            schedule = given
            times = given.upcomingOccurrences(addedAt: current, count: count)
        } else {
            let store = try await global.openStore()
            let jobName = name ?? ""
            guard let job = try await store.job(named: jobName) else {
                throw RuntimeError(message: "no job named \(JobRunnerErrorText.quoted(jobName))")
            }
            current = try now.map { try Parse.instant($0, flag: "--now") } ?? store.clock.now()
            schedule = job.definition.schedule
            state = job.state
            times = job.upcomingOccurrences(count: count)
        }
        var zone: TimeZone?
        if case .cron(_, let cronZone) = schedule { zone = cronZone }
        if json {
            try Output.json(NextJSON(schedule: schedule, zone: zone, state: state, times: times))
            return
        }
        Next.printTimes(schedule: schedule, zone: zone, state: state, times: times, now: current)
    }

    /// The `systemd-analyze calendar` layout: each time in local time, then UTC (and the schedule's zone
    /// when it is not the local one), then how far away it is.
    static func printTimes(schedule: Schedule, zone: TimeZone?, state: JobState?, times: [UnixMicros], now: UnixMicros)
    {
        var lines: [(String, String)] = [("Schedule", schedule.description)]
        if let state, state != .active { lines.append(("State", state.rawValue)) }
        if times.isEmpty {
            lines.append(("Next elapse", "never"))
        }
        let showZone =
            zone.map { TimeZoneName.displayName($0) != "UTC" && $0.identifier != TimeZone.current.identifier } ?? false
        for (index, time) in times.enumerated() {
            lines.append((index == 0 ? "Next elapse" : "Iter. #\(index + 1)", Output.zonedTime(time)))
            if showZone, let zone { lines.append(("(in \(zone.identifier))", Output.zonedTime(time, zone: zone))) }
            lines.append(("(in UTC)", Output.utcTime(time)))
            let delta = time - now
            lines.append(
                ("From now", delta >= 0 ? Output.span(micros: delta) + " left" : Output.span(micros: delta) + " ago"))
        }
        let width = lines.map(\.0.count).max() ?? 0
        for (label, value) in lines {
            print(String(repeating: " ", count: width - label.count) + label + ": " + value)
        }
    }
}

/// The JSON shape of `jobctl next`. Field names are stable.
struct NextJSON: Encodable {
    var schedule: String
    var timeZone: String?
    var state: String?
    var occurrences: [Occurrence]

    struct Occurrence: Encodable {
        /// RFC 3339 UTC.
        var at: String
        /// RFC 3339 with the local (machine) offset.
        var local: String
    }

    init(schedule: Schedule, zone: TimeZone?, state: JobState?, times: [UnixMicros]) {
        self.schedule = schedule.description
        timeZone = zone?.identifier
        self.state = state?.rawValue
        occurrences = times.map { Occurrence(at: Timestamp.formatRFC3339UTC($0), local: Output.rfc3339Local($0)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(timeZone, forKey: .timeZone)
        try c.encode(state, forKey: .state)
        try c.encode(occurrences, forKey: .occurrences)
    }

    enum CodingKeys: String, CodingKey { case schedule, timeZone, state, occurrences }
}
