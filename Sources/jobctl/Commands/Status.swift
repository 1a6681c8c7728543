import ArgumentParser
import JobRunner

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counts: jobs by state, runs by outcome, runners, in-flight and due work, and runs per job.",
        discussion: "Example: jobctl status --json"
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print one JSON document (with every job in perJob).")
    var json = false

    @Flag(help: "List every job's run count, not only the first 50.")
    var all = false

    /// How many jobs the human output lists unless --all.
    static let shownJobs = 50

    struct StatusJSON: Encodable {
        var jobs: [String: Int]
        var runs: [String: Int64]
        var runners: [RunnerJSON]
        var inFlight: Int
        var due: Int
        var perJob: [PerJob]
        struct PerJob: Encodable {
            var name: String
            var runCount: Int64
        }

        /// The document of `status --json` (and of `serve`'s `/api/status`).
        init(_ status: StoreStatus, now: UnixMicros) {
            var jobs: [String: Int] = [:]
            for state in JobState.allCases { jobs[state.rawValue] = status.jobsByState[state] ?? 0 }
            var runs: [String: Int64] = ["total": status.totalRuns]
            for outcome in RunOutcome.final { runs[outcome.rawValue] = status.runsByOutcome[outcome] ?? 0 }
            self.jobs = jobs
            self.runs = runs
            runners = status.liveRunners.map { RunnerJSON($0, now: now) }
            inFlight = status.inFlight
            due = status.due
            perJob = status.perJob.map { .init(name: $0.name, runCount: $0.runCount) }
        }
    }

    func run() async throws {
        let store = try await global.openStore()
        // Runners that died (kill -9, power loss) are shown dead and their runs rescued, not left
        // looking alive with runs in flight.
        let rescued = await store.rescueIfPossible()
        let status = try await store.status(perJobLimit: json || all ? nil : Status.shownJobs + 1)
        let now = store.clock.now()
        let document = StatusJSON(status, now: now)
        let (jobs, runs) = (document.jobs, document.runs)
        if json {
            try Output.json(document)
            return
        }
        print(
            "jobs:    " + JobState.allCases.map { "\($0.rawValue) \(jobs[$0.rawValue] ?? 0)" }.joined(separator: ", "))
        print(
            "runs:    total \(status.totalRuns), "
                + RunOutcome.final.map { "\($0.rawValue) \(runs[$0.rawValue] ?? 0)" }.joined(separator: ", "))
        print("now:     \(status.inFlight) in flight, \(status.due) due and waiting")
        if !rescued.isEmpty {
            print("rescued: \(Output.count(rescued.count, "run")) of dead runners, recorded abandoned and rescheduled")
        }
        if status.liveRunners.isEmpty {
            print("runners: none alive")
        } else {
            print("runners:")
            for r in status.liveRunners {
                print(
                    "  #\(r.id) \(Output.cell(r.host, limit: 64)) pid \(r.pid) \(RunnerJSON.state(of: r, now: now)), \(r.concurrency) slots, up since \(Output.time(r.startedAt, now: now)), heartbeat \(Output.relative(r.heartbeatAt, now: now))"
                )
            }
        }
        if !status.perJob.isEmpty { print("") }
        for job in status.perJob.prefix(all ? Int.max : Status.shownJobs) {
            print("\(Output.cell(job.name, limit: 80)): called \(Output.count(job.runCount, "time")) so far")
        }
        let totalJobs = jobs.values.reduce(0, +)
        if !all && totalJobs > Status.shownJobs {
            print("… and \(totalJobs - Status.shownJobs) more jobs (jobctl status --all, or jobctl list)")
        }
    }
}
