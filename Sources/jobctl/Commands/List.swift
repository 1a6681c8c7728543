import ArgumentParser
import JobRunner

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs with schedule, state, next run, run count and last outcome.",
        discussion: """
            Laid out like `systemctl list-timers`: NEXT (local time) and LEFT until it, LAST start (local \
            time) and PASSED since it, and the last outcome; then the job's name, state, run count, queue \
            and schedule. Jobs are sorted by their next run; those with none come last. A `+running` state \
            has a run in flight (LEFT says `running`); `overdue` in LEFT means due but not yet started, \
            `paused` that it waits to be resumed.

            --state failing keeps the jobs whose last run failed, timed out or was abandoned.

            Examples:
              jobctl list
              jobctl list --state failing
              jobctl list --queue default --json
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only jobs of this queue.")
    var queue: String?

    @Option(
        help: ArgumentHelp("Only jobs in this state: active, paused, stopped, done or failing.", valueName: "state"))
    var state: String?

    @Flag(help: "Print one JSON document (an array of jobs).")
    var json = false

    /// `--state` values: the job states, and `failing` (the last run failed, timed out or was abandoned).
    static let stateFilters = JobState.allCases.map(\.rawValue) + ["failing"]

    func validate() throws {
        if let queue { try Queue.validate(queue) }
        if let state, !List.stateFilters.contains(state) {
            throw ValidationError(
                "--state must be one of \(List.stateFilters.joined(separator: ", ")), not \(JobRunnerErrorText.quoted(state))"
            )
        }
    }

    /// Whether a job in `state` whose last run ended `lastOutcome` passes the `--state` filter.
    static func matches(state: JobState, lastOutcome: RunOutcome?, filter: String?) -> Bool {
        guard let filter else { return true }
        if filter == "failing" {
            return lastOutcome.map { [.failed, .timeout, .abandoned].contains($0) } ?? false
        }
        return state.rawValue == filter
    }

    func run() async throws {
        let store = try await global.openStore()
        let jobs = try await store.jobs(queue: queue).filter {
            List.matches(state: $0.state, lastOutcome: $0.lastOutcome, filter: state)
        }
        if json {
            try Output.json(jobs.map { JobJSON($0) })
            return
        }
        if jobs.isEmpty {
            print(state == nil ? "no jobs" : "no \(state ?? "") jobs")
            return
        }
        let now = store.clock.now()
        // Like list-timers: the soonest first, then those with nothing scheduled, by name.
        let sorted = jobs.enumerated().sorted { a, b in
            switch (a.element.nextRunAt, b.element.nextRunAt) {
            case (let x?, let y?): x == y ? a.offset < b.offset : x < y
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a.offset < b.offset
            }
        }.map(\.element)
        Output.table(
            ["NEXT", "LEFT", "LAST", "PASSED", "OUTCOME", "NAME", "STATE", "RUNS", "QUEUE", "SCHEDULE"],
            sorted.map { job in
                [
                    job.nextRunAt.map { Output.zonedTime($0) } ?? "-", List.left(job, now: now),
                    job.lastStartedAt.map { Output.zonedTime($0) } ?? "-", List.passed(job.lastStartedAt, now: now),
                    job.lastOutcome?.rawValue ?? "-", Output.cell(job.definition.name, limit: 40),
                    job.runningRunID != nil ? "\(job.state.rawValue)+running" : job.state.rawValue, "\(job.runCount)",
                    Output.cell(job.definition.queue, limit: 20),
                    Output.cell(job.definition.schedule.description, limit: 50),
                ]
            }
        )
    }

    /// Time until the next run: `4m 10s`; `overdue 2s` when it is due but has not started; `running`
    /// while a run is in flight (the next run is then computed when it ends); `paused`.
    static func left(_ job: JobRecord, now: UnixMicros) -> String {
        left(next: job.nextRunAt, state: job.state, running: job.runningRunID != nil, now: now)
    }

    static func left(next: UnixMicros?, state: JobState, running: Bool, now: UnixMicros) -> String {
        if running { return "running" }
        guard let next else { return "-" }
        if state == .paused { return "paused" }
        return next >= now ? Output.span(micros: next - now) : "overdue " + Output.span(micros: now - next)
    }

    /// Time since the last run started: `19m 3s ago`.
    static func passed(_ last: UnixMicros?, now: UnixMicros) -> String {
        guard let last else { return "-" }
        return last <= now ? Output.span(micros: now - last) + " ago" : "in " + Output.span(micros: last - now)
    }
}
