import ArgumentParser
import Foundation
import JobRunnerBench

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput, lateness, scale, idle cost, wake-up, drain and the cron way on this disk.",
        discussion: """
            Each scenario runs on a fresh database in a temporary directory (--dir), which is removed at \
            the end, with every child process. Prints a table of min / median / max over --repeat runs \
            with the targets of the design, or one JSON document with --json. Takes a few minutes at full \
            size (the scale scenario seeds 1,000,000 jobs and 10,000,000 history rows); --quick uses tiny \
            counts.

            Scenarios: throughput, lateness, scale, idle, wake, drain, cron.

            Examples:
              jobctl bench --scenario throughput --scenario lateness
              jobctl bench --repeat 3 --reference bench/out/sqlite-limit --json > bench.json
              jobctl bench --quick
            """
    )

    @Option(name: .customLong("scenario"), help: "Run only this scenario (repeatable; default: all).")
    var scenarios: [BenchScenario] = []

    @Flag(help: "Tiny counts: checks that every scenario runs, measures nothing meaningful.")
    var quick = false

    @Option(name: .customLong("repeat"), help: "Run each scenario this many times (min / median / max).")
    var repetitions: Int = 1

    @Flag(help: "Print one JSON document.")
    var json = false

    @Flag(help: "With --json or --json-file: include every lateness sample (for plots).")
    var samples = false

    @Option(help: ArgumentHelp("Also write the JSON document to this file.", valueName: "path"))
    var jsonFile: String?

    @Option(help: ArgumentHelp("Where to put the temporary databases (default: $TMPDIR or /tmp).", valueName: "dir"))
    var dir: String?

    @Option(
        help: ArgumentHelp(
            "The compiled C reference (bench/sqlite_limit.c), run in the same invocation for the throughput fraction.",
            valueName: "path"))
    var reference: String?

    @Flag(help: "Keep the temporary databases (their directory is printed) for inspection.")
    var keep = false

    @Option(help: "Throughput: one-shot jobs due now (default 100000).")
    var jobs: Int?

    @Option(help: "Throughput and scale: the runner's worker slots (default 256).")
    var workers: Int?

    @Option(help: "Lateness: how long the periodic jobs run, in seconds (default 20).")
    var latenessSeconds: Double?

    @Option(help: "Scale: future jobs in the large file (default 1000000).")
    var scaleJobs: Int?

    @Option(help: "Scale: history rows in the large file (default 10000000).")
    var scaleHistory: Int?

    func validate() throws {
        if !(1...100).contains(repetitions) { throw ValidationError("--repeat must be between 1 and 100") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be positive") }
        if let workers, !(1...10_000).contains(workers) {
            throw ValidationError("--workers must be between 1 and 10000")
        }
        if let latenessSeconds, latenessSeconds <= 0 { throw ValidationError("--lateness-seconds must be positive") }
        if let scaleJobs, scaleJobs < 1 { throw ValidationError("--scale-jobs must be positive") }
        if let scaleHistory, scaleHistory < 0 { throw ValidationError("--scale-history must not be negative") }
        if samples && !json && jsonFile == nil { throw ValidationError("--samples goes with --json or --json-file") }
        if let reference, !FileManager.default.isExecutableFile(atPath: reference) {
            throw ValidationError(
                "--reference: \(reference) is not an executable file (build it: bench/build-reference)")
        }
    }

    var settings: BenchSettings {
        var settings = quick ? BenchSettings.quick : BenchSettings.full
        if let jobs { settings.throughputJobs = jobs }
        if let workers { settings.workers = workers }
        if let latenessSeconds { settings.latenessSeconds = latenessSeconds }
        if let scaleJobs { settings.scaleJobs = scaleJobs }
        if let scaleHistory { settings.scaleHistory = scaleHistory }
        return settings
    }

    func run() async throws {
        let plan = BenchPlan(
            scenarios: scenarios.isEmpty ? BenchScenario.allCases : scenarios, repetitions: repetitions,
            settings: settings, includeSamples: samples,
            directory: dir ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp",
            jobctl: Bench.executablePath(), reference: reference.map(Bench.absolute), keep: keep)
        let document: BenchDocument
        do {
            document = try await BenchHarness.run(plan)
        } catch let failure as BenchFailure {
            throw RuntimeError(message: failure.description)
        }
        if let jsonFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(document).write(to: URL(fileURLWithPath: jsonFile))
        }
        if json {
            try Output.json(document)
        } else {
            print(BenchFormat.table(document))
        }
    }

    /// This binary, spawned for `jobctl run`, `add`, `drain` and `status`.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return absolute(CommandLine.arguments[0])
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

extension BenchScenario: ExpressibleByArgument {}
