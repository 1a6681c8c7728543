import Foundation
import Testing

@testable import JobRunner

/// How claims and finishes record runs: ids, start times, output bytes, queue slots, triggers and
/// one-shots, driven through the store with a manual clock.
@Suite("Recording runs")
struct RunRecordingTests {
    /// A registered runner and a claim scope for the built-in handlers.
    func runner(_ store: JobStore, clock: ManualJobClock, slots: Int = 10) async throws -> (Int64, ClaimScope) {
        let id = try await store.registerRunner(
            host: "test-host", pid: 1, lease: .seconds(3600), queues: nil, concurrency: slots, now: clock.now())
        return (id, ClaimScope(queues: nil, handlers: ["tick"], slots: slots, misfireGrace: 1_000_000))
    }

    /// Claims what is due now and requires exactly one run.
    func claimOne(_ store: JobStore, _ runnerID: Int64, _ scope: ClaimScope, _ clock: ManualJobClock) async throws
        -> Claim
    {
        let claims = try await store.claim(runnerID: runnerID, now: clock.now(), scope: scope).claims
        #expect(claims.count == 1, "claimed \(claims.map(\.jobName))")
        return try #require(claims.first)
    }

    func finish(
        _ store: JobStore, _ claim: Claim, runner: Int64, outcome: RunOutcome = .ok, at: UnixMicros,
        output: [UInt8]? = nil
    ) async throws {
        let recorded = try await store.finish([
            {
                var run = FinishedRun(claim, runnerID: runner, outcome: outcome, finishedAt: at)
                run.output = output
                return run
            }()
        ])
        #expect(recorded == [true])
    }

    @Test("a run id is never given twice, even after the newest runs are pruned")
    func runIDsAreNotReused() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(
                JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(1)), initialDelay: .zero))
            let (runnerID, scope) = try await runner(store, clock: clock)
            var seen: [Int64] = []
            for _ in 0..<3 {
                let claim = try await claimOne(store, runnerID, scope, clock)
                seen.append(claim.runID)
                clock.advance(by: .seconds(1))
                try await finish(store, claim, runner: runnerID, at: clock.now())
            }
            // Every run, the newest included, is pruned.
            #expect(try await store.prune(finishedBefore: clock.now() + 1) == 3)
            let next = try await claimOne(store, runnerID, scope, clock)
            #expect(!seen.contains(next.runID), "run id \(next.runID) given again after prune (seen \(seen))")
            #expect(next.runID > seen.max() ?? 0)
        }
    }

    @Test("a run's start is written once, at its claim: finishing does not move it")
    func startIsWrittenOnce() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .after(.zero)))
            let (runnerID, scope) = try await runner(store, clock: clock)
            var claim = try await claimOne(store, runnerID, scope, clock)
            let claimed = try #require(try await store.run(id: claim.runID)).startedAt
            // The worker's own idea of when it started does not rewrite the history.
            claim.startedAt = claimed + 1_234
            clock.advance(by: .seconds(2))
            try await finish(store, claim, runner: runnerID, at: clock.now())
            let run = try #require(try await store.run(id: claim.runID))
            #expect(run.startedAt == claimed)
            #expect(run.finishedAt == newYear2026 + 2_000_000)
        }
    }

    @Test("a command's output is kept as bytes: NULs and invalid UTF-8 survive, and are shown escaped")
    func outputBytesSurvive() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .after(.zero)))
            let (runnerID, scope) = try await runner(store, clock: clock)
            let claim = try await claimOne(store, runnerID, scope, clock)
            let bytes: [UInt8] = Array("a\n".utf8) + [0x78, 0x00, 0x79, 0xFF] + Array("é\u{1B}LAST\n".utf8)
            try await finish(store, claim, runner: runnerID, at: clock.now(), output: bytes)
            let run = try #require(try await store.run(id: claim.runID))
            #expect(run.outputBytes == bytes)
            #expect(run.output == "a\nx\\x00y\\xFFé\\x1BLAST\n")
        }
    }

    @Test("a queue's slot is held until its run ends, even when the run's job is removed meanwhile")
    func removedJobKeepsItsSlot() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "a", queue: "q", action: .handler("tick"), schedule: .after(.zero)))
            try await store.setQueueConcurrency("q", 1)
            let (runnerID, scope) = try await runner(store, clock: clock)
            let first = try await store.claim(runnerID: runnerID, now: clock.now(), scope: scope).claims
            #expect(first.map(\.jobName) == ["a"])
            try await store.add(JobDefinition(name: "b", queue: "q", action: .handler("tick"), schedule: .after(.zero)))
            #expect(try await store.remove("a") == first.first?.runID)
            clock.advance(by: .seconds(1))
            let whileRunning = try await store.claim(runnerID: runnerID, now: clock.now(), scope: scope).claims
            #expect(whileRunning.isEmpty, "b started while a's run still held q's only slot")
            #expect(try await store.queues().first { $0.name == "q" }?.inFlight == 1)
            try await finish(store, try #require(first.first), runner: runnerID, at: clock.now())
            let after = try await store.claim(runnerID: runnerID, now: clock.now(), scope: scope).claims
            #expect(after.map(\.jobName) == ["b"])
        }
    }

    @Test("a triggered run interrupted by a drain runs again; one that finished does not")
    func interruptedTriggerRunsAgain() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(3600))))
            let (runnerID, scope) = try await runner(store, clock: clock)
            try await store.trigger("j")
            let claim = try await claimOne(store, runnerID, scope, clock)
            #expect(claim.triggered)
            clock.advance(by: .seconds(1))
            try await finish(store, claim, runner: runnerID, outcome: .interrupted, at: clock.now())
            let again = try await claimOne(store, runnerID, scope, clock)
            #expect(again.triggered, "the interrupted trigger was not asked for again")
            #expect(again.jobName == "j")
            try await finish(store, again, runner: runnerID, at: clock.now())
            #expect(try await store.claim(runnerID: runnerID, now: clock.now(), scope: scope).claims.isEmpty)
            // The schedule did not move for either run.
            #expect(try await store.job(named: "j")?.nextRunAt == newYear2026 + 3_600_000_000)
        }
    }

    @Test("a done one-shot stays done: stop then resume does not run it again")
    func doneStaysDone() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "once", action: .handler("tick"), schedule: .after(.zero)))
            let (runnerID, scope) = try await runner(store, clock: clock)
            let claim = try await claimOne(store, runnerID, scope, clock)
            try await finish(store, claim, runner: runnerID, at: clock.now())
            #expect(try await store.job(named: "once")?.state == .done)
            #expect(try await store.stop("once").state == .done)
            await #expect(throws: JobRunnerError.self) { try await store.resume("once") }
            clock.advance(by: .seconds(10))
            #expect(try await store.claim(runnerID: runnerID, now: clock.now(), scope: scope).claims.isEmpty)
        }
    }

    @Test("a one-shot stopped while its run is in flight is done once the run ends; resume runs nothing")
    func stoppedWhileRunningBecomesDone() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "once", action: .handler("tick"), schedule: .after(.zero)))
            let (runnerID, scope) = try await runner(store, clock: clock)
            let claim = try await claimOne(store, runnerID, scope, clock)
            #expect(try await store.stop("once").state == .stopped)
            try await finish(store, claim, runner: runnerID, at: clock.now())
            #expect(try await store.job(named: "once")?.state == .done)
            await #expect(throws: JobRunnerError.self) { try await store.resume("once") }
            #expect(try await store.claim(runnerID: runnerID, now: clock.now(), scope: scope).claims.isEmpty)
        }
    }

    @Test("queue set-concurrency of an unknown queue fails unless asked to create it; remove refuses one in use")
    func queueLifecycle() async throws {
        try await withTemporaryDatabase { store, _ in
            await #expect(throws: JobRunnerError.self) { try await store.setQueueConcurrency("nope", 2, create: false) }
            #expect(try await store.queues().isEmpty)
            try await store.setQueueConcurrency("imports", 2, create: true)
            #expect(try await store.queues().map(\.name) == ["imports"])
            try await store.add(
                JobDefinition(name: "j", queue: "imports", action: .handler("tick"), schedule: .every(.seconds(5))))
            await #expect(throws: JobRunnerError.self) { try await store.removeQueue("imports") }
            try await store.remove("j")
            try await store.removeQueue("imports")
            #expect(try await store.queues().isEmpty)
        }
    }

    @Test("a job re-created under an old name has only its own runs by id; by name, both")
    func historyByJobID() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let (runnerID, scope) = try await runner(store, clock: clock)
            try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .after(.zero)))
            let old = try await claimOne(store, runnerID, scope, clock)
            try await finish(store, old, runner: runnerID, at: clock.now())
            try await store.remove("j")
            let job = try await store.add(JobDefinition(name: "j", action: .handler("tick"), schedule: .after(.zero)))
            let new = try await claimOne(store, runnerID, scope, clock)
            try await finish(store, new, runner: runnerID, at: clock.now())
            #expect(try await store.history(HistoryQuery(jobID: job.id)).map(\.id) == [new.runID])
            #expect(try await store.history(HistoryQuery(job: "j")).map(\.id) == [new.runID, old.runID])
        }
    }
}
