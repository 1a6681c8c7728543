import Testing

@testable import JobRunner

extension BackendConformance {
    /// A failed (or timed-out) run is retried after its backoff, doubling each time, as the next
    /// attempt of the same occurrence, however late; once the retries are used up the job moves on.
    static func retries(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let retry = RetryPolicy(maxRetries: 2, backoff: .seconds(10))
            let hourly = Schedule.every(.seconds(3600))
            try await h.add(job("r", schedule: hourly, initialDelay: .zero, retry: retry, misfire: .skip))
            let runner = try await h.register()

            let first = try await h.claimOne(runner)
            #expect(first.attempt == 1)
            #expect(first.occurrence == start)
            h.advance(to: start + s(1))
            #expect(try await h.finish(first, runner: runner, outcome: .failed, error: "boom"))
            var r = try await h.job("r")
            #expect(r.attempt == 2)
            #expect(r.occurrenceAt == start, "a retry is the same occurrence")
            #expect(r.nextRunAt == start + s(11), "after the backoff")
            #expect(r.failedCount == 1)
            #expect(r.state == .active)

            h.advance(to: start + s(10))
            let early = try await h.claim(runner)
            #expect(early.claims.isEmpty)
            #expect(early.nextDue == start + s(11))

            h.advance(to: start + s(11 + 600))  // 10 minutes late, a skip job: retries are not misfires
            let second = try await h.claimOne(runner)
            #expect(second.attempt == 2)
            #expect(second.occurrence == start)
            #expect(second.scheduledFor == start + s(11))
            h.advance(by: .seconds(1))
            let secondEnd = h.now
            #expect(try await h.finish(second, runner: runner, outcome: .timeout))
            r = try await h.job("r")
            #expect(r.attempt == 3)
            #expect(r.nextRunAt == secondEnd + s(20), "the backoff doubles")

            h.advance(to: secondEnd + s(19))
            #expect(try await h.claim(runner).claims.isEmpty)
            h.advance(to: secondEnd + s(20))
            let third = try await h.claimOne(runner)
            #expect(third.attempt == 3)
            #expect(try await h.finish(third, runner: runner, outcome: .failed))
            r = try await h.job("r")
            #expect(r.attempt == 1, "retries used up: the next occurrence")
            #expect(r.occurrenceAt == start + s(3600))
            #expect(r.nextRunAt == start + s(3600))
            #expect(r.failedCount == 3)
            #expect(r.runCount == 3)
            let history = try await h.backend.history(HistoryQuery(job: "r"))
            #expect(history.map(\.attempt) == [3, 2, 1])
            #expect(history.map(\.outcome) == [.failed, .timeout, .failed])

            // A retry that succeeds moves on as well.
            h.advance(to: start + s(3600))
            let failing = try await h.claimOne(runner)
            #expect(try await h.finish(failing, runner: runner, outcome: .failed))
            h.advance(to: try #require(await h.job("r").nextRunAt))
            let recovering = try await h.claimOne(runner)
            #expect(recovering.attempt == 2)
            #expect(try await h.finish(recovering, runner: runner))
            r = try await h.job("r")
            #expect(r.attempt == 1)
            #expect(r.occurrenceAt == start + s(7200))
            #expect(r.okCount == 1)
            #expect(r.failedCount == 4)
        }
    }

    /// A trigger runs a job once as soon as a runner is free, paused or not, and never moves its
    /// schedule: no retry, no next slot. Asked twice before a runner takes it, it runs once; asked
    /// during its run, it runs once more after it; cut short by a stopping runner, it is asked again.
    static func triggers(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("t", schedule: .every(.seconds(3600))))  // first slot at start + 1 h
            let runner = try await h.register()
            #expect(try await h.backend.pause("t").state == .paused)
            h.advance(to: start + s(10))
            #expect(try await h.claim(runner).claims.isEmpty)
            #expect(try await h.backend.trigger("t").triggerAt != nil)
            h.advance(to: start + s(11))
            #expect(try await h.backend.trigger("t").state == .paused, "a trigger does not resume the job")

            h.advance(to: start + s(12))
            let triggered = try await h.claimOne(runner)
            #expect(triggered.triggered)
            #expect(triggered.attempt == 1)
            #expect(triggered.scheduledFor == start + s(10), "due when it was first asked for")
            var t = try await h.job("t")
            #expect(t.state == .paused)
            #expect(t.runningRunID == triggered.runID)
            #expect(t.triggerAt == nil)
            #expect(t.occurrenceAt == start + s(3600))
            #expect(t.nextRunAt == start + s(3600))

            h.advance(to: start + s(13))
            _ = try await h.backend.trigger("t")
            #expect(try await h.claim(runner).claims.isEmpty, "not while its run is in flight")
            h.advance(to: start + s(14))
            #expect(try await h.finish(triggered, runner: runner))
            t = try await h.job("t")
            #expect(t.state == .paused)
            #expect(t.occurrenceAt == start + s(3600), "the schedule did not move")
            #expect(t.nextRunAt == start + s(3600))
            #expect(t.runCount == 1)
            #expect(t.lastOutcome == .ok)
            #expect(t.triggerAt != nil, "the trigger asked during the run is still waiting")
            let again = try await h.claimOne(runner)
            #expect(again.triggered)
            #expect(try await h.finish(again, runner: runner))
            #expect(try await h.claim(runner).claims.isEmpty, "each trigger ran once")
            #expect(try await h.job("t").runCount == 2)

            h.advance(to: start + s(3605))
            #expect(try await h.claim(runner).claims.isEmpty, "a paused job's schedule does not run")
            _ = try await h.backend.resume("t")
            let scheduled = try await h.claimOne(runner)
            #expect(!scheduled.triggered)
            #expect(scheduled.occurrence == start + s(3600), "the slot it had before the triggers")
            #expect(try await h.finish(scheduled, runner: runner))

            // A failed trigger is not retried and does not move the schedule.
            let retry = RetryPolicy(maxRetries: 3, backoff: .seconds(10))
            try await h.add(job("tr", queue: "tr", schedule: .every(.seconds(3600)), retry: retry))
            let slot = try #require(await h.job("tr").nextRunAt)
            _ = try await h.backend.trigger("tr")
            let failing = try await h.claimOne(runner, queues: ["tr"])
            #expect(failing.triggered)
            #expect(try await h.finish(failing, runner: runner, outcome: .failed))
            var tr = try await h.job("tr")
            #expect(tr.attempt == 1)
            #expect(tr.nextRunAt == slot)
            #expect(tr.occurrenceAt == slot)
            #expect(tr.triggerAt == nil)
            #expect(tr.failedCount == 1)
            #expect(try await h.claim(runner, queues: ["tr"]).claims.isEmpty)

            // A triggered run interrupted by its runner stopping is asked for again.
            let leaving = try await h.register(pid: 2)
            _ = try await h.backend.trigger("tr")
            let cut = try await h.claimOne(leaving, queues: ["tr"])
            try await h.backend.deregisterRunner(runnerID: leaving, now: h.now)
            #expect(try await h.run(cut.runID).outcome == .interrupted)
            tr = try await h.job("tr")
            #expect(tr.triggerAt != nil)
            #expect(tr.nextRunAt == slot)
            let retaken = try await h.claimOne(runner, queues: ["tr"])
            #expect(retaken.triggered)
        }
    }
}
