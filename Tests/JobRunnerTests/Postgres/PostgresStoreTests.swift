#if PostgreSQL
    import Logging
    import PostgresNIO
    import Synchronization
    import Testing

    @testable import JobRunner
    @testable import JobRunnerPostgres

    /// What only the PostgreSQL store does: a finish retried after a lost commit acknowledgement, and
    /// the server's clock.
    @Suite struct PostgresStoreTests {
        static let logger = Logger(label: "PostgresStoreTests")

        @Test("a finish retried after its commit was not acknowledged is recorded once and answers true")
        func finishRetriedAfterALostAcknowledgement() async throws {
            try await PostgresTestServer.withDatabase { url in
                let clock = ManualJobClock(now: 1_767_225_600_000_000)
                let store = try await PostgresJobStore.open(url: url, clock: clock)
                _ = try await store.add(
                    JobDefinition(
                        name: "tick", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero),
                    replace: false)
                let host = HostIdentity(name: "h", bootID: "b", pidNamespace: "n")
                let runner = try await store.registerRunner(
                    RunnerRegistration(host: host, pid: 1, lease: .seconds(60), queues: nil, concurrency: 1),
                    now: clock.now())
                let batch = try await store.claim(
                    runnerID: runner, clock: clock,
                    scope: ClaimScope(queues: nil, handlers: ["tick"], slots: 1, misfireGrace: 0))
                let claim = try #require(batch.claims.first)
                let end = FinishedRun(claim, runnerID: runner, outcome: .ok, finishedAt: clock.now() + 5)

                #expect(try await store.finish([end]) == [true])
                // The same finish again, as a retry after the connection dropped during COMMIT.
                #expect(try await store.finish([end]) == [true])
                // Another outcome for the same run is not a retry: fenced.
                var other = end
                other.outcome = .failed
                #expect(try await store.finish([other]) == [false])
                // Another runner's claim on the run is fenced too.
                var foreign = end
                foreign.runnerID = runner + 1
                #expect(try await store.finish([foreign]) == [false])

                let status = try await store.status(perJobLimit: nil)
                #expect(status.runsByOutcome[.ok] == 1)
                #expect(status.runsByOutcome[.failed, default: 0] == 0)
                #expect(try await store.job(named: "tick")?.runCount == 1)
                await store.close()
            }
        }

        @Test("every pooled connection has JobRunner's session settings: no JIT, the idle-in-transaction timeout")
        func sessionSettings() async throws {
            try await PostgresTestServer.withDatabase { url in
                let store = try await PostgresJobStore.open(url: url)
                let settings = try await store.client.withConnection { connection in
                    var found: [String: String] = [:]
                    for try await (name, value) in try await connection.query(
                        """
                        SELECT name, setting FROM pg_settings
                        WHERE name IN ('jit', 'idle_in_transaction_session_timeout', 'application_name')
                        """, logger: Self.logger
                    ).decode((String, String).self) {
                        found[name] = value
                    }
                    return found
                }
                #expect(
                    settings == [
                        "jit": "off", "idle_in_transaction_session_timeout": "5000", "application_name": "jobrunner",
                    ])
                await store.close()
            }
        }

        @Test("the default clock is the server's, and never ahead of it")
        func databaseClockIsNeverAheadOfTheServer() async throws {
            try await PostgresTestServer.withDatabase { url in
                let store = try await PostgresJobStore.open(url: url)
                let clock = try #require(store.clock as? DatabaseClock)
                // Same machine: the offset is at most a round trip, far under a second.
                #expect(abs(clock.offsetMicroseconds) < 1_000_000)
                for _ in 0..<20 {
                    let ours = clock.now()
                    var server: Int64 = 0
                    for try await value in try await store.client.query(
                        "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint", logger: Self.logger
                    ).decode(Int64.self) {
                        server = value
                    }
                    #expect(ours <= server, "the database clock read \(ours - server) µs ahead of the server")
                }
                await store.close()
            }
        }

        @Test("a step of this host's wall clock after a measurement moves the database clock by nothing")
        func wallClockStepMovesNothing() async throws {
            try await PostgresTestServer.withDatabase { url in
                let store = try await PostgresJobStore.open(url: url)
                let step = WallClockStep()
                let clock = DatabaseClock(wall: { SystemJobClock().now() + step.micros.load(ordering: .relaxed) })
                try await clock.measure(store.client, samples: 3, logger: Self.logger)
                for jump: Int64 in [300_000_000, -300_000_000] {  // 5 min forward, then back
                    let before = clock.now()
                    step.micros.store(jump, ordering: .relaxed)
                    let after = clock.now()
                    #expect(
                        after >= before && after - before < 1_000_000, "a \(jump) µs step moved it \(after - before) µs"
                    )
                    #expect(
                        abs(clock.offsetMicroseconds + jump) < 1_000_000,
                        "the offset reads \(clock.offsetMicroseconds) µs")
                }
                await store.close()
            }
        }
    }

    /// How far a test has stepped the wall clock it gives a ``DatabaseClock``.
    private final class WallClockStep: Sendable {
        let micros = Atomic<Int64>(0)
    }
#endif
