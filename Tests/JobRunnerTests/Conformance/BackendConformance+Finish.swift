import Testing

@testable import JobRunner

extension BackendConformance {
    /// A finish records the run's end in the history, the job's counters and its next occurrence, and
    /// frees the job: all of it by the time the call returns.
    static func finishRecordsScheduleAndHistory(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("tick"))  // every 60 s: first slot at start + 60 s
            let runner = try await h.register()
            h.advance(to: start + s(61))
            let claim = try await h.claimOne(runner)
            #expect(claim.jobName == "tick")
            #expect(claim.occurrence == start + s(60))
            #expect(claim.scheduledFor == start + s(60))
            #expect(claim.startedAt == start + s(61))
            #expect(claim.attempt == 1)

            // In flight: a running history row, the job held.
            let running = try await h.run(claim.runID)
            #expect(running.outcome == .running)
            #expect(running.finishedAt == nil)
            #expect(running.jobName == "tick")
            #expect(running.runnerID == runner)
            #expect(running.startedAt == claim.startedAt)
            #expect(running.scheduledFor == claim.scheduledFor)
            var tick = try await h.job("tick")
            #expect(tick.runningRunID == claim.runID)
            #expect(tick.lastStartedAt == start + s(61))
            #expect(try await h.backend.status(perJobLimit: nil).inFlight == 1)
            #expect(try await h.claim(runner).claims.isEmpty, "a job in flight is not claimed again")

            // Finished ok: history, counters, the next slot, and the job free again.
            #expect(try await h.finish(claim, runner: runner, at: start + s(62)))
            let ok = try await h.run(claim.runID)
            #expect(ok.outcome == .ok)
            #expect(ok.finishedAt == start + s(62))
            #expect(ok.attempt == 1)
            #expect(ok.triggered == false)
            tick = try await h.job("tick")
            #expect(tick.runningRunID == nil)
            #expect(tick.runCount == 1)
            #expect(tick.okCount == 1)
            #expect(tick.failedCount == 0)
            #expect(tick.lastOutcome == .ok)
            #expect(tick.lastFinishedAt == start + s(62))
            #expect(tick.occurrenceAt == start + s(120))
            #expect(tick.nextRunAt == start + s(120))
            #expect(tick.attempt == 1)
            #expect(tick.state == .active)
            var status = try await h.backend.status(perJobLimit: nil)
            #expect(status.inFlight == 0)
            #expect(status.runsByOutcome == [.ok: 1])
            #expect(status.perJob.map(\.runCount) == [1])
            let batch = try await h.claim(runner)
            #expect(batch.claims.isEmpty, "the next slot is not due yet")
            #expect(batch.nextDue == start + s(120))

            // Failed, then timed out: both count as failures; without retries the schedule moves on.
            h.advance(to: start + s(120))
            let failing = try await h.claimOne(runner)
            #expect(try await h.finish(failing, runner: runner, outcome: .failed, error: "boom"))
            let failed = try await h.run(failing.runID)
            #expect(failed.outcome == .failed)
            #expect(failed.error == "boom")
            h.advance(to: start + s(180))
            let slow = try await h.claimOne(runner)
            #expect(try await h.finish(slow, runner: runner, outcome: .timeout, at: start + s(185)))
            tick = try await h.job("tick")
            #expect(tick.runCount == 3)
            #expect(tick.okCount == 1)
            #expect(tick.failedCount == 2)
            #expect(tick.lastOutcome == .timeout)
            #expect(tick.occurrenceAt == start + s(240))
            #expect(tick.nextRunAt == start + s(240))
            status = try await h.backend.status(perJobLimit: nil)
            #expect(status.runsByOutcome == [.ok: 1, .failed: 1, .timeout: 1])

            // Several runs in one finish; a one-shot job is done after its run.
            try await h.add(job("once", schedule: .after(.seconds(5))))
            try await h.add(job("twice-a-day", schedule: .every(.seconds(43_200)), initialDelay: .zero))
            h.advance(by: .seconds(5))
            let pair = try await h.claim(runner)
            #expect(Set(pair.claims.map(\.jobName)) == ["once", "twice-a-day"])
            let runs = pair.claims.map { FinishedRun($0, runnerID: runner, outcome: .ok, finishedAt: h.now) }
            #expect(try await h.backend.finish(runs) == [true, true])
            let once = try await h.job("once")
            #expect(once.state == .done)
            #expect(once.nextRunAt == nil)
            #expect(once.runningRunID == nil)
            #expect(once.runCount == 1)
            let periodic = try await h.job("twice-a-day")
            #expect(periodic.state == .active)
            #expect(periodic.nextRunAt == start + s(180 + 43_200), "its first run was due when it was added")
            for claim in pair.claims { #expect(try await h.run(claim.runID).outcome == .ok) }
        }
    }

    /// A second instance, reading while the first claims and finishes, never sees a finish half done:
    /// the job's counters, the totals by outcome and the history always agree, and a job that is free
    /// again is already on its next slot.
    static func finishIsAtomicForOtherInstances(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let cycles = 40
            try await h.add(job("tick", initialDelay: .zero))  // slots at start + k × 60 s
            let runner = try await h.register()
            let reader = try await h.open()
            let done = Flag()
            let writer = Task {
                defer { done.set() }
                for cycle in 0..<cycles {
                    h.advance(to: start + s(60) * Int64(cycle))
                    let claim = try await h.claimOne(runner)
                    #expect(try await h.finish(claim, runner: runner))
                }
            }
            // Finishes counted from three places, read in turn in every order: a count read later
            // may never be lower than one read earlier.
            let orders = [["status", "job", "history"], ["history", "job", "status"], ["job", "status", "history"]]
            var readings: [(source: String, count: Int64)] = []
            var rounds = 0
            while !done.isSet || rounds == 0 {
                rounds += 1
                for source in orders[rounds % orders.count] {
                    switch source {
                    case "status":
                        let status = try await reader.status(perJobLimit: nil)
                        readings.append((source, status.runsByOutcome[.ok] ?? 0))
                    case "job":
                        let tick = try #require(await reader.job(named: "tick"))
                        readings.append((source, tick.runCount))
                        if tick.runningRunID == nil {
                            #expect(
                                tick.occurrenceAt == start + s(60) * tick.runCount,
                                "a free job is on the slot after its last run")
                        }
                    default:
                        let finished = try await reader.history(HistoryQuery(job: "tick", outcome: .ok, limit: 1000))
                        readings.append((source, Int64(finished.count)))
                    }
                }
            }
            try await writer.value
            for (earlier, later) in zip(readings, readings.dropFirst()) where later.count < earlier.count {
                Issue.record(
                    "\(later.source) read \(later.count) finishes after \(earlier.source) read \(earlier.count)")
            }
            let tick = try await h.job("tick")
            #expect(tick.runCount == Int64(cycles))
        }
    }
}
