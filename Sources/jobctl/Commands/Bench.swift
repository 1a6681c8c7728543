import ArgumentParser
import Dispatch
import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#endif

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

    enum Scenario: String, CaseIterable, ExpressibleByArgument {
        case throughput, lateness, scale, idle, wake, drain, cron
    }

    @Option(name: .customLong("scenario"), help: "Run only this scenario (repeatable; default: all).")
    var scenarios: [Scenario] = []

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
        let base = dir ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let root = base + "/jobctl-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let interrupt = Bench.cleanUpOnInterrupt(root)
        defer {
            interrupt.forEach { $0.cancel() }
            BenchChild.killAll()
            if keep {
                FileHandle.standardError.write(Data("bench: kept \(root)\n".utf8))
            } else {
                try? FileManager.default.removeItem(atPath: root)
            }
        }
        let context = BenchContext(
            settings: settings, root: root, jobctl: Bench.executablePath(), reference: reference.map(Bench.absolute),
            keep: keep)
        let started = BenchClock.now()
        let loadAtStart = Bench.loadAverage()
        let selected = scenarios.isEmpty ? Scenario.allCases : Scenario.allCases.filter(scenarios.contains)
        var reports: [BenchScenarioReport] = []
        for scenario in selected {
            var runs: [BenchRun] = []
            for repetition in 0..<repetitions {
                context.progress(
                    "\(scenario.rawValue)" + (repetitions > 1 ? " (\(repetition + 1) of \(repetitions))" : "") + "…")
                do {
                    runs.append(try await Bench.run(scenario, context))
                } catch let error as RuntimeError {
                    throw error
                } catch {
                    throw RuntimeError(message: "bench: \(scenario.rawValue): \(error)")
                }
            }
            reports.append(BenchScenarioReport(name: scenario.rawValue, runs: runs, includeSamples: samples))
        }
        let document = BenchDocument(
            startedAt: Timestamp.formatRFC3339UTC(started), quick: quick, repetitions: repetitions,
            machine: Bench.machine(directory: base, loadAtStart: loadAtStart), scenarios: reports)
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

    static func run(_ scenario: Scenario, _ context: BenchContext) async throws -> BenchRun {
        switch scenario {
        case .throughput: try await ThroughputBench.run(context)
        case .lateness: try await LatenessBench.run(context)
        case .scale: try await ScaleBench.run(context)
        case .idle: try await IdleBench.run(context)
        case .wake: try await WakeBench.run(context)
        case .drain: try await DrainBench.run(context)
        case .cron: try await CronWayBench.run(context)
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

    /// On SIGINT or SIGTERM: end the children, remove the temporary directory, exit 130.
    static func cleanUpOnInterrupt(_ root: String) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                BenchChild.killAll()
                try? FileManager.default.removeItem(atPath: root)
                FileHandle.standardError.write(Data("bench: interrupted; cleaned up\n".utf8))
                Foundation.exit(130)
            }
            source.resume()
            return source
        }
    }

    /// The 1, 5 and 15 minute load averages.
    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func machine(directory: String, loadAtStart: String) -> BenchDocument.Machine {
        let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var names = utsname()
        uname(&names)
        let kernel = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return BenchDocument.Machine(
            cpus: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model,
            memoryGiB: Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824, kernel: kernel,
            sqlite: BenchmarkDatabase.sqliteVersion, directory: directory, filesystem: filesystem(of: directory),
            loadAverageStart: loadAtStart, loadAverageEnd: loadAverage(),
            nice: getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
    }

    /// The file system type of the mount holding `path`, from /proc/self/mounts.
    static func filesystem(of path: String) -> String {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return "unknown" }
        let resolved = (path as NSString).resolvingSymlinksInPath
        var best: (point: String, type: String) = ("", "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1])
            let inside = resolved == point || resolved.hasPrefix(point == "/" ? "/" : point + "/")
            if inside && point.count > best.point.count { best = (point, String(fields[2])) }
        }
        return best.type
    }
}
