import Dispatch
import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#endif

/// The scenarios of `jobctl bench`, in the order they run.
package enum BenchScenario: String, CaseIterable, Sendable {
    case throughput, lateness, scale, idle, wake, drain, cron
    /// Side by side on SQLite and PostgreSQL (`--db postgres://…`): 1, 2 and 4 runner processes
    /// against the reference, lateness with several runner processes, wake-up, idle.
    case storeThroughput = "store-throughput"
    case storeLateness = "store-lateness"
    case storeWake = "store-wake"
    case storeIdle = "store-idle"
    /// Lateness with failing jobs whose alert command hangs or fails, against none; run when named.
    case alertHooks = "alert-hooks"

    /// The scenarios of a plain `jobctl bench` (the side-by-side ones run when named, or with `--db`).
    package static var sqliteOnly: [BenchScenario] { [.throughput, .lateness, .scale, .idle, .wake, .drain, .cron] }
    package static var sideBySide: [BenchScenario] { [.storeThroughput, .storeLateness, .storeWake, .storeIdle] }

    /// One repetition of this scenario.
    func run(_ context: BenchContext) async throws -> BenchRun {
        switch self {
        case .throughput: try await ThroughputBench.run(context)
        case .lateness: try await LatenessBench.run(context)
        case .scale: try await ScaleBench.run(context)
        case .idle: try await IdleBench.run(context)
        case .wake: try await WakeBench.run(context)
        case .drain: try await DrainBench.run(context)
        case .cron: try await CronWayBench.run(context)
        case .storeThroughput: try await StoreThroughputBench.run(context)
        case .storeLateness: try await StoreLatenessBench.run(context)
        case .storeWake: try await StoreWakeBench.run(context)
        case .storeIdle: try await StoreIdleBench.run(context)
        case .alertHooks: try await AlertHookBench.run(context)
        }
    }
}

/// What one `jobctl bench` invocation measures, and where.
package struct BenchPlan: Sendable {
    /// The scenarios to run, in ``BenchScenario``'s order.
    package var scenarios: [BenchScenario]
    /// Runs of each scenario (min / median / max).
    package var repetitions: Int
    package var settings: BenchSettings
    /// Keep every lateness sample in the report (for plots).
    package var includeSamples: Bool
    /// Where the temporary directory of the benchmark is made.
    package var directory: String
    /// The jobctl binary spawned for `jobctl run`, `add`, `drain` and `status`.
    package var jobctl: String
    /// The compiled C reference (`bench/sqlite_limit.c`), if given.
    package var reference: String?
    /// Keep the temporary databases (their directory is printed on stderr).
    package var keep: Bool
    /// The PostgreSQL server of the side-by-side scenarios (a URL of a database on it), if any.
    package var postgres: String?
    /// Opens a store at a `postgres://` URL; nil in a build without the PostgreSQL trait.
    package var openURL: BenchURLOpener?
    /// Closes a store's connections (a PostgreSQL pool).
    package var closeStore: BenchStoreCloser?
    /// The compiled PostgreSQL reference (`bench/pg_limit.c`), if given.
    package var postgresReference: String?

    package init(
        scenarios: [BenchScenario],
        repetitions: Int,
        settings: BenchSettings,
        includeSamples: Bool,
        directory: String,
        jobctl: String,
        reference: String?,
        keep: Bool,
        postgres: String? = nil,
        openURL: BenchURLOpener? = nil,
        closeStore: BenchStoreCloser? = nil,
        postgresReference: String? = nil
    ) {
        self.closeStore = closeStore
        self.postgres = postgres
        self.openURL = openURL
        self.postgresReference = postgresReference
        self.scenarios = scenarios
        self.repetitions = repetitions
        self.settings = settings
        self.includeSamples = includeSamples
        self.directory = directory
        self.jobctl = jobctl
        self.reference = reference
        self.keep = keep
    }
}

/// A scenario that failed, named.
package struct BenchFailure: Error, CustomStringConvertible {
    package var scenario: BenchScenario
    package var underlying: any Error

    package var description: String { "bench: \(scenario.rawValue): \(underlying)" }
}

/// Runs a ``BenchPlan``: each scenario on fresh databases in a temporary directory, which is
/// removed at the end (or on SIGINT and SIGTERM) with every child process.
package enum BenchHarness {
    /// Runs every scenario of `plan` and returns the report.
    ///
    /// - Throws: ``BenchFailure`` when a scenario fails; the error as it is when the temporary
    ///   directory cannot be made.
    package static func run(_ plan: BenchPlan) async throws -> BenchDocument {
        let root = plan.directory + "/jobctl-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let interrupt = cleanUpOnInterrupt(root)
        defer {
            interrupt.forEach { $0.cancel() }
            BenchChild.killAll()
            if plan.keep {
                FileHandle.standardError.write(Data("bench: kept \(root)\n".utf8))
            } else {
                try? FileManager.default.removeItem(atPath: root)
            }
        }
        let context = BenchContext(
            settings: plan.settings, root: root, jobctl: plan.jobctl, reference: plan.reference, keep: plan.keep,
            postgres: plan.postgres, openURL: plan.openURL, closeStore: plan.closeStore,
            postgresReference: plan.postgresReference)
        let started = BenchClock.now()
        let loadAtStart = loadAverage()
        var server: String?
        if let postgres = plan.postgres, plan.scenarios.contains(where: BenchScenario.sideBySide.contains) {
            server =
                (try await BenchPostgres.version(context, postgres)) + " ("
                + (try await BenchPostgres.settings(context, postgres)) + ")"
        }
        var reports: [BenchScenarioReport] = []
        for scenario in BenchScenario.allCases where plan.scenarios.contains(scenario) {
            var runs: [BenchRun] = []
            for repetition in 0..<plan.repetitions {
                context.progress(
                    "\(scenario.rawValue)"
                        + (plan.repetitions > 1 ? " (\(repetition + 1) of \(plan.repetitions))" : "") + "…")
                do {
                    runs.append(try await scenario.run(context))
                } catch {
                    throw BenchFailure(scenario: scenario, underlying: error)
                }
            }
            reports.append(
                BenchScenarioReport(name: scenario.rawValue, runs: runs, includeSamples: plan.includeSamples))
        }
        var machine = machine(directory: plan.directory, loadAtStart: loadAtStart)
        machine.postgres = server
        return BenchDocument(
            startedAt: Timestamp.formatRFC3339UTC(started), quick: plan.settings.quick,
            repetitions: plan.repetitions, machine: machine, scenarios: reports)
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
            nice: getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0), postgres: nil)
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
