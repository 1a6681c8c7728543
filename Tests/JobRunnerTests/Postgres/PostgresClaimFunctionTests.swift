#if PostgreSQL
    import Foundation
    import JobRunnerPostgres
    import Logging
    import PostgresNIO
    import Testing

    @testable import JobRunner

    /// `jobrunner_claim` (the claim in one round trip, in the server) against the client's claim
    /// (`claimResolving`, which applies ``JobTransition/resolve(_:now:grace:)`` itself): the same jobs,
    /// twice, each copy claimed by one of them, must come out the same.
    @Suite struct PostgresClaimFunctionTests {
        /// One job's schedule and state at the claim.
        struct Case: CustomStringConvertible {
            var schedule: Schedule
            var misfire: MisfirePolicy
            var attempt: Int
            /// How late its occurrence is at the claim; nil: no occurrence (`occurrence_at` NULL).
            var late: Int64?
            var triggered: Bool

            var description: String {
                "\(schedule.description), \(misfire), attempt \(attempt), late \(late.map { "\($0)us" } ?? "none")"
                    + (triggered ? ", triggered" : "")
            }
        }

        static let grace: Int64 = 2_000_000
        static let now: UnixMicros = 1_767_225_600_000_000 + 86_400_000_000 + 123_456  // 2026-01-02, off any slot

        static func cases() throws -> [Case] {
            let schedules: [Schedule] = [
                .every(.seconds(10)), .every(.seconds(10), fixedDelay: true),
                .cron(try CronExpression("*/10 * * * * *"), timeZone: .gmt),
                .cron(try CronExpression("0 * * * *"), timeZone: .gmt),
                .at(now - 5_000_000),
            ]
            // Negative: due ahead of now, claimed only within a lead (50 ms ahead: within 100 ms).
            let lateness: [Int64?] = [
                -150_000, -50_000, 0, 300_000, 900_000, 1_500_000, 3_000_000, 9_999_999, 15_000_000, 7_200_000_000, nil,
            ]
            var cases: [Case] = []
            for schedule in schedules {
                for misfire in [MisfirePolicy.coalesce, .skip, .catchUp] {
                    for attempt in [1, 2] {
                        for late in lateness {
                            cases.append(
                                Case(
                                    schedule: schedule, misfire: misfire, attempt: attempt, late: late, triggered: false
                                ))
                        }
                    }
                    cases.append(
                        Case(schedule: schedule, misfire: misfire, attempt: 1, late: 15_000_000, triggered: true))
                }
            }
            return cases
        }

        /// What a claim did to one job: the run it started (if any) and the job's row afterwards.
        struct Outcome: Equatable, CustomStringConvertible {
            var occurrence: UnixMicros?
            var scheduledFor: UnixMicros?
            var startedAt: UnixMicros?
            var attempt: Int?
            var triggered: Bool?
            var occurrenceAt: UnixMicros?
            var nextRunAt: UnixMicros?
            var state: JobState
            var triggerAt: UnixMicros?
            var running: Bool

            var description: String {
                "run(occurrence: \(occurrence.map(String.init) ?? "-"), scheduled: \(scheduledFor.map(String.init) ?? "-"), "
                    + "started: \(startedAt.map(String.init) ?? "-"), "
                    + "attempt: \(attempt.map(String.init) ?? "-"), triggered: \(triggered.map(String.init) ?? "-")) "
                    + "job(occurrence_at: \(occurrenceAt.map(String.init) ?? "nil"), "
                    + "next_run_at: \(nextRunAt.map(String.init) ?? "nil"), \(state), "
                    + "trigger_at: \(triggerAt.map(String.init) ?? "nil"), running: \(running))"
            }
        }

        @Test(
            "jobrunner_claim claims what the client's claim claims, misfire policies, triggers and a lead included",
            arguments: [Int64(0), 100_000])
        func agreesWithTheClientsClaim(lead: Int64) async throws {
            let cases = try Self.cases()
            try await PostgresTestServer.withDatabase { url in
                let clock = ManualJobClock(now: Self.now - 86_400_000_000)
                let store = try await PostgresJobStore.open(url: url, clock: clock)
                for (index, c) in cases.enumerated() {
                    for queue in ["fn", "ref"] {
                        _ = try await store.add(
                            JobDefinition(
                                name: "\(queue)-\(index)", queue: queue, action: .handler("h"), schedule: c.schedule,
                                initialDelay: .zero, retry: RetryPolicy(maxRetries: 3, backoff: .seconds(1)),
                                misfire: c.misfire),
                            replace: false)
                    }
                }
                // Each job's state at the claim, written as the runs before it would have left it.
                try await PostgresTestServer.withClient(url) { client in
                    for (index, c) in cases.enumerated() {
                        let occurrence = c.late.map { Self.now - $0 }
                        let next = occurrence ?? Self.now - 1_000
                        let trigger: Int64? = c.triggered ? Self.now - 500_000 : nil
                        let attempt = Int32(c.attempt)
                        try await client.query(
                            """
                            UPDATE jobs SET occurrence_at = \(occurrence), next_run_at = \(next), attempt = \(attempt),
                                trigger_at = \(trigger)
                            WHERE name = ANY(\(["fn-\(index)", "ref-\(index)"]))
                            """)
                    }
                }
                clock.advance(to: Self.now)
                let host = HostIdentity(name: "h", bootID: "b", pidNamespace: "n")
                var runners: [String: Int64] = [:]
                for queue in ["fn", "ref"] {
                    runners[queue] = try await store.registerRunner(
                        RunnerRegistration(host: host, pid: 1, lease: .seconds(60), queues: [queue], concurrency: 1000),
                        now: clock.now())
                }
                func scope(_ queue: String) -> ClaimScope {
                    ClaimScope(queues: [queue], handlers: ["h"], slots: 1000, misfireGrace: Self.grace, lead: lead)
                }
                let byFunction = try await store.claim(runnerID: runners["fn"]!, clock: clock, scope: scope("fn"))
                let byClient = try await store.claimResolving(
                    runnerID: runners["ref"]!, clock: clock, scope: scope("ref"))

                #expect(byFunction.runnerAlive && byClient.runnerAlive)
                #expect(byFunction.skipped == byClient.skipped)
                #expect(byClient.skipped > 0, "the cases include occurrences skipped by the policy")
                #expect(byClient.claims.count > cases.count / 2)
                let ahead = byFunction.claims.filter { $0.scheduledFor > Self.now }
                #expect(lead == 0 ? ahead.isEmpty : !ahead.isEmpty, "runs claimed ahead only with a lead")
                #expect(ahead.allSatisfy { $0.scheduledFor <= Self.now + lead && $0.startedAt == $0.scheduledFor })
                func outcomes(_ queue: String, _ batch: ClaimBatch) async throws -> [Outcome] {
                    var runs: [String: Claim] = [:]
                    for claim in batch.claims { runs[claim.jobName] = claim }
                    var out: [Outcome] = []
                    for index in cases.indices {
                        let name = "\(queue)-\(index)"
                        let job = try #require(try await store.job(named: name))
                        let run = runs[name]
                        out.append(
                            Outcome(
                                occurrence: run?.occurrence, scheduledFor: run?.scheduledFor, startedAt: run?.startedAt,
                                attempt: run?.attempt,
                                triggered: run?.triggered, occurrenceAt: job.occurrenceAt, nextRunAt: job.nextRunAt,
                                state: job.state, triggerAt: job.triggerAt, running: job.runningRunID != nil))
                    }
                    return out
                }
                let functionOutcomes = try await outcomes("fn", byFunction)
                let clientOutcomes = try await outcomes("ref", byClient)
                for index in cases.indices where functionOutcomes[index] != clientOutcomes[index] {
                    Issue.record(
                        "\(cases[index]): jobrunner_claim \(functionOutcomes[index]), client \(clientOutcomes[index])")
                }
                await store.close()
            }
        }

        @Test("jobrunner_claim answers the next due time and claims nothing for a runner declared dead")
        func nextDueAndTheFence() async throws {
            try await PostgresTestServer.withDatabase { url in
                let clock = ManualJobClock(now: Self.now)
                let store = try await PostgresJobStore.open(url: url, clock: clock)
                _ = try await store.add(
                    JobDefinition(name: "later", action: .handler("h"), schedule: .every(.seconds(30))), replace: false)
                let host = HostIdentity(name: "h", bootID: "b", pidNamespace: "n")
                let runner = try await store.registerRunner(
                    RunnerRegistration(host: host, pid: 1, lease: .seconds(60), queues: nil, concurrency: 4),
                    now: clock.now())
                let scope = ClaimScope(queues: nil, handlers: ["h"], slots: 4, misfireGrace: Self.grace)
                let idle = try await store.claim(runnerID: runner, clock: clock, scope: scope)
                #expect(idle.claims.isEmpty && idle.runnerAlive)
                #expect(idle.nextDue == Self.now + 30_000_000)

                clock.advance(to: Self.now + 30_000_000)
                try await PostgresTestServer.withClient(url) { client in
                    try await client.query("UPDATE runners SET state = 'dead' WHERE id = \(runner)")
                }
                let fenced = try await store.claim(runnerID: runner, clock: clock, scope: scope)
                #expect(fenced.claims.isEmpty)
                #expect(!fenced.runnerAlive)
                #expect(try await store.job(named: "later")?.runningRunID == nil)
                await store.close()
            }
        }

        @Test("the due count a heartbeat takes answers the gauge's count right after it, and only then")
        func heartbeatDueCount() async throws {
            try await PostgresTestServer.withDatabase { url in
                let clock = ManualJobClock(now: Self.now)
                let store = try await PostgresJobStore.open(url: url, clock: clock)
                let host = HostIdentity(name: "h", bootID: "b", pidNamespace: "n")
                let runner = try await store.registerRunner(
                    RunnerRegistration(host: host, pid: 1, lease: .seconds(60), queues: nil, concurrency: 4),
                    now: clock.now())
                for name in ["a", "b"] {
                    _ = try await store.add(
                        JobDefinition(name: name, action: .handler("h"), schedule: .after(.zero)), replace: false)
                }
                clock.advance(by: .seconds(1))
                #expect(try await store.heartbeat(runnerID: runner, now: clock.now()).alive)
                try await PostgresTestServer.withClient(url) { client in
                    // Changed behind the heartbeat's back: its count (2) still answers right after it.
                    try await client.query("UPDATE jobs SET next_run_at = NULL WHERE name = 'a'")
                }
                #expect(try await store.dueCount(now: clock.now(), limit: 100_000) == 2)
                // Used once; a second look, or one with another limit, asks the database.
                #expect(try await store.dueCount(now: clock.now(), limit: 100_000) == 1)
                #expect(try await store.heartbeat(runnerID: runner, now: clock.now()).alive)
                #expect(try await store.dueCount(now: clock.now(), limit: 5) == 1)
                // Taken more than a quarter of a second before: asks the database.
                _ = try await store.heartbeat(runnerID: runner, now: clock.now())
                try await PostgresTestServer.withClient(url) { client in
                    try await client.query("UPDATE jobs SET next_run_at = NULL WHERE name = 'b'")
                }
                clock.advance(by: .seconds(1))
                #expect(try await store.dueCount(now: clock.now(), limit: 100_000) == 0)
                await store.close()
            }
        }
    }
#endif
