#if PostgreSQL
    import PostgresNIO
    import Synchronization
    import TestSupport
    import Testing

    @testable import JobRunner
    @testable import JobRunnerPostgres

    /// A run claimed ahead on PostgreSQL (its default claim lead) is recalled when another process
    /// pauses its job: the pause notifies, the runner asks the store, and the run never starts.
    @Suite("Recall on PostgreSQL", .timeLimit(.minutes(2)))
    struct PostgresRecallTests {
        @Test("a pause from another connection recalls a run claimed ahead, through the wake-up channel")
        func pauseRecallsARunClaimedAhead() async throws {
            try await PostgresTestServer.withDatabase { url in
                let clock = ManualJobClock(now: newYear2026)
                let backend = try await PostgresJobStore.open(url: url, clock: clock)
                let otherBackend = try await PostgresJobStore.open(url: url, clock: clock)
                let store = JobStore(backend: backend)
                let other = JobStore(backend: otherBackend)
                try await store.add(
                    JobDefinition(name: "soon", action: .handler("entry"), schedule: .after(.seconds(10))))
                let entered = Atomic<Int>(0)
                var registry = JobRegistry()
                registry.register("entry") { _ in entered.add(1, ordering: .relaxed) }
                var configuration = manualRunnerConfiguration()
                // The feed (LISTEN) delivers other connections' notifications; it does not poll.
                configuration.changePollInterval = .seconds(3600)
                let runner = JobRunner(
                    store: store, registry: registry, configuration: configuration, clock: clock,
                    logger: quietLogger)
                #expect(runner.claimLead(store.backend.defaultClaimLead) == .milliseconds(100))
                try await withRunner(runner) { events in
                    // The runner's LISTEN must be in place before the pause's notification is sent.
                    try await waitUntil("the runner listens on the wake-up channel") {
                        try await Self.listeners(url) >= 1
                    }
                    let runID = try await ClaimLeadTests.claimAhead(clock, events)
                    _ = try await other.pause("soon")
                    #expect(await events.finished(1).first?.outcome == .interrupted)
                    let run = try #require(try await store.run(id: runID))
                    #expect(run.outcome == .interrupted)
                    #expect(run.error?.contains("recalled before its due time, not started") == true, "\(run)")
                    #expect(try await store.job(named: "soon")?.nextRunAt == ClaimLeadTests.due)
                    clock.advance(to: ClaimLeadTests.due + 1_000_000)
                }
                #expect(entered.load(ordering: .relaxed) == 0, "the handler never ran")
                await otherBackend.close()
                await backend.close()
            }
        }

        /// Sessions of `url`'s database whose last statement was a LISTEN.
        static func listeners(_ url: PostgresURL) async throws -> Int {
            let count = Atomic<Int>(0)
            try await PostgresTestServer.withAdminClient { client in
                for try await value in try await client.query(
                    "SELECT count(*)::int FROM pg_stat_activity WHERE datname = \(url.database) AND query LIKE 'LISTEN%'",
                    logger: quietLogger
                ).decode(Int.self) {
                    count.store(value, ordering: .relaxed)
                }
            }
            return count.load(ordering: .relaxed)
        }
    }
#endif
