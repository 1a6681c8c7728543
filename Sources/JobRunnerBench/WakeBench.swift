import Foundation
import JobRunner

/// Wake: a job added by a separate `jobctl add` process, due at once, and a runner (in this process)
/// that must notice the other process's commit and start it.
enum WakeBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = ["adds": "\(settings.wakeCount)", "schedule": "--in 0s"]
        let path = try context.freshDatabase("wake")
        defer { context.discard(path) }
        let store = try await context.open(path)
        let recorder = StartRecorder(capacity: settings.wakeCount)
        var registry = JobRegistry()
        registry.register("bench-probe", recorder.handler)
        let runner = context.runner(store, workers: 4, registry: registry)
        let counter = try BenchmarkDatabase.Probe(path: path)
        var addTimes: [Double] = []
        try await runner.whileRunning {
            try await BenchWait.until(timeout: .seconds(30), "the runner to register") {
                try await !store.liveRunners().isEmpty
            }
            for index in 0..<settings.wakeCount {
                let errors = context.scratchFile("add.err")
                defer { try? FileManager.default.removeItem(atPath: errors) }
                let (child, exit) = try await BenchChild.run(
                    [context.jobctl, "add", "--db", path, "wake-\(index)", "--in", "0s", "--handler", "bench-probe"],
                    errors: errors)
                addTimes.append(Double(exit.at - child.spawnedAt) / 1000)
                try await recorder.wait(forCount: index + 1, timeout: .seconds(30))
                // Let the run be recorded, so that each add meets an idle runner.
                try await BenchWait.until(timeout: .seconds(30), "run \(index + 1) to be recorded") {
                    try counter.finishedRuns() > index
                }
            }
        }
        let wake = recorder.entries.map { Double($0.startedAt - $0.scheduledFor) / 1000 }.sorted()
        let recorded = try await store.history(HistoryQuery(outcome: .ok, limit: .max))
            .map { Double($0.lateness) / 1000 }.sorted()
        run.add(
            "wake_p50_ms", "wake p50 (add's clock to handler entry)", BenchStatistics.percentile(wake, 50), unit: "ms")
        run.add(
            "wake_p99_ms", "wake p99 (add's clock to handler entry)", BenchStatistics.percentile(wake, 99), unit: "ms",
            target: .atMost(20))
        run.add("wake_max_ms", "wake max", wake.last ?? .nan, unit: "ms")
        run.add(
            "wake_recorded_p99_ms", "wake p99 (recorded started_at - scheduled_for)",
            BenchStatistics.percentile(recorded, 99), unit: "ms")
        let adds = addTimes.sorted()
        run.add(
            "add_p50_ms", "jobctl add, wall time p50", BenchStatistics.percentile(adds, 50), unit: "ms",
            target: .atMost(20))
        run.add("add_p99_ms", "jobctl add, wall time p99", BenchStatistics.percentile(adds, 99), unit: "ms")
        run.samples["wake_ms"] = wake
        run.samples["add_ms"] = addTimes
        run.note(
            "scheduled_for of an `--in 0s` job is the add process's clock before its transaction; wake includes that commit"
        )
        context.progress(
            "wake: p50 \(BenchFormat.number(BenchStatistics.percentile(wake, 50))) ms, p99 \(BenchFormat.number(BenchStatistics.percentile(wake, 99))) ms; "
                + "jobctl add p50 \(BenchFormat.number(BenchStatistics.percentile(adds, 50))) ms")
        return run
    }
}
