import Testing

@testable import JobRunner

extension BackendConformance {
    /// A claim with a lead (``ClaimScope/lead``) takes the runs due up to `now + lead`, stamped to
    /// start at their due time, and leaves later ones; misfire policies still go by `now`, so a run
    /// claimed ahead is never counted as missed. Without a lead nothing is claimed before it is due.
    static func claimAhead(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let lead = Duration.milliseconds(100)
            try await h.add(job("first", initialDelay: .seconds(10)))
            try await h.add(job("second", initialDelay: .milliseconds(10_050), misfire: .skip))
            try await h.add(job("later", initialDelay: .milliseconds(10_200)))
            let runner = try await h.register()
            h.advance(to: start + s(10) - 50_000)

            let none = try await h.claim(runner)
            #expect(none.claims.isEmpty, "nothing is due yet")
            #expect(none.nextDue == start + s(10))

            let batch = try await h.claim(runner, lead: lead)
            #expect(batch.runnerAlive)
            #expect(batch.claims.map(\.jobName).sorted() == ["first", "second"])
            #expect(batch.skipped == 0, "a run claimed ahead is not late")
            #expect(batch.nextDue == start + s(10) + 200_000, "the next due job, beyond the lead")
            for claim in batch.claims {
                #expect(claim.startedAt == claim.scheduledFor, "\(claim.jobName) starts at its due time")
                #expect(claim.scheduledFor > h.now)
                let run = try await h.run(claim.runID)
                #expect(run.outcome == .running)
                #expect(run.startedAt == claim.scheduledFor)
                #expect(run.scheduledFor == claim.scheduledFor)
            }
            let first = try #require(batch.claims.first { $0.jobName == "first" })
            #expect(first.occurrence == start + s(10))

            // Finished at its due time, the run moves the schedule on by one interval as usual.
            h.advance(to: start + s(10) + 5_000)
            #expect(try await h.finish(first, runner: runner))
            #expect(try await h.job("first").nextRunAt == start + s(70))
            #expect(try await h.job("first").lastStartedAt == start + s(10))

            // A cron job due on the next minute (00:01:00), claimed from the second before.
            try await h.add(job("minutely", queue: "cron", schedule: try .cron("* * * * *")))
            h.advance(to: start + s(60) - 80_000)
            let cron = try await h.claim(runner, queues: ["cron"], lead: lead)
            #expect(cron.claims.map(\.jobName) == ["minutely"], "the cron job, from the second before its slot")
            #expect(cron.claims.first?.occurrence == start + s(60))
            #expect(cron.claims.first?.startedAt == start + s(60))
        }
    }

    /// The runs claimed ahead that the claim would no longer take are recallable: their job paused,
    /// stopped or removed, or their queue paused, since the claim. Others are not, nor a run that
    /// ended, nor one not asked about.
    static func recallableRuns(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            for name in ["kept", "paused", "stopped", "removed", "queued", "ended"] {
                try await h.add(
                    job(name, queue: name == "queued" ? "side" : "default", initialDelay: .seconds(10)))
            }
            let runner = try await h.register()
            h.advance(to: start + s(10) - 50_000)
            let batch = try await h.claim(runner, lead: .milliseconds(100))
            let runs = Dictionary(uniqueKeysWithValues: batch.claims.map { ($0.jobName, $0) })
            #expect(runs.count == 6)
            let ids = batch.claims.map(\.runID)
            #expect(try await h.backend.recallable(runIDs: ids).isEmpty, "nothing changed since the claim")

            _ = try await h.backend.pause("paused")
            _ = try await h.backend.stop("stopped")
            _ = try await h.backend.remove("removed")
            try await h.backend.setQueuePaused("side", true)
            _ = try await h.backend.pause("ended")
            let ended = try #require(runs["ended"])
            h.advance(to: start + s(10))
            #expect(try await h.finish(ended, runner: runner))

            let recallable = try await h.backend.recallable(runIDs: ids)
            let expected = ["paused", "stopped", "removed", "queued"].compactMap { runs[$0]?.runID }.sorted()
            #expect(recallable == expected)
            #expect(try await h.backend.recallable(runIDs: []).isEmpty)
            let kept = try #require(runs["kept"])
            #expect(try await h.backend.recallable(runIDs: [kept.runID]).isEmpty)
        }
    }
}
