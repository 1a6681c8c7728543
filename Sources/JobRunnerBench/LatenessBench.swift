import Foundation
import JobRunner

/// Lateness: how long after its scheduled time a run starts.
///
/// "Started" is measured where it matters to the user, at the entry of the handler (after the claim
/// has committed); the `started_at` the runner records in the history (taken when the claim begins)
/// is reported next to it.
enum LatenessBench {
    /// Lateness in milliseconds: at handler entry, and as recorded in the history.
    struct Distribution {
        var handler: [Double]
        var recorded: [Double]
    }

    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = [
            "jobs": "\(settings.latenessJobs) every \(DurationFormat.format(settings.latenessInterval)), spread phases",
            "duration": "\(settings.latenessSeconds)s", "burst": "\(settings.burstJobs) due at one instant",
            "workers": "\(max(settings.latenessJobs, settings.burstJobs))",
        ]
        let path = try context.freshDatabase("lateness")
        let periodic = try await periodic(context, path: path)
        context.discard(path)
        report(periodic, into: &run, prefix: "", label: "")
        run.samples["lateness_ms"] = periodic.handler
        context.progress("lateness: \(summary(periodic.handler))")
        let burstPath = try context.freshDatabase("burst")
        let burst = try await burst(context, path: burstPath)
        context.discard(burstPath)
        reportBurst(burst, into: &run, prefix: "", label: "")
        run.samples["burst_ms"] = burst.handler
        context.progress("lateness: burst: \(summary(burst.handler))")
        run.note("started = handler entry, after the claim committed; 'recorded' = started_at - scheduled_for in runs")
        return run
    }

    static func summary(_ values: [Double]) -> String {
        let sorted = values.sorted()
        return "p50 \(BenchFormat.number(BenchStatistics.percentile(sorted, 50))) ms, "
            + "p99 \(BenchFormat.number(BenchStatistics.percentile(sorted, 99))) ms, "
            + "max \(BenchFormat.number(sorted.last ?? .nan)) ms over \(values.count) runs"
    }

    static func report(_ d: Distribution, into run: inout BenchRun, prefix: String, label: String) {
        let h = d.handler.sorted()
        let r = d.recorded.sorted()
        run.add(
            "\(prefix)p50_ms", "\(label)periodic lateness p50", BenchStatistics.percentile(h, 50), unit: "ms",
            target: .atMost(0.3))
        run.add(
            "\(prefix)p99_ms", "\(label)periodic lateness p99", BenchStatistics.percentile(h, 99), unit: "ms",
            target: .atMost(1))
        run.add("\(prefix)max_ms", "\(label)periodic lateness max", h.last ?? .nan, unit: "ms", target: .atMost(5))
        run.add(
            "\(prefix)recorded_p50_ms", "\(label)periodic lateness p50 (recorded)",
            BenchStatistics.percentile(r, 50), unit: "ms")
        run.add(
            "\(prefix)recorded_p99_ms", "\(label)periodic lateness p99 (recorded)",
            BenchStatistics.percentile(r, 99), unit: "ms")
        run.add("\(prefix)recorded_max_ms", "\(label)periodic lateness max (recorded)", r.last ?? .nan, unit: "ms")
        run.add("\(prefix)runs", "\(label)periodic runs measured", Double(h.count), unit: "runs")
    }

    static func reportBurst(_ d: Distribution, into run: inout BenchRun, prefix: String, label: String) {
        let h = d.handler.sorted()
        run.add("\(prefix)burst_p50_ms", "\(label)burst lateness p50", BenchStatistics.percentile(h, 50), unit: "ms")
        run.add(
            "\(prefix)burst_p99_ms", "\(label)burst lateness p99", BenchStatistics.percentile(h, 99), unit: "ms",
            target: .atMost(20))
        run.add("\(prefix)burst_max_ms", "\(label)burst lateness max", h.last ?? .nan, unit: "ms")
        run.add(
            "\(prefix)burst_recorded_p99_ms", "\(label)burst lateness p99 (recorded)",
            BenchStatistics.percentile(d.recorded.sorted(), 99), unit: "ms")
    }

    /// Periodic jobs with phases spread over one interval, run for the configured duration.
    static func periodic(_ context: BenchContext, path: String) async throws -> Distribution {
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
        let first = store.clock.now() + lead
        let definitions = (0..<jobs).map { index in
            JobDefinition(
                name: "late-\(index)", action: .handler("bench-probe"), schedule: .every(settings.latenessInterval),
                initialDelay: .microseconds(lead + Int64(index) * interval / Int64(jobs)))
        }
        try await store.addMany(definitions)
        let runner = context.runner(store, workers: jobs, registry: registry)
        let end = first + Int64(settings.latenessSeconds * 1_000_000)
        // Wait past the window, plus a little for its last runs to be recorded.
        try await runner.whileRunning { try? await SystemJobClock().sleep(until: end + 50_000) }
        return try distribution(recorder, path: path, from: first, to: end)
    }

    /// Jobs all due at the same instant, a moment from now, with a runner waiting for them.
    static func burst(_ context: BenchContext, path: String) async throws -> Distribution {
        let settings = context.settings
        let jobs = settings.burstJobs
        let lead: Int64 = settings.quick ? 300_000 : 1_000_000
        let store = try await context.open(path)
        if jobs > 1000 { try await store.setQueueConcurrency("default", jobs) }
        let recorder = StartRecorder(capacity: jobs)
        var registry = JobRegistry()
        registry.register("bench-probe", recorder.handler)
        let due = store.clock.now() + lead
        let definitions = (0..<jobs).map { index in
            JobDefinition(name: "burst-\(index)", action: .handler("bench-probe"), schedule: .at(due))
        }
        try await store.addMany(definitions)
        let runner = context.runner(store, workers: max(jobs, settings.latenessJobs), registry: registry)
        try await runner.whileRunning { try await recorder.wait(forCount: jobs, timeout: .seconds(120)) }
        return try distribution(recorder, path: path, from: due, to: due + 1)
    }

    /// The lateness of runs scheduled in `[from, to)`, in milliseconds.
    static func distribution(
        _ recorder: StartRecorder,
        path: String,
        from: UnixMicros,
        to: UnixMicros
    ) throws -> Distribution {
        let handler = recorder.entries.filter { $0.scheduledFor >= from && $0.scheduledFor < to }
            .map { Double($0.startedAt - $0.scheduledFor) / 1000 }
        let recorded = try BenchmarkDatabase.Probe(path: path).recordedLateness(scheduledFrom: from, to: to)
            .map { Double($0) / 1000 }
        guard !handler.isEmpty else { throw BenchWait.TimedOut(description: "no run started in the lateness window") }
        return Distribution(handler: handler, recorded: recorded)
    }
}
