import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import TestSupport
import Testing

@testable import JobRunner

@Suite("Graceful shutdown", .timeLimit(.minutes(1)))
struct GracefulShutdownTests {
    /// A runner whose job `work` (every 60 s, due at once) waits at `gate` until opened or cancelled.
    func gatedRunner(_ store: JobStore, clock: ManualJobClock, gate: HandlerGate) async throws -> JobRunner {
        var registry = JobRegistry()
        registry.register("work") { _ in try await gate.wait() }
        try await store.add(
            JobDefinition(name: "work", action: .handler("work"), schedule: .every(.seconds(60)), initialDelay: .zero)
        )
        return JobRunner(
            store: store, registry: registry, configuration: manualRunnerConfiguration(), clock: clock,
            logger: quietLogger
        )
    }

    @Test("a service-lifecycle graceful shutdown drains: the run in flight finishes and is recorded ok")
    func serviceLifecycleDrain() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let gate = HandlerGate()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let runner = try await gatedRunner(store, clock: clock, gate: gate)
            let events = EventLog(runner)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await runner.run() }
                    await gate.waitForEntry()
                    trigger.triggerGracefulShutdown()
                    await events.next { $0 == .drainBegan }
                    gate.open()
                    try await group.waitForAll()
                }
            }
            let job = try #require(try await store.job(named: "work"))
            #expect(job.lastOutcome == .ok)
            #expect(job.nextRunAt == newYear2026 + 60_000_000)
            #expect(try await store.liveRunners().isEmpty)
        }
    }

    @Test("cancelling the runner's task stops at once and records the run interrupted")
    func cancellationStopsAtOnce() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let gate = HandlerGate()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let runner = try await gatedRunner(store, clock: clock, gate: gate)
            let task = Task { try await runner.run() }
            await gate.waitForEntry()
            task.cancel()
            try await task.value
            let run = try #require(try await store.history(HistoryQuery(job: "work")).first)
            #expect(run.outcome == .interrupted)
            #expect(try await store.job(named: "work")?.nextRunAt == newYear2026)
        }
    }

    @Test("a second drain with a shorter grace shortens a drain already under way; a longer one does not extend it")
    func shorterGraceShortensDrain() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let gate = HandlerGate()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let runner = try await gatedRunner(store, clock: clock, gate: gate)
            let events = EventLog(runner)
            let task = Task { try await runner.run() }
            await gate.waitForEntry()
            func waitsUntil(_ deadline: UnixMicros) async {
                await events.next {
                    if case .idle(let next) = $0 { next == deadline } else { false }
                }
            }
            runner.drain(grace: .seconds(3600))
            await waitsUntil(newYear2026 + 3_600_000_000)
            runner.drain(grace: .seconds(7200))
            runner.drain(grace: .seconds(1))
            await waitsUntil(newYear2026 + 1_000_000)
            clock.advance(by: .seconds(1))
            try await task.value
            let run = try #require(try await store.history(HistoryQuery(job: "work")).first)
            #expect(run.outcome == .interrupted)
        }
    }
}
