import Foundation
import Synchronization
import TestSupport
import Testing

@testable import JobRunner

@Suite("Self-fencing and the reconnect grace", .timeLimit(.minutes(1)))
struct SelfFencingTests {
    /// The runner's clock is a manual one, so that only the test decides when the lease runs out
    /// (a loaded machine's stalls cannot), while the monotonic clock the fence also needs moves on
    /// by itself: a 400 ms lease fences 200 ms after its renewal on both.
    static let lease = Duration.milliseconds(400)
    static func fencingConfiguration(terminationGrace: Duration) -> JobRunnerConfiguration {
        JobRunnerConfiguration(
            concurrency: 1, terminationGrace: terminationGrace, heartbeatInterval: .milliseconds(100), lease: lease,
            changePollInterval: nil, host: "test-host", historyRetention: nil)
    }

    @Test("a runner that cannot renew its lease stops its runs before the lease expires, and claims again once it can")
    func fencesItselfAndRecovers() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let faulty = FaultyBackend(store.backend)
            var registry = JobRegistry()
            // The first run hangs until cancelled; the run again after the fence returns at once.
            let hangs = HangsOnce()
            registry.register("hang") { _ in
                if hangs.first() { try await Task.sleep(for: .seconds(120)) }
            }
            registry.register("quick") { _ in }
            try await store.add(JobDefinition(name: "long", action: .handler("hang"), schedule: .after(.zero)))
            let runner = JobRunner(
                store: faulty.store, registry: registry,
                configuration: Self.fencingConfiguration(terminationGrace: .seconds(1)), clock: clock,
                logger: quietLogger)
            try await withRunner(runner) { events in
                _ = await events.next { if case .claimed(_, "long") = $0 { true } else { false } }
                // Due now, but the one slot is taken: a claim that ignored the fence would take it at once.
                try await store.add(JobDefinition(name: "next", action: .handler("quick"), schedule: .after(.zero)))
                faulty.faults.withLock { $0.heartbeatsFail = true }
                // Past the point of fencing (200 ms after the registration), short of the lease's end.
                clock.advance(by: .milliseconds(300))

                let fenced = await events.next { if case .selfFenced = $0 { true } else { false } }
                #expect(fenced == .selfFenced(runs: 1))
                let finished = await events.next { if case .finished = $0 { true } else { false } }
                guard case .finished(let runID, "long", .interrupted)? = finished else {
                    Issue.record("expected the long run to end interrupted, got \(String(describing: finished))")
                    return
                }
                // After recording it the loop waits: it claimed nothing in between.
                let afterwards = await events.next {
                    switch $0 {
                    case .idle, .claimed: true
                    default: false
                    }
                }
                guard case .idle? = afterwards else {
                    Issue.record("a fenced runner claimed: \(String(describing: afterwards))")
                    return
                }
                let run = try #require(try await store.run(id: runID))
                let holder = try #require(try await store.runners(limit: 10).first)
                #expect(run.error?.contains("self-fencing") == true)
                #expect(try #require(run.finishedAt) < holder.heartbeatAt + Self.lease.microseconds)
                #expect(try await store.job(named: "next")?.runCount == 0)
                #expect(faulty.calls.withLock { $0.failedHeartbeats } > 0)

                faulty.faults.withLock { $0.heartbeatsFail = false }
                clock.advance(by: .milliseconds(100))
                _ = await events.next { $0 == .fenceLifted }
                let next = await events.next { if case .finished(_, "next", _) = $0 { true } else { false } }
                guard case .finished(_, "next", .ok)? = next else {
                    Issue.record("the job due during the fence did not run after it: \(String(describing: next))")
                    return
                }
            }
        }
    }

    @Test(
        "a fenced runner's command that ignores SIGTERM is killed within half the lease left, not the termination grace"
    )
    func fenceKillsCommands() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let faulty = FaultyBackend(store.backend)
            // Ignores SIGTERM: only the SIGKILL, which the fence sends early, stops it.
            let script = "trap '' TERM; echo started; while :; do sleep 0.05; done"
            try await store.add(
                JobDefinition(
                    name: "stubborn", action: .command(["/bin/sh", "-c", script], workingDirectory: nil),
                    schedule: .after(.zero)))
            let runner = JobRunner(
                store: faulty.store, configuration: Self.fencingConfiguration(terminationGrace: .seconds(600)),
                clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                _ = await events.next { if case .claimed = $0 { true } else { false } }
                faulty.faults.withLock { $0.heartbeatsFail = true }
                clock.advance(by: .milliseconds(300))
                _ = await events.next { if case .selfFenced = $0 { true } else { false } }
                // With the configured grace it would live for ten minutes: the test's time limit.
                let finished = await events.next { if case .finished = $0 { true } else { false } }
                guard case .finished(let runID, _, .interrupted)? = finished else {
                    Issue.record("expected the command to end interrupted, got \(String(describing: finished))")
                    return
                }
                let run = try #require(try await store.run(id: runID))
                #expect(run.error?.contains("self-fencing") == true)
                // An interrupted one-shot runs again: keep it from doing so once the fence is lifted.
                _ = try await store.pause("stubborn")
                faulty.faults.withLock { $0.heartbeatsFail = false }
                clock.advance(by: .milliseconds(100))
                _ = await events.next { $0 == .fenceLifted }
            }
        }
    }

    @Test(
        "a run claimed by a commit whose acknowledgement was lost is released at the next heartbeat, and its job goes on"
    )
    func lostClaimAcknowledgement() async throws {
        try await withTemporaryDatabase { store, _ in
            let faulty = FaultyBackend(store.backend)
            faulty.faults.withLock { $0.loseNextClaimAck = true }
            var registry = JobRegistry()
            registry.register("quick") { _ in }
            let configuration = JobRunnerConfiguration(
                concurrency: 1, heartbeatInterval: .milliseconds(100), lease: .seconds(30), changePollInterval: nil,
                host: "test-host", historyRetention: nil)
            try await store.add(JobDefinition(name: "once", action: .handler("quick"), schedule: .after(.zero)))
            let runner = JobRunner(
                store: faulty.store, registry: registry, configuration: configuration, logger: quietLogger)
            try await withRunner(runner) { events in
                let released = await events.next { if case .released = $0 { true } else { false } }
                let lost = faulty.calls.withLock { $0.claimsWithLostAck }
                #expect(lost.count == 1)
                #expect(released == .released(runIDs: lost))
                let finished = await events.next { if case .finished(_, "once", _) = $0 { true } else { false } }
                guard case .finished(let runID, "once", .ok)? = finished else {
                    Issue.record(
                        "the job did not run after its lost claim was released: \(String(describing: finished))")
                    return
                }
                #expect(!lost.contains(runID))
            }
            let history = try await store.history(HistoryQuery(job: "once", limit: 10)).sorted { $0.id < $1.id }
            #expect(history.map(\.outcome) == [.interrupted, .ok])
            #expect(history.first?.error == Heartbeat.unknownRunError)
            #expect(try await store.job(named: "once")?.state == .done)
        }
    }

    @Test("after an outage no runner declares another dead before all had one lease to renew")
    func reconnectGrace() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let faulty = FaultyBackend(store.backend)
            let configuration = manualRunnerConfiguration(heartbeat: .seconds(2), lease: .seconds(10))
            let first = JobRunner(store: faulty.store, configuration: configuration, clock: clock, logger: quietLogger)
            let second = JobRunner(store: faulty.store, configuration: configuration, clock: clock, logger: quietLogger)
            let firstEvents = EventLog(first)
            let secondEvents = EventLog(second)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await first.run() }
                group.addTask { try await second.run() }
                _ = await firstEvents.next { if case .registered = $0 { true } else { false } }
                _ = await secondEvents.next { if case .registered = $0 { true } else { false } }
                await clock.waitUntilSleeping(count: 2)  // both heartbeats

                // The database goes away for longer than the lease, for both.
                faulty.faults.withLock {
                    $0.heartbeatsFail = true
                    $0.rescuesFail = true
                }
                for step in 1...7 {
                    clock.advance(by: .seconds(2))
                    try await waitUntil("both heartbeats failed at step \(step)") {
                        faulty.calls.withLock { $0.failedHeartbeats } >= 2 * step
                    }
                    await clock.waitUntilSleeping(count: 2)
                }
                // It comes back. Both renew at the next beat; whichever beats first must not declare
                // the other dead, although the other's last heartbeat is 14 s old by then.
                faulty.faults.withLock {
                    $0.heartbeatsFail = false
                    $0.rescuesFail = false
                }
                let rescuesBefore = faulty.calls.withLock { $0.rescues }
                clock.advance(by: .seconds(2))
                try await waitUntil("both heartbeats succeeded") {
                    faulty.calls.withLock { $0.heartbeats - $0.failedHeartbeats } >= 2
                }
                await clock.waitUntilSleeping(count: 2)
                #expect(faulty.calls.withLock { $0.rescues } == rescuesBefore, "a rescue ran within the grace")
                let runners = try await store.runners(limit: 10)
                #expect(runners.count == 2)
                #expect(runners.allSatisfy { $0.state == .running })

                // One lease after the last failure, rescues run again (and find nobody dead).
                for _ in 1...5 {
                    clock.advance(by: .seconds(2))
                    await clock.waitUntilSleeping(count: 2)
                }
                try await waitUntil("rescues resumed") { faulty.calls.withLock { $0.rescues } > rescuesBefore }
                #expect(try await store.runners(limit: 10).allSatisfy { $0.state == .running })
                first.drain()
                second.drain()
                try await group.waitForAll()
            }
        }
    }
}

/// True the first time only.
final class HangsOnce: Sendable {
    private let called = Mutex(false)
    func first() -> Bool {
        called.withLock { called in
            defer { called = true }
            return !called
        }
    }
}

@Suite("LeaseGuard")
struct LeaseGuardTests {
    let start: UnixMicros = 1_000_000_000

    @Test("it fences two beats before the lease runs out, never before half the lease")
    func fenceAfter() {
        #expect(LeaseGuard.fenceAfter(lease: .seconds(10), heartbeatInterval: .seconds(2)) == .seconds(6))
        #expect(LeaseGuard.fenceAfter(lease: .seconds(10), heartbeatInterval: .seconds(4)) == .seconds(5))
        #expect(LeaseGuard.fenceAfter(lease: .seconds(3), heartbeatInterval: .milliseconds(500)) == .seconds(2))
    }

    @Test("it fences only when both its clock and the monotonic clock say the lease is running out")
    func bothClocks() {
        let guarded = LeaseGuard(lease: .seconds(10), heartbeatInterval: .seconds(2))
        let mono = ContinuousClock.now
        #expect(guarded.fenceIfRunningOut(now: start + 60_000_000, mono: mono + .seconds(60)) == nil)  // not registered
        _ = guarded.renewed(at: start, mono: mono, now: start)
        #expect(guarded.nextCheck == mono + .seconds(6))
        // A wall clock that jumped ahead, a monotonic one that did not.
        #expect(guarded.fenceIfRunningOut(now: start + 60_000_000, mono: mono + .seconds(1)) == nil)
        // A manual clock not advanced yet, real time gone by.
        #expect(guarded.fenceIfRunningOut(now: start + 1_000_000, mono: mono + .seconds(60)) == nil)
        #expect(!guarded.isFenced)
        let left = guarded.fenceIfRunningOut(now: start + 7_000_000, mono: mono + .seconds(7))
        #expect(left == .seconds(3))
        #expect(guarded.isFenced)
        #expect(guarded.fenceIfRunningOut(now: start + 8_000_000, mono: mono + .seconds(8)) == nil)  // once
        #expect(guarded.mayRescue(at: start + 8_000_000) == .fenced)
    }

    @Test("a renewal lifts the fence only if it is recent enough")
    func renewalLifts() {
        let guarded = LeaseGuard(lease: .seconds(10), heartbeatInterval: .seconds(2))
        let mono = ContinuousClock.now - .seconds(30)
        _ = guarded.renewed(at: start, mono: mono, now: start)
        #expect(guarded.fenceIfRunningOut(now: start + 7_000_000, mono: .now) != nil)
        // A heartbeat that began long ago and went through only now: the lease it renewed is old.
        #expect(!guarded.renewed(at: start + 500_000, mono: mono + .milliseconds(500), now: start + 20_000_000))
        #expect(guarded.isFenced)
        #expect(guarded.renewed(at: start + 20_000_000, mono: .now, now: start + 20_000_000))
        #expect(!guarded.isFenced)
    }

    @Test("after a failure to reach the database it rescues nobody for one lease, and says so once")
    func reconnectGrace() {
        let guarded = LeaseGuard(lease: .seconds(10), heartbeatInterval: .seconds(2))
        _ = guarded.renewed(at: start, mono: .now, now: start)
        #expect(guarded.mayRescue(at: start) == .allowed)
        guarded.failed(at: start + 1_000_000)
        #expect(guarded.mayRescue(at: start + 2_000_000) == .grace(until: start + 11_000_000, began: true))
        #expect(guarded.mayRescue(at: start + 3_000_000) == .grace(until: start + 11_000_000, began: false))
        guarded.failed(at: start + 4_000_000)
        #expect(guarded.mayRescue(at: start + 13_000_000) == .grace(until: start + 14_000_000, began: false))
        #expect(guarded.mayRescue(at: start + 14_000_000) == .allowed)
        guarded.failed(at: start + 15_000_000)
        #expect(guarded.mayRescue(at: start + 15_000_000) == .grace(until: start + 25_000_000, began: true))
    }
}
