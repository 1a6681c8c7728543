import Foundation
import Metrics
import MetricsTestKit
import Synchronization
import TestSupport
import Testing

@testable import JobRunner

/// Lets a test hold handler runs until it releases them, and know when they have started.
private final class Gate: Sendable {
    private let started = AsyncStream<String>.makeStream()
    private let open = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let isOpen = Mutex(false)

    var handler: JobRegistry.Handler {
        { context in
            self.started.continuation.yield(context.jobName)
            await withCheckedContinuation { continuation in
                let resumeNow = self.isOpen.withLock { isOpen in
                    if !isOpen { self.open.withLock { $0.append(continuation) } }
                    return isOpen
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Waits until `count` runs have started, and returns their job names.
    func waitForStarts(_ count: Int) async -> Set<String> {
        var names: Set<String> = []
        var iterator = started.stream.makeAsyncIterator()
        while names.count < count, let name = await iterator.next() { names.insert(name) }
        return names
    }

    func release() {
        let waiting = isOpen.withLock { isOpen in
            isOpen = true
            return open.withLock { list in
                defer { list = [] }
                return list
            }
        }
        for continuation in waiting { continuation.resume() }
    }
}

@Suite("Runner metrics", .timeLimit(.minutes(1)))
struct RunnerMetricsTests {
    struct Boom: Error {}

    @Test("runs by outcome, duration and lateness, in flight overall and by queue: the values the runs had")
    func runsAndInFlight() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let metrics = TestMetrics()
            let gate = Gate()
            var registry = JobRegistry()
            registry.register("block", gate.handler)
            registry.register("fails") { _ in throw Boom() }
            try await store.add(
                JobDefinition(name: "a", queue: "alpha", action: .handler("block"), schedule: .after(.zero)))
            try await store.add(
                JobDefinition(name: "b", queue: "beta", action: .handler("block"), schedule: .after(.zero)))
            try await store.add(
                JobDefinition(name: "c", queue: "alpha", action: .handler("fails"), schedule: .after(.zero)))
            // All three are 3 s late when the runner starts.
            clock.advance(by: .seconds(3))
            var configuration = manualRunnerConfiguration()
            configuration.metricsFactory = metrics
            let runner = JobRunner(
                store: store, registry: registry, configuration: configuration, clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                // Whatever fails below, the blocked runs end, so that the runner can drain.
                defer { gate.release() }
                #expect(await gate.waitForStarts(2) == ["a", "b"])
                #expect(await events.finished(1).map(\.job) == ["c"])
                try await waitUntil("c's run has left the in-flight count") {
                    try metrics.expectGauge(RunnerMetrics.Name.inFlight).lastValue == 2
                }
                #expect(try metrics.expectGauge(RunnerMetrics.Name.queueInFlight, [("queue", "alpha")]).lastValue == 1)
                #expect(try metrics.expectGauge(RunnerMetrics.Name.queueInFlight, [("queue", "beta")]).lastValue == 1)
                // The blocked runs take 5 s on the runner's clock.
                clock.advance(by: .seconds(5))
                gate.release()
                #expect(Set(await events.finished(2).map(\.job)) == ["a", "b"])
                try await waitUntil("no run is in flight") {
                    try metrics.expectGauge(RunnerMetrics.Name.inFlight).lastValue == 0
                }
            }
            #expect(try metrics.expectGauge(RunnerMetrics.Name.queueInFlight, [("queue", "alpha")]).lastValue == 0)
            #expect(try metrics.expectGauge(RunnerMetrics.Name.queueInFlight, [("queue", "beta")]).lastValue == 0)
            #expect(try metrics.expectCounter(RunnerMetrics.Name.runs, [("outcome", "ok")]).totalValue == 2)
            #expect(try metrics.expectCounter(RunnerMetrics.Name.runs, [("outcome", "failed")]).totalValue == 1)
            #expect(try metrics.expectCounter(RunnerMetrics.Name.runs, [("outcome", "timeout")]).totalValue == 0)
            let durations = try metrics.expectTimer(RunnerMetrics.Name.duration).values.sorted()
            #expect(durations == [0, 5_000_000_000, 5_000_000_000])
            let lateness = try metrics.expectTimer(RunnerMetrics.Name.lateness).values
            #expect(lateness == [3_000_000_000, 3_000_000_000, 3_000_000_000])
            // Per-job series only when asked for.
            #expect(metrics.counters(label: RunnerMetrics.Name.jobRuns).isEmpty)
            #expect(metrics.timers(label: RunnerMetrics.Name.jobDuration).isEmpty)
        }
    }

    @Test("per-job series when the configuration opts in: one per job, with its own values")
    func perJobSeries() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let metrics = TestMetrics()
            var registry = JobRegistry()
            registry.register("fails") { _ in throw Boom() }
            try await store.add(JobDefinition(name: "good", action: .handler("tick"), schedule: .every(.seconds(1))))
            try await store.add(JobDefinition(name: "bad", action: .handler("fails"), schedule: .every(.seconds(1))))
            var configuration = manualRunnerConfiguration()
            configuration.metricsFactory = metrics
            configuration.perJobMetrics = true
            let runner = JobRunner(
                store: store, registry: registry, configuration: configuration, clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                for _ in 1...3 {
                    await clock.waitUntilSleeping(count: 2)
                    clock.advance(by: .seconds(1))
                    #expect(await events.finished(2).count == 2)
                }
            }
            #expect(
                try metrics.expectCounter(RunnerMetrics.Name.jobRuns, [("job", "good"), ("outcome", "ok")]).totalValue
                    == 3)
            #expect(
                try metrics.expectCounter(RunnerMetrics.Name.jobRuns, [("job", "bad"), ("outcome", "failed")])
                    .totalValue
                    == 3)
            #expect(
                try metrics.expectCounter(RunnerMetrics.Name.jobRuns, [("job", "bad"), ("outcome", "ok")]).totalValue
                    == 0)
            #expect(try metrics.expectTimer(RunnerMetrics.Name.jobLateness, [("job", "good")]).values == [0, 0, 0])
            #expect(try metrics.expectTimer(RunnerMetrics.Name.jobDuration, [("job", "bad")]).values.count == 3)
            // The standard series are there as well, without a job label.
            #expect(try metrics.expectCounter(RunnerMetrics.Name.runs, [("outcome", "ok")]).totalValue == 3)
            #expect(try metrics.expectCounter(RunnerMetrics.Name.runs, [("outcome", "failed")]).totalValue == 3)
            #expect(
                metrics.counters(label: RunnerMetrics.Name.runs).allSatisfy {
                    !$0.dimensions.contains { $0.0 == "job" }
                })
        }
    }

    @Test("runners alive is sampled at each heartbeat: this runner and the others not declared dead")
    func runnersAlive() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let metrics = TestMetrics()
            // Another runner, alive elsewhere.
            _ = try await store.registerRunner(
                host: "elsewhere", pid: 1, lease: .seconds(3600), queues: nil, concurrency: 1, now: clock.now())
            var configuration = manualRunnerConfiguration(heartbeat: .seconds(1), lease: .seconds(3600))
            configuration.metricsFactory = metrics
            let runner = JobRunner(store: store, configuration: configuration, clock: clock, logger: quietLogger)
            try await withRunner(runner) { _ in
                // With no jobs, the heartbeat is the only sleeper on the clock.
                await clock.waitUntilSleeping(count: 1)
                clock.advance(by: .seconds(1))
                try await waitUntil("a heartbeat recorded the runners alive") {
                    (try? metrics.expectGauge(RunnerMetrics.Name.runnersAlive).lastValue) != nil
                }
            }
            #expect(try metrics.expectGauge(RunnerMetrics.Name.runnersAlive).values == [2])
            #expect(try metrics.expectGauge(RunnerMetrics.Name.dueWaiting).values == [0])
        }
    }
}
