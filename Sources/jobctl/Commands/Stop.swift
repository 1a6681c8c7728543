import ArgumentParser
import Foundation
import JobRunner

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a job: no further runs.",
        discussion: """
            A run in flight is left to finish; --wait waits for it (up to --timeout). A run claimed \
            ahead of its due time that has not begun (PostgreSQL's claim lead) is recalled, recorded \
            interrupted. `jobctl resume` reschedules a stopped job from now.

            Example: jobctl stop rotate --wait --timeout 1m
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's name.")
    var name: String

    @Flag(help: "Also wait for a run in flight to end.")
    var wait = false

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --wait: give up after this long (default 5m; exit status 3).", valueName: "duration"))
    var timeout: String?

    func validate() throws {
        if let timeout {
            guard wait else { throw ValidationError("--timeout goes with --wait") }
            _ = try Parse.duration(timeout, flag: "--timeout")
        }
    }

    func run() async throws {
        let store = try await global.openStore()
        var job = try await store.stop(name)
        if job.state == .done {
            print("\(Output.cell(job.definition.name, limit: 80)) is done already; it stays done")
        } else {
            print("stopped \(Output.cell(job.definition.name, limit: 80))")
        }
        guard wait, job.runningRunID != nil else { return }
        print("waiting for run \(job.runningRunID ?? 0) to end…")
        let limit = timeout ?? "5m"
        let deadline = ContinuousClock.now + (try Parse.duration(limit, flag: "--timeout"))
        var nextRescue = ContinuousClock.now
        while let current = try await store.job(named: name), current.runningRunID != nil {
            job = current
            // A run whose runner died is recorded abandoned here rather than waited for.
            if ContinuousClock.now >= nextRescue {
                await store.rescueIfPossible()
                nextRescue = ContinuousClock.now + .milliseconds(250)
                continue
            }
            if ContinuousClock.now >= deadline {
                throw RuntimeError(
                    message: "run \(current.runningRunID ?? 0) of \(name) is still in flight after \(limit)",
                    status: JobCtl.timedOut)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        if let run = try await store.history(HistoryQuery(jobID: job.id, limit: 1)).first {
            print("run \(run.id) ended: \(run.outcome.rawValue)")
        }
    }
}
