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
                    let server = try await Self.serverMicros(store)
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

        @Test("a heartbeat reads the server's clock: a step is followed within one heartbeat, and logged")
        func heartbeatFollowsAClockStep() async throws {
            try await PostgresTestServer.withDatabase { url in
                let step = ElapsedStub()
                let clock = DatabaseClock(elapsed: {
                    DatabaseClock.continuousMicros() + step.micros.load(ordering: .relaxed)
                })
                let notices = NoticeLog()
                let logger = Logger(label: "test") { _ in notices }
                let store = try await PostgresJobStore.open(url: url, clock: clock, logger: logger)
                #expect(store.databaseClock === clock, "a database clock given is the one measured")
                let runner = try await store.registerRunner(
                    RunnerRegistration(
                        host: HostIdentity(name: "h", bootID: "b", pidNamespace: "n"), pid: 1, lease: .seconds(60),
                        queues: nil, concurrency: 1),
                    now: clock.now())

                // The clock that wall-clock changes do not move steps 5 s forward: to the store that is a
                // step of the server's clock 5 s back, which only a new reading can show.
                step.micros.store(5_000_000, ordering: .relaxed)
                let ahead = try await Self.serverMicros(store)
                #expect(clock.now() - ahead > 4_000_000, "before the heartbeat the clock reads 5 s ahead")

                #expect(try await store.heartbeat(runnerID: runner, now: clock.now()).alive)
                let ours = clock.now()
                let server = try await Self.serverMicros(store)
                #expect(ours <= server && server - ours < 1_000_000, "after it, \(ours - server) µs from the server")
                let moved = notices.messages.filter {
                    $0.message == "the database server's clock moved against this host's"
                }
                #expect(moved.count == 1)
                let movedBy = try #require(moved.first?.metadata["clock.moved_us"].flatMap { Int64("\($0)") })
                #expect(movedBy < -4_000_000 && movedBy > -6_000_000, "logged a move of \(movedBy) µs")
                await store.close()
            }
        }

        @Test("the change feed reports once its LISTEN takes effect, then every notification, waiting or not")
        func changeFeedReportsFromItsStart() async throws {
            try await PostgresTestServer.withDatabase { url in
                let store = try await PostgresJobStore.open(url: url)
                let feed = store.changeFeed(pollInterval: .seconds(1), clock: store.clock)
                let reports = BackendConformance.Mailbox<Void>()
                let task = Task { await feed.run { reports.post(()) } }
                // Nothing changed: the first report says the feed listens, so that what was sent before
                // (a job added as a runner starts) is looked for.
                #expect(await reports.next(within: .seconds(10)) != nil, "no report once the feed listened")
                // A runner disarms the feed while it claims; an operator's add then is still news.
                feed.disarm()
                _ = try await store.add(
                    JobDefinition(name: "added", action: .handler("h"), schedule: .at(1)), replace: false)
                #expect(await reports.next(within: .seconds(10)) != nil, "an add during a claim was not reported")
                task.cancel()
                await task.value
                await store.close()
            }
        }

        /// The server's `clock_timestamp()` in Unix microseconds.
        static func serverMicros(_ store: PostgresJobStore) async throws -> Int64 {
            var server: Int64 = 0
            for try await value in try await store.client.query(
                "SELECT \(unescaped: DatabaseClock.serverMicrosSQL)", logger: logger
            ).decode(Int64.self) {
                server = value
            }
            return server
        }
    }

    @Suite("The database clock's window")
    struct DatabaseClockWindowTests {
        @Test("a reading brackets the offset by its round trip, and readings narrow it; a slow one cannot widen it")
        func readingsNarrowTheWindow() {
            let elapsed = ElapsedStub()
            let clock = DatabaseClock(wall: { 0 }, elapsed: { elapsed.micros.load(ordering: .relaxed) })
            // Sent at 0, the server read 1,000,000, received at 5,000: the offset is 995,000 to 1,000,000.
            let first = OffsetWindow(sent: 0, server: 1_000_000, received: 5_000)
            #expect(first == OffsetWindow(low: 994_999, high: 1_000_001))
            #expect(clock.adopt(first, at: 5_000) == .init(window: first, moved: nil))
            #expect(clock.uncertaintyMicroseconds == 5_002)
            elapsed.micros.store(5_000, ordering: .relaxed)
            #expect(clock.now() == 999_999, "the low end: as if the server answered as the reading came back")

            // A quick reading a second later inside it narrows the window to its own (plus 21 µs of drift).
            let quick = OffsetWindow(low: 997_000, high: 997_300)
            elapsed.micros.store(1_005_000, ordering: .relaxed)
            #expect(clock.adopt(quick, at: 1_005_000) == .init(window: quick, moved: nil))
            #expect(clock.now() == 1_005_000 + 997_000)

            // A slow reading 30 s later keeps the narrow window, widened by 20 ppm of 30 s on each side.
            let slow = OffsetWindow(low: 900_000, high: 1_100_000)
            let kept = clock.adopt(slow, at: 31_005_000)
            #expect(kept == .init(window: OffsetWindow(low: 997_000 - 601, high: 997_300 + 601), moved: nil))
            let widened: Int64 = 300 + 2 * 601
            #expect(clock.uncertaintyMicroseconds == widened)

            // A reading outside it (the server's clock stepped 50 s) starts again from that reading.
            let stepped = OffsetWindow(low: 50_997_000, high: 50_997_400)
            let moved = clock.adopt(stepped, at: 31_006_000)
            #expect(moved == .init(window: stepped, moved: 50_997_000 - 996_399))
            #expect(clock.uncertaintyMicroseconds == 400)
        }

        @Test("windows that do not meet have no intersection")
        func disjointWindows() {
            let window = OffsetWindow(low: 0, high: 10)
            #expect(window.intersection(OffsetWindow(low: 10, high: 20)) == OffsetWindow(low: 10, high: 10))
            #expect(window.intersection(OffsetWindow(low: 11, high: 20)) == nil)
            #expect(window.intersection(OffsetWindow(low: -5, high: 3)) == OffsetWindow(low: 0, high: 3))
        }
    }

    /// Microseconds on the stand-in for ``ContinuousClock`` a test gives a ``DatabaseClock``.
    private final class ElapsedStub: Sendable {
        let micros = Atomic<Int64>(0)
    }

    /// The messages logged at notice level or above, with their metadata.
    private struct NoticeLog: LogHandler {
        private final class Store: Sendable {
            let logged = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
        }
        private let store = Store()
        var messages: [(message: String, metadata: Logger.Metadata)] { store.logged.withLock { $0 } }
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .notice

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            store.logged.withLock { $0.append((event.message.description, event.metadata ?? [:])) }
        }
    }

    /// How far a test has stepped the wall clock it gives a ``DatabaseClock``.
    private final class WallClockStep: Sendable {
        let micros = Atomic<Int64>(0)
    }
#endif
