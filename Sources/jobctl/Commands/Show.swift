import ArgumentParser
import JobRunner

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one job in full, with its last runs.",
        discussion: """
            Prints the definition, state and counters, the last runs, and the last lines of the output \
            of the last finished run (`jobctl logs RUN` prints all that was captured).

            Example: jobctl show rotate --json
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's name.")
    var name: String

    @Option(parsing: .unconditional, help: "How many recent runs to show (0 to 10000).")
    var runs: Int = 10

    func validate() throws {
        _ = try Parse.count(runs, flag: "--runs", in: 0...10_000)
    }

    @Flag(help: "Print one JSON document.")
    var json = false

    func run() async throws {
        let store = try await global.openStore()
        guard let job = try await store.job(named: name) else {
            throw RuntimeError(message: "no job named \(JobRunnerErrorText.quoted(name))")
        }
        let recent = try await store.history(HistoryQuery(jobID: job.id, limit: max(0, runs)))
        if json {
            try Output.json(JobJSON(job, recentRuns: recent))
            return
        }
        let now = store.clock.now()
        let d = job.definition
        var lines: [(String, String)] = [
            ("name", d.name), ("queue", d.queue), ("schedule", d.schedule.description),
            ("state", job.state.rawValue + (job.stateReason.map { ": " + Output.cell($0, limit: 200) } ?? "")),
        ]
        switch d.action {
        case .handler(let handler): lines.append(("handler", handler))
        case .command(let argv, let directory):
            lines.append(("command", Output.cell(Output.shellWords(argv), limit: 400)))
            lines.append(("directory", directory ?? "-"))
            for (key, value) in d.environment.sorted(by: { $0.key < $1.key }) {
                lines.append(("env", Output.cell(key + "=" + value, limit: 200)))
            }
        }
        if let payload = d.payload { lines.append(("payload", Output.cell(payload, limit: 200))) }
        lines.append(("on failure", d.onFailure.map { Output.cell(Output.shellWords($0), limit: 400) } ?? "-"))
        lines += [
            (
                "next run",
                job.state == .paused
                    ? job.nextRunAt.map { Output.localTime($0) + " (paused)" } ?? "-"
                    : Output.time(job.nextRunAt, now: now)
            ),
            ("running", job.runningRunID.map { "yes (run \($0))" } ?? "no"),
            ("runs", "\(job.runCount) (ok \(job.okCount), failed \(job.failedCount))"),
            ("last outcome", job.lastOutcome?.rawValue ?? "-"),
            ("last finished", Output.time(job.lastFinishedAt, now: now)),
            ("timeout", d.timeout.map(DurationFormat.format) ?? "none"),
            ("retries", "\(d.retry.maxRetries) (backoff \(DurationFormat.format(d.retry.backoff)))"),
            ("jitter", DurationFormat.format(d.jitter)), ("misfire", d.misfire.rawValue),
            ("created", Output.time(job.createdAt, now: now)),
        ]
        let width = lines.map(\.0.count).max() ?? 0
        for (key, value) in lines {
            print(key + ":" + String(repeating: " ", count: width - key.count + 1) + value)
        }
        print("")
        print("\(job.definition.name): called \(Output.count(job.runCount, "time")) so far")
        if !recent.isEmpty {
            print("")
            History.printTable(recent)
        }
        try await printLastOutput(store: store, job: job, recent: recent)
    }

    /// How many lines of the last run's output `show` prints.
    static let outputLines = 10

    /// The output tail of the job's last finished run, if it printed anything.
    func printLastOutput(store: JobStore, job: JobRecord, recent: [RunRecord]) async throws {
        var last = recent.first { $0.finishedAt != nil }
        if last == nil && recent.count >= max(0, runs) {
            // Fewer runs were asked for than needed to reach a finished one: look a little further.
            last = try await store.history(HistoryQuery(jobID: job.id, limit: 20)).first { $0.finishedAt != nil }
        }
        guard let last, let output = last.output, !output.isEmpty else { return }
        let lines = Output.lastLines(output, lines: Show.outputLines)
        print("")
        print("last output (run \(last.id), \(last.outcome.rawValue); all of it: jobctl logs \(last.id)):")
        for line in lines { print("  " + line) }
    }
}
