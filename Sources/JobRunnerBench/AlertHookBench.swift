import Foundation
import JobRunner
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Failure alerts never slow the runner: the lateness of periodic jobs, a tenth of which fail on
/// every run, measured three times in one invocation, each on a fresh database with the same jobs:
/// no alert command; a command that hangs (`sleep 3600`); a command that fails at once (`false`).
///
/// The command is the failing jobs' own (``JobDefinition/onFailure``), and the runner's alert
/// interval is zero, so that every failure raises an alert (the worst case: the default limit of one
/// per job per minute would deliver a handful). Lateness is taken at handler entry, as in
/// ``LatenessBench``. The hanging commands are counted just before the drain (at most
/// ``FailureAlerting``'s 16 deliveries run at once; the rest are dropped), and must all be gone when
/// the runner has stopped; any left are killed and reported.
enum AlertHookBench {
    enum Variant: String, CaseIterable {
        case none
        case hanging
        case failing

        var command: [String]? {
            switch self {
            case .none: nil
            case .hanging: ["sleep", "3600"]
            case .failing: ["false"]
            }
        }

        var label: String {
            switch self {
            case .none: "no alert command"
            case .hanging: "alert command hangs (sleep 3600)"
            case .failing: "alert command fails at once (false)"
            }
        }
    }

    struct Measured {
        var lateness: [Double]
        /// `sleep 3600` children alive just before the drain, and after the runner stopped.
        var hangingBeforeDrain: Int
        var hangingLeftOver: Int
        var failedRuns: Int
    }

    struct Failure: Error {}

    /// Repetitions so far in this process, to rotate the order of the variants.
    private static let repetition = Atomic<Int>(0)

    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        let jobs = settings.latenessJobs
        let failing = max(1, jobs / 10)
        var run = BenchRun()
        run.parameters = [
            "jobs": "\(jobs) every \(DurationFormat.format(settings.latenessInterval)), spread phases",
            "failing": "\(failing) of them fail on every run, each with its own --on-failure command",
            "alert interval": "0 (every failure alerts)",
            "duration": "\(settings.latenessSeconds)s per variant",
        ]
        var measured: [Variant: Measured] = [:]
        // The first variant of a repetition was seen to pay for whatever the machine did before (a
        // first run had its baseline's p99 at 186 ms, the next variants' at 2-3 ms): each repetition
        // starts with the next variant, so that with --repeat 3 each goes first once.
        let first = repetition.wrappingAdd(1, ordering: .relaxed).oldValue % Variant.allCases.count
        let order = Array(Variant.allCases[first...] + Variant.allCases[..<first])
        run.parameters["order"] = order.map(\.rawValue).joined(separator: ", ")
        for variant in order {
            let path = try context.freshDatabase("alert-hooks-\(variant.rawValue)")
            let result = try await measure(context, path: path, variant: variant, failing: failing)
            context.discard(path)
            measured[variant] = result
            run.samples["\(variant.rawValue)_lateness_ms"] = result.lateness
            context.progress(
                "alert-hooks: \(variant.label): \(LatenessBench.summary(result.lateness)), \(result.failedRuns) failed runs"
                    + (variant == .hanging
                        ? ", \(result.hangingBeforeDrain) hanging commands before the drain, \(result.hangingLeftOver) left after"
                        : ""))
        }
        guard let base = measured[.none] else { return run }
        let baseSorted = base.lateness.sorted()
        for variant in Variant.allCases {
            guard let result = measured[variant] else { continue }
            let sorted = result.lateness.sorted()
            let key = variant.rawValue
            let p50 = BenchStatistics.percentile(sorted, 50)
            let p99 = BenchStatistics.percentile(sorted, 99)
            let max = sorted.last ?? .nan
            run.add("\(key)_p50_ms", "\(variant.label): lateness p50", p50, unit: "ms")
            run.add("\(key)_p99_ms", "\(variant.label): lateness p99", p99, unit: "ms")
            run.add("\(key)_max_ms", "\(variant.label): lateness max", max, unit: "ms")
            run.add("\(key)_runs", "\(variant.label): runs measured", Double(sorted.count), unit: "runs")
            run.add("\(key)_failed_runs", "\(variant.label): failed runs", Double(result.failedRuns), unit: "runs")
            if variant != .none {
                let ratio = { (value: Double, reference: Double) in reference > 0 ? value / reference : .nan }
                run.add(
                    "\(key)_p50_ratio", "\(variant.label): p50 / no command's",
                    ratio(p50, BenchStatistics.percentile(baseSorted, 50)),
                    unit: "x")
                run.add(
                    "\(key)_p99_ratio", "\(variant.label): p99 / no command's",
                    ratio(p99, BenchStatistics.percentile(baseSorted, 99)),
                    unit: "x", target: .atMost(2))
                run.add(
                    "\(key)_max_ratio", "\(variant.label): max / no command's", ratio(max, baseSorted.last ?? .nan),
                    unit: "x")
            }
            if variant == .hanging {
                run.add(
                    "hanging_commands", "hanging commands alive before the drain", Double(result.hangingBeforeDrain),
                    unit: "processes")
                run.add(
                    "hanging_left_over", "hanging commands left after the runner stopped",
                    Double(result.hangingLeftOver), unit: "processes", target: .atMost(0))
            }
        }
        run.note(
            "lateness = handler entry minus scheduled time; the three variants run one after the other, "
                + "each repetition starting with the next one")
        return run
    }

    /// One variant: the jobs, a runner with the alert interval at zero, the window, the drain.
    static func measure(_ context: BenchContext, path: String, variant: Variant, failing: Int) async throws
        -> Measured
    {
        let settings = context.settings
        let jobs = settings.latenessJobs
        let interval = settings.latenessInterval.microseconds
        let lead: Int64 = settings.quick ? 300_000 : 1_000_000
        let store = try await context.open(path)
        if jobs > 1000 { try await store.setQueueConcurrency("default", jobs) }
        let recorder = StartRecorder(
            capacity: Int(Double(jobs) * settings.latenessSeconds * 1_000_000 / Double(interval)) + jobs)
        var registry = JobRegistry()
        registry.register("bench-probe", recorder.handler)
        let probe = recorder.handler
        registry.register("bench-fails") { context in
            try await probe(context)
            throw Failure()
        }
        let first = store.clock.now() + lead
        // Every tenth job fails, spread over the phases.
        let definitions = (0..<jobs).map { index in
            let fails = index % (jobs / failing) == 0
            return JobDefinition(
                name: "alert-\(index)", action: .handler(fails ? "bench-fails" : "bench-probe"),
                schedule: .every(settings.latenessInterval),
                initialDelay: .microseconds(lead + Int64(index) * interval / Int64(jobs)),
                onFailure: fails ? variant.command : nil)
        }
        try await store.addMany(definitions)
        let runner = JobRunner(
            store: store, registry: registry,
            configuration: JobRunnerConfiguration(
                concurrency: jobs, drainTimeout: .seconds(30), onFailure: FailureAlerting(interval: .zero)),
            logger: context.logger)
        let end = first + Int64(settings.latenessSeconds * 1_000_000)
        let hangingBeforeDrain = try await runner.whileRunning {
            try? await SystemJobClock().sleep(until: end + 50_000)
            return hangingChildren().count
        }
        var leftOver = hangingChildren()
        if !leftOver.isEmpty {
            for pid in leftOver { kill(pid, SIGKILL) }
            leftOver = leftOver.filter { kill($0, 0) == 0 }
            context.progress("alert-hooks: killed \(leftOver.count) hanging alert commands the runner left behind")
        }
        let failedRuns = try await store.status(perJobLimit: 0).runsByOutcome[.failed] ?? 0
        let lateness = recorder.entries.filter { $0.scheduledFor >= first && $0.scheduledFor < end }
            .map { Double($0.startedAt - $0.scheduledFor) / 1000 }
        guard !lateness.isEmpty else {
            throw BenchWait.TimedOut(description: "no run started in the alert-hooks window")
        }
        return Measured(
            lateness: lateness, hangingBeforeDrain: hangingBeforeDrain, hangingLeftOver: hangingChildren().count,
            failedRuns: Int(failedRuns))
    }

    /// The `sleep 3600` processes this process started (its children running that argv).
    static func hangingChildren() -> [pid_t] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm) ": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[1]) == me,
                let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { return nil }
            // argv[0] is the program as it was found on the PATH (/usr/bin/sleep).
            let argv = cmdline.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard argv.count >= 2, argv[0].split(separator: "/").last == "sleep", argv[1] == "3600" else {
                return nil
            }
            return pid
        }
    }
}
