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
}
