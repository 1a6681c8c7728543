import ArgumentParser
import Foundation
import JobRunner

struct Drain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drain every live runner of this database and wait for them to exit.",
        discussion: """
            Each runner stops claiming, lets runs in flight finish within its grace period (or --grace), \
            cancels the rest (recorded as interrupted), persists every next run, and exits. Prints what \
            finished and what was interrupted. Exit status 3 if --timeout passes first.

            Example: jobctl drain --timeout 1m
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Give up waiting after this long (exit status 3).", valueName: "duration"))
    var timeout: String = "2m"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Override the runners' grace period for runs in flight; shortens that of a runner already draining.",
            valueName: "duration"))
    var grace: String?

    @Flag(help: "Print one JSON document: runners, finished, interrupted.")
    var json = false

    struct DrainJSON: Encodable {
        var runners: [RunnerJSON]
        var finished: Int
        var interrupted: Int
        var outcomes: [String: Int]
        var timedOut: Bool
    }

    func validate() throws {
        _ = try Parse.duration(timeout, flag: "--timeout")
        if let grace { _ = try Parse.duration(grace, flag: "--grace") }
    }

    func run() async throws {
        let store = try await global.openStore()
        let limit = try Parse.duration(timeout, flag: "--timeout")
        // A runner killed with kill -9 is dead, not draining: rescue its runs instead of waiting for it.
        await store.rescueIfPossible()
        let request = try await store.requestDrain(grace: try grace.map { try Parse.duration($0, flag: "--grace") })
        let ids = request.runners.map(\.id)
        let deadline = ContinuousClock.now + limit
        let interactive = isatty(STDERR_FILENO) == 1 && !json
        if !json {
            print(
                ids.isEmpty
                    ? "no live runners"
                    : "draining \(ids.count) runner(s): " + ids.map { "#\($0)" }.joined(separator: ", "))
        }
        var progress = try await store.drainProgress(runnerIDs: ids, since: request.requestedAt)
        var nextRescue = ContinuousClock.now + .milliseconds(250)
        while !progress.live.isEmpty && ContinuousClock.now < deadline {
            // One that dies while draining is seen dead (pid gone, or lease expired), not waited for.
            if ContinuousClock.now >= nextRescue {
                await store.rescueIfPossible()
                nextRescue = ContinuousClock.now + .milliseconds(250)
            }
            if interactive {
                FileHandle.standardError.write(
                    Data(
                        "\r\(Output.count(progress.live.count, "runner")) draining, \(Output.count(progress.inFlight, "run")) in flight   "
                            .utf8))
            }
            try await Task.sleep(for: .milliseconds(10))
            progress = try await store.drainProgress(runnerIDs: ids, since: request.requestedAt)
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let interrupted = progress.outcomes[.interrupted] ?? 0
        let ended = progress.outcomes.filter { $0.key != .interrupted }
        let finished = ended.values.reduce(0, +)
        let timedOut = !progress.live.isEmpty
        if json {
            var outcomes: [String: Int] = [:]
            for (outcome, count) in progress.outcomes { outcomes[outcome.rawValue] = count }
            try Output.json(
                DrainJSON(
                    runners: request.runners.map { RunnerJSON($0, now: request.requestedAt) }, finished: finished,
                    interrupted: interrupted,
                    outcomes: outcomes, timedOut: timedOut)
            )
        } else {
            print(
                "finished: \(Output.count(finished, "run"))"
                    + (ended.isEmpty
                        ? ""
                        : " ("
                            + ended.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                                "\($0.key.rawValue) \($0.value)"
                            }.joined(separator: ", ") + ")"))
            print("interrupted: \(Output.count(interrupted, "run"))")
        }
        if timedOut {
            throw RuntimeError(
                message: "\(progress.live.count) runner(s) still running after \(timeout): "
                    + progress.live.map { "#\($0.id) (pid \($0.pid))" }.joined(separator: ", "),
                status: JobCtl.timedOut
            )
        }
        if !json && !ids.isEmpty { print("all runners stopped") }
    }
}
