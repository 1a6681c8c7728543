import Testing

@testable import JobRunner

extension BackendConformance {
    /// Pruning and history retention delete runs, never counters: the totals by outcome and each job's
    /// counts stay as they were, a run in flight is never deleted, and counting goes on afterwards.
    static func countersSurvivePrune(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("p", queue: "p", initialDelay: .zero))  // slots at start + k × 60 s
            let runner = try await h.register()
            var finishTimes: [UnixMicros] = []
            for (index, outcome) in [RunOutcome.ok, .failed, .ok, .timeout, .ok].enumerated() {
                h.advance(to: start + s(60) * Int64(index))
                let claim = try await h.claimOne(runner, queues: ["p"])
                finishTimes.append(h.now + s(1))
                #expect(try await h.finish(claim, runner: runner, outcome: outcome, at: h.now + s(1)))
            }
            h.advance(to: start + s(300))
            let inFlight = try await h.claimOne(runner, queues: ["p"])
            let before = try await h.backend.status(perJobLimit: nil)
            #expect(before.runsByOutcome == [.ok: 3, .failed: 1, .timeout: 1])
            #expect(before.inFlight == 1)
            #expect(before.perJob.map(\.runCount) == [5])
            let jobBefore = try await h.job("p")
            #expect(jobBefore.runCount == 5)
            #expect(jobBefore.okCount == 3)
            #expect(jobBefore.failedCount == 2)

            #expect(try await h.backend.prune(finishedBefore: finishTimes[3], batchSize: 2) == 3)
            #expect(try await h.backend.history(HistoryQuery(job: "p")).count == 3, "later runs are kept")
            #expect(try await h.backend.prune(finishedBefore: h.now + s(3600), batchSize: 2) == 2)
            let left = try await h.backend.history(HistoryQuery(job: "p"))
            #expect(left.map(\.id) == [inFlight.runID], "a run in flight is never deleted")
            #expect(try await h.backend.status(perJobLimit: nil) == before, "totals survive pruning")
            #expect(try await h.job("p") == jobBefore, "the job's counters survive pruning")

            #expect(try await h.finish(inFlight, runner: runner))
            #expect(try await h.backend.status(perJobLimit: nil).runsByOutcome == [.ok: 4, .failed: 1, .timeout: 1])
            #expect(try await h.job("p").runCount == 6)

            // Retention: at most 2 runs per job, then by age.
            try await h.add(job("q", queue: "q", initialDelay: .zero))  // slots at start + 300 s + k × 60 s
            var qRuns: [Int64] = []
            for index in 0..<6 {
                h.advance(to: start + s(300) + s(60) * Int64(index))
                let claim = try await h.claimOne(runner, queues: ["q"])
                qRuns.append(claim.runID)
                #expect(try await h.finish(claim, runner: runner))
            }
            let beforeRetention = try await h.backend.status(perJobLimit: nil)
            #expect(beforeRetention.runsByOutcome[.ok] == 10)
            let jobsBefore = try await h.backend.jobs(queue: nil)
            let byCount = try await h.backend.applyRetention(
                HistoryRetention(maxAge: nil, maxRunsPerJob: 2), now: h.now, batchSize: 1)
            #expect(byCount.deletedRuns == 4)
            #expect(try await h.backend.history(HistoryQuery(job: "q")).map(\.id) == qRuns.suffix(2).reversed())
            #expect(try await h.backend.history(HistoryQuery(job: "p")).count == 1)
            // q's runs finished at start + 540 s and 600 s, p's last at start + 300 s.
            let byAge = try await h.backend.applyRetention(
                HistoryRetention(maxAge: .seconds(30), maxRunsPerJob: nil), now: h.now, batchSize: 1)
            #expect(byAge.deletedRuns == 2)
            #expect(try await h.backend.history(HistoryQuery()).map(\.id) == [qRuns[5]])
            #expect(try await h.backend.status(perJobLimit: nil) == beforeRetention, "totals survive retention")
            #expect(try await h.backend.jobs(queue: nil) == jobsBefore, "counters survive retention")
        }
    }
}
