import ArgumentParser
import JobRunner

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run history, newest first.",
        discussion: "Example: jobctl history rotate --since 2026-11-25T00:00:00Z --status failed --limit 20"
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Only runs of this job.")
    var name: String?

    @Option(help: ArgumentHelp("Only runs started at or after this RFC 3339 instant.", valueName: "time"))
    var since: String?

    @Option(
        help: ArgumentHelp(
            "Only runs with this outcome: running, ok, failed, timeout, interrupted, abandoned.", valueName: "outcome"))
    var status: String?

    @Option(parsing: .unconditional, help: "At most this many runs (1 to 1000000).")
    var limit: Int = 50

    @Flag(help: "Print one JSON document (an array of runs).")
    var json = false

    func validate() throws {
        _ = try Parse.count(limit, flag: "--limit", in: 1...1_000_000)
        if let since { _ = try Parse.instant(since, flag: "--since") }
        if let status, RunOutcome(rawValue: status) == nil {
            throw ValidationError(
                "--status must be one of \(RunOutcome.allCases.map(\.rawValue).joined(separator: ", ")), not \(JobRunnerErrorText.quoted(status))"
            )
        }
        if limit < 0 { throw ValidationError("--limit must not be negative") }
    }

    func run() async throws {
        let store = try await global.openStore()
        let runs = try await store.history(
            HistoryQuery(
                job: name,
                since: try since.map { try Parse.instant($0, flag: "--since") },
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
                    Output.localTime(run.startedAt, milliseconds: true), Output.span(run.lateness),
                    run.finishedAt.map { Output.span($0 - run.startedAt) } ?? "-", run.outcome.rawValue,
                    Output.cell(detail, limit: 60),
                ]
            }
        )
    }
}
