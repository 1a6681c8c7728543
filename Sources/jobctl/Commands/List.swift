import ArgumentParser
import JobRunner

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List jobs with schedule, state, next run, run count and last outcome.",
        discussion: "Example: jobctl list --queue default --json"
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only jobs of this queue.")
    var queue: String?

    @Flag(help: "Print one JSON document (an array of jobs).")
    var json = false

    func run() async throws {
        let store = try await global.openStore()
        let jobs = try await store.jobs(queue: queue)
        if json {
            try Output.json(jobs.map { JobJSON($0) })
            return
        }
        if jobs.isEmpty {
            print("no jobs")
            return
        }
        let now = store.clock.now()
        Output.table(
            ["NAME", "QUEUE", "SCHEDULE", "STATE", "NEXT RUN", "RUNS", "LAST"],
            jobs.map { job in
                [
                    Output.cell(job.definition.name, limit: 40), Output.cell(job.definition.queue, limit: 20),
                    Output.cell(job.definition.schedule.description, limit: 50),
                    job.runningRunID != nil ? "\(job.state.rawValue)+running" : job.state.rawValue,
                    job.nextRunAt.map { Output.relative($0, now: now) } ?? "-", "\(job.runCount)",
                    job.lastOutcome?.rawValue ?? "-",
                ]
            }
        )
    }
}
