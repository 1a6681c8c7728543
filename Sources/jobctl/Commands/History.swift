import ArgumentParser
import Foundation
import JobRunner
import UnixSignals

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run history, newest first.",
        discussion: """
            --since takes a duration ago (1h, 30m, 2d), a local date or date and time (2026-11-30, \
            2026-11-30 10:00, 2026-11-30 10:00:30), or an RFC 3339 instant.

            --follow prints the last runs (oldest first), then each run as it finishes, until SIGINT \
            (Ctrl-C) or SIGTERM ends it with status 0. Every run is printed once, when it has finished; \
            with --json, one JSON object a line. It reads the newest runs five times a second, two \
            index lookups each, so it costs next to nothing while nothing happens.

            Examples:
              jobctl history rotate --since 2026-11-25T00:00:00Z --status failed --limit 20
              jobctl history --since 1h
              jobctl history --follow --status failed
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Only runs of this job.")
    var name: String?

    @Option(
        help: ArgumentHelp(
            "Only runs started at or after this: a duration ago (1h), a local date or time (2026-11-30 10:00), or RFC 3339.",
            valueName: "time"))
    var since: String?

    @Option(
        help: ArgumentHelp(
            "Only runs with this outcome: running, ok, failed, timeout, interrupted, abandoned.", valueName: "outcome"))
    var status: String?

    @Option(parsing: .unconditional, help: "At most this many runs (1 to 1000000).")
    var limit: Int = 50

    @Flag(help: "Print one JSON document (an array of runs); with --follow, one JSON object a line.")
    var json = false

    @Flag(help: "Keep printing runs as they finish, until interrupted.")
    var follow = false

    func validate() throws {
        _ = try Parse.count(limit, flag: "--limit", in: 1...1_000_000)
        if let since { _ = try Parse.since(since, flag: "--since", now: 0) }
        if let status, RunOutcome(rawValue: status) == nil {
            throw ValidationError(
                "--status must be one of \(RunOutcome.allCases.map(\.rawValue).joined(separator: ", ")), not \(JobRunnerErrorText.quoted(status))"
            )
        }
        if follow && status == RunOutcome.running.rawValue {
            throw ValidationError("--follow prints runs when they finish, so --status running would print nothing")
        }
    }

    func run() async throws {
        let store = try await global.openStore()
        if follow {
            try await followRuns(store)
            return
        }
        let runs = try await store.history(
            HistoryQuery(
                job: name,
                since: try since.map { try Parse.since($0, flag: "--since", now: store.clock.now()) },
                outcome: status.flatMap(RunOutcome.init(rawValue:)),
                limit: limit
            )
        )
        if json {
            try Output.json(runs.map(RunJSON.init))
            return
        }
        if runs.isEmpty {
            print("no runs")
            return
        }
        History.printTable(runs)
    }

    static func printTable(_ runs: [RunRecord]) {
        Output.table(
            ["RUN", "JOB", "TRY", "STARTED", "LATE", "DURATION", "OUTCOME", "DETAIL"],
            runs.map { run in
                var detail = run.error ?? ""
                if let code = run.exitCode, run.outcome != .ok || detail.isEmpty {
                    detail = detail.isEmpty ? "exit \(code)" : detail
                }
                if run.triggered { detail = detail.isEmpty ? "triggered" : "triggered; " + detail }
                return [
                    "\(run.id)", Output.cell(run.jobName, limit: 30), "\(run.attempt)",
                    Output.localTime(run.startedAt, milliseconds: true), Output.preciseSpan(run.lateness),
                    run.finishedAt.map { Output.preciseSpan($0 - run.startedAt) } ?? "-", run.outcome.rawValue,
                    Output.cell(detail, limit: 60),
                ]
            }
        )
    }
}
