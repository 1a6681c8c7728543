import Foundation
import JobRunner

/// Throughput: runs per second, each claimed, recorded in history and finished (or rescheduled) in
/// committed transactions. Counted from `run_totals`, which the finish transaction updates.
enum ThroughputBench {
    /// What the jobs of a throughput measurement are.
    enum Workload: String {
        /// One-shot jobs all due now: the runner works through them until none is left.
        case dueNow = "due-now"
        /// Jobs every 1 ms: the runner is saturated and re-queues each after every run.
        case periodic
    }

    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = [
            "jobs": "\(settings.throughputJobs)", "periodic_jobs": "\(settings.periodicJobs) every 1ms",
            "workers": "\(settings.workers)", "window": "\(settings.periodicSeconds)s",
        ]
        run.note("handlers are no-ops (the built-in tick); the runner logs nothing below warning")
        for mode in [SynchronousMode.normal, .full] {
            let name = mode.rawValue
            let dueNow = try await measure(context, .dueNow, synchronous: mode)
            run.add(
                "due_now_\(name.lowercased())", "due now, runs/s (\(name))", dueNow, unit: "runs/s",
                target: mode == .normal ? .atLeast(25_000) : nil)
            context.progress("throughput: due now, \(name): \(BenchFormat.number(dueNow)) runs/s")
            if let reference = context.reference {
                let limit = try await measureReference(context, reference, .dueNow, synchronous: mode)
                run.add(
                    "c_due_now_\(name.lowercased())", "C reference, due now, runs/s (\(name))", limit, unit: "runs/s")
                run.add(
                    "fraction_due_now_\(name.lowercased())", "JobRunner / C reference, due now (\(name))",
                    dueNow / limit, unit: "ratio", target: mode == .normal ? .atLeast(0.5) : nil)
                context.progress("throughput: C reference, due now, \(name): \(BenchFormat.number(limit)) runs/s")
            }
            let periodic = try await measure(context, .periodic, synchronous: mode)
            run.add("periodic_\(name.lowercased())", "every 1ms, runs/s (\(name))", periodic, unit: "runs/s")
            context.progress("throughput: periodic, \(name): \(BenchFormat.number(periodic)) runs/s")
            if let reference = context.reference {
                let limit = try await measureReference(context, reference, .periodic, synchronous: mode)
                run.add(
                    "c_periodic_\(name.lowercased())", "C reference, every 1ms, runs/s (\(name))", limit, unit: "runs/s"
                )
                run.add(
                    "fraction_periodic_\(name.lowercased())", "JobRunner / C reference, every 1ms (\(name))",
                    periodic / limit, unit: "ratio")
            }
        }
        if context.reference == nil {
            run.note("no C reference given (--reference bench/out/sqlite-limit): no fraction of the SQLite limit")
        }
        return run
    }

    /// A fresh database holding the workload's jobs, ready for a runner.
    static func prepare(
        _ context: BenchContext,
        _ workload: Workload,
        into path: String,
        jobs: Int? = nil
    ) async throws {
        let store = try await context.open(path)
        try await add(workload, to: store, jobs: jobs ?? count(of: workload, context.settings))
        if context.settings.workers > 1000 {
            try await store.setQueueConcurrency("default", context.settings.workers)
        }
    }

    static func count(of workload: Workload, _ settings: BenchSettings) -> Int {
        workload == .dueNow ? settings.throughputJobs : settings.periodicJobs
    }

    static func add(_ workload: Workload, to store: JobStore, jobs: Int) async throws {
        let now = store.clock.now()
        let definitions = (0..<jobs).map { index in
            switch workload {
            case .dueNow:
                JobDefinition(name: "due-\(index)", action: .handler("tick"), schedule: .at(now))
            case .periodic:
                JobDefinition(
                    name: "every-1ms-\(index)", action: .handler("tick"), schedule: .every(.milliseconds(1)),
                    initialDelay: .zero)
            }
        }
        // In chunks, so that a large set-up does not hold one enormous transaction.
        for start in stride(from: 0, to: definitions.count, by: 10_000) {
            try await store.addMany(Array(definitions[start..<min(start + 10_000, definitions.count)]))
        }
    }

    /// Runs per second of a JobRunner on a fresh database.
    static func measure(
        _ context: BenchContext,
        _ workload: Workload,
        synchronous: SynchronousMode
    ) async throws -> Double {
        let path = try context.freshDatabase("throughput")
        defer { context.discard(path) }
        try await prepare(context, workload, into: path)
        return try await measureRunner(
            context, path: path, workload, jobs: count(of: workload, context.settings), synchronous: synchronous)
    }

    /// Runs per second of a JobRunner on `path`, which holds the workload (and maybe much more).
    static func measureRunner(
        _ context: BenchContext,
        path: String,
        _ workload: Workload,
        jobs: Int,
        synchronous: SynchronousMode
    ) async throws -> Double {
        let settings = context.settings
        let store = try await context.open(path, synchronous: synchronous)
        let counter = try BenchmarkDatabase.Probe(path: path)
        let before = try counter.finishedRuns()
        let lastRun = try counter.lastRunID()
        let runner = context.runner(store, workers: settings.workers)
        let started = BenchClock.now()
        let rate = try await runner.whileRunning(failureGrace: .seconds(5)) { () async throws -> Double in
            switch workload {
            case .dueNow:
                try await BenchWait.until(timeout: .seconds(900), "\(jobs) runs to be recorded") {
                    try counter.finishedRuns() - before >= Int64(jobs)
                }
                return Double(jobs) / (Double(BenchClock.now() - started) / 1_000_000)
            case .periodic:
                try await Task.sleep(for: .milliseconds(settings.quick ? 50 : 200))
                let (t0, c0) = (BenchClock.now(), try counter.finishedRuns())
                try await Task.sleep(for: .milliseconds(Int(settings.periodicSeconds * 1000)))
                let (t1, c1) = (BenchClock.now(), try counter.finishedRuns())
                return Double(c1 - c0) / (Double(t1 - t0) / 1_000_000)
            }
        }
        // Every run recorded as ok, none left running.
        let outcomes = try counter.outcomes(ofRunsAfter: lastRun)
        if outcomes.runs != outcomes.ok || (workload == .dueNow && outcomes.runs != Int64(jobs)) {
            throw BenchWait.TimedOut(description: "throughput check failed: \(outcomes.ok) of \(outcomes.runs) runs ok")
        }
        return rate
    }

    /// Runs per second of the C reference on a fresh database with the same jobs.
    static func measureReference(
        _ context: BenchContext,
        _ reference: String,
        _ workload: Workload,
        synchronous: SynchronousMode
    ) async throws -> Double {
        let path = try context.freshDatabase("reference")
        defer { context.discard(path) }
        try await prepare(context, workload, into: path)
        return try await runReference(context, reference, path: path, workload, synchronous: synchronous)
    }

    static func runReference(
        _ context: BenchContext,
        _ reference: String,
        path: String,
        _ workload: Workload,
        synchronous: SynchronousMode
    ) async throws -> Double {
        let settings = context.settings
        var arguments = [
            "--db", path, "--workers", "\(settings.workers)", "--synchronous", synchronous.rawValue.lowercased(),
        ]
        if workload == .periodic {
            arguments += ["--seconds", "\(settings.periodicSeconds)", "--warmup", settings.quick ? "0.05" : "0.2"]
        }
        let result = try await launchReference(context, reference, arguments)
        if workload == .dueNow && result.runs != count(of: workload, settings) {
            throw BenchWait.TimedOut(
                description: "the C reference ran \(result.runs) runs, expected \(count(of: workload, settings))")
        }
        return result.runs_per_second
    }

    /// The JSON line the C reference prints.
    struct ReferenceResult: Decodable {
        var runs: Int
        var runs_per_second: Double
        /// Its own CPU time over those runs (absent from builds older than this field).
        var cpu_seconds: Double?
    }

    /// Runs the C reference with `arguments` and decodes what it printed.
    static func launchReference(
        _ context: BenchContext,
        _ reference: String,
        _ arguments: [String]
    ) async throws -> ReferenceResult {
        let output = context.scratchFile("reference.json")
        let errors = context.scratchFile("reference.err")
        defer {
            try? FileManager.default.removeItem(atPath: output)
            try? FileManager.default.removeItem(atPath: errors)
        }
        try await BenchChild.run([reference] + arguments, output: output, errors: errors)
        return try JSONDecoder().decode(ReferenceResult.self, from: try Data(contentsOf: URL(fileURLWithPath: output)))
    }
}
