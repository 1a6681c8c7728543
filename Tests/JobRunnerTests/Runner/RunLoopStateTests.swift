import Testing

@testable import JobRunner

@Suite("The run loop's bookkeeping")
struct RunLoopStateTests {
    static let t0: UnixMicros = newYear2026

    static func claim(_ runID: Int64) -> Claim {
        Claim(
            runID: runID, jobID: runID, jobName: "job-\(runID)", queue: "default", attempt: 1, occurrence: t0,
            scheduledFor: t0, startedAt: t0, action: .handler("tick"), payload: nil, timeout: nil, triggered: false)
    }

    static func finished(_ runID: Int64) -> FinishedRun {
        FinishedRun(claim(runID), runnerID: 1, outcome: .ok, finishedAt: t0)
    }

    @Test("failed writes back off from 100 ms, doubling to at most 5 s; a success resets it")
    func backoffDoublesAndResets() {
        var state = RunLoopState()
        var waits: [Int64] = []
        for _ in 0..<9 {
            state.recordingFailed(at: Self.t0)
            waits.append((state.backoffUntil ?? 0) - Self.t0)
        }
        #expect(waits == [100_000, 200_000, 400_000, 800_000, 1_600_000, 3_200_000, 5_000_000, 5_000_000, 5_000_000])
        #expect(state.isBackingOff(at: Self.t0 + 4_999_999))
        #expect(!state.isBackingOff(at: Self.t0 + 5_000_000))
        state.inFlight[7] = Self.claim(7)
        state.recorded([Self.finished(7)])
        #expect(state.inFlight.isEmpty)
        state.recordingFailed(at: Self.t0)
        #expect(state.backoffUntil == Self.t0 + 100_000)
    }

    @Test("claims wait out a backoff, then clear it; a draining loop never claims")
    func claimsRespectBackoffAndDrain() {
        var state = RunLoopState()
        let mayClaim1 = state.mayClaim(at: Self.t0)
        #expect(mayClaim1)
        state.holdClaims(for: RunLoopState.claimBackoff, at: Self.t0)
        let mayClaim2 = state.mayClaim(at: Self.t0 + 249_999)
        #expect(!mayClaim2)
        let mayClaim3 = state.mayClaim(at: Self.t0 + 250_000)
        #expect(mayClaim3)
        #expect(state.backoffUntil == nil)
        let apply1 = state.apply(.draining(grace: nil), at: Self.t0, drainTimeout: .seconds(30))
        #expect(apply1 == .began)
        let mayClaim4 = state.mayClaim(at: Self.t0 + 1)
        #expect(!mayClaim4)
    }

    @Test("a drain begins once; a shorter grace shortens it, a longer one never extends it")
    func drainDeadlines() {
        var state = RunLoopState()
        let apply2 = state.apply(.none, at: Self.t0, drainTimeout: .seconds(30))
        #expect(apply2 == .unchanged)
        #expect(!state.draining)
        let apply3 = state.apply(.draining(grace: nil), at: Self.t0, drainTimeout: .seconds(30))
        #expect(apply3 == .began)
        #expect(state.drainDeadline == Self.t0 + 30_000_000)
        // The same request seen again changes nothing.
        let apply4 = state.apply(.draining(grace: nil), at: Self.t0 + 1_000_000, drainTimeout: .seconds(30))
        #expect(apply4 == .unchanged)
        #expect(state.drainDeadline == Self.t0 + 30_000_000)
        // `jobctl drain --grace 5s` a second later: the wait ends at t0 + 6 s.
        _ = state.apply(.draining(grace: .seconds(5)), at: Self.t0 + 1_000_000, drainTimeout: .seconds(30))
        #expect(state.drainDeadline == Self.t0 + 6_000_000)
        // A longer grace later does not extend it.
        _ = state.apply(.draining(grace: .seconds(60)), at: Self.t0 + 2_000_000, drainTimeout: .seconds(30))
        #expect(state.drainDeadline == Self.t0 + 6_000_000)
        // Stop now: the wait ends at once.
        let apply5 = state.apply(.stopNow, at: Self.t0 + 3_000_000, drainTimeout: .seconds(30))
        #expect(apply5 == .unchanged)
        #expect(state.drainDeadline == Self.t0 + 3_000_000)
    }

    @Test("a stop-now without a drain begins one that ends at once; huge spans do not overflow")
    func stopNowAndBounds() {
        var state = RunLoopState()
        let apply6 = state.apply(.stopNow, at: Self.t0, drainTimeout: .seconds(30))
        #expect(apply6 == .began)
        #expect(state.drainDeadline == Self.t0)
        var huge = RunLoopState()
        _ = huge.apply(.draining(grace: .seconds(Int64.max)), at: Self.t0, drainTimeout: .seconds(30))
        #expect(huge.drainDeadline == Self.t0 + JobDefinition.maximumSpan.microseconds)
    }

    @Test("draining: finished when nothing is in flight; cancel at the deadline; give up after the termination grace")
    func verdicts() {
        var state = RunLoopState()
        let verdict1 = state.verdict(at: Self.t0, terminationGrace: .seconds(5))
        #expect(verdict1 == .proceed)
        state.inFlight[1] = Self.claim(1)
        _ = state.apply(.draining(grace: .seconds(10)), at: Self.t0, drainTimeout: .seconds(30))
        let verdict2 = state.verdict(at: Self.t0 + 9_999_999, terminationGrace: .seconds(5))
        #expect(verdict2 == .proceed)
        let verdict3 = state.verdict(at: Self.t0 + 10_000_000, terminationGrace: .seconds(5))
        #expect(verdict3 == .cancelRuns)
        // Cancelled once: from then on it waits for the force deadline (grace + 1 s margin).
        #expect(state.forceDeadline == Self.t0 + 16_000_000)
        let verdict4 = state.verdict(at: Self.t0 + 15_999_999, terminationGrace: .seconds(5))
        #expect(verdict4 == .proceed)
        let verdict5 = state.verdict(at: Self.t0 + 16_000_000, terminationGrace: .seconds(5))
        #expect(verdict5 == .abandonStuck)
        state.recorded([Self.finished(1)])
        let verdict6 = state.verdict(at: Self.t0 + 16_000_000, terminationGrace: .seconds(5))
        #expect(verdict6 == .finished)
    }

    @Test("it sleeps until the next due time only with a free slot and unfenced; a backoff or drain deadline wins")
    func wakeDeadlines() {
        var state = RunLoopState()
        state.nextDue = Self.t0 + 500_000
        #expect(state.wakeDeadline(concurrency: 1, now: Self.t0) == Self.t0 + 500_000)
        // A fenced runner does not claim: due work does not wake it (a heartbeat's renewal does).
        #expect(state.wakeDeadline(concurrency: 1, claiming: false, now: Self.t0) == nil)
        state.inFlight[1] = Self.claim(1)
        #expect(state.wakeDeadline(concurrency: 1, now: Self.t0) == nil)
        state.holdClaims(for: .milliseconds(50), at: Self.t0)
        #expect(state.wakeDeadline(concurrency: 1, now: Self.t0) == Self.t0 + 50_000)
        #expect(
            state.wakeDeadline(concurrency: 1, claiming: false, now: Self.t0) == Self.t0 + 50_000,
            "finishes still retry")
        // Once the backoff has run out, a fenced runner waits to be woken: a deadline in the past
        // would make its loop spin (D22), and no claim comes to clear the backoff.
        #expect(state.wakeDeadline(concurrency: 1, claiming: false, now: Self.t0 + 50_000) == nil)
        #expect(state.wakeDeadline(concurrency: 1, claiming: false, now: Self.t0 + 60_000) == nil)
        state.inFlight = [:]
        #expect(state.wakeDeadline(concurrency: 1, now: Self.t0 + 60_000) == Self.t0 + 500_000)
        var draining = RunLoopState()
        draining.nextDue = Self.t0 + 1
        draining.inFlight[1] = Self.claim(1)
        _ = draining.apply(.draining(grace: .seconds(2)), at: Self.t0, drainTimeout: .seconds(30))
        #expect(draining.wakeDeadline(concurrency: 4, now: Self.t0) == Self.t0 + 2_000_000)
        draining.recordingFailed(at: Self.t0)
        #expect(draining.wakeDeadline(concurrency: 4, now: Self.t0) == Self.t0 + 100_000)
    }
}
