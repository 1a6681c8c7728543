#if PostgreSQL
    public import JobRunner
    import Logging
    import PostgresNIO
    import Synchronization

    /// The database server's clock, read locally: a clock that no change of this host's wall clock
    /// moves, plus its measured offset to the server's `clock_timestamp()`. The PostgreSQL store's
    /// default clock, so that runners on hosts whose clocks disagree still agree on leases, due times
    /// and `started_at >= scheduled_for`, and so that a step of one host's wall clock (an NTP step, an
    /// operator's `date -s`) moves nothing: its runner neither runs jobs early nor declares the others
    /// dead, nor looks dead to them.
    ///
    /// The local clock is `ContinuousClock`, which counts through a suspend and is never stepped.
    /// Each measurement reads the server's clock in one round trip and takes the low end of the window
    /// it was read in (the offset as if the server had answered at the end of the round trip): the
    /// clock is never ahead of the server's, and behind it by at most the shortest round trip seen.
    /// The store measures at open (the best of five) and every 30 s after (the best of three), which
    /// follows a step of the server's own clock and the drift between the two.
    public final class DatabaseClock: JobClock {
        /// This host's wall clock, only to start from before the first measurement and to report
        /// the offset.
        private let wall: @Sendable () -> UnixMicros
        /// Microseconds on a clock that wall-clock changes do not move (``ContinuousClock``).
        private let elapsed: @Sendable () -> Int64
        /// The server's clock minus ``elapsed``.
        private let offset: Atomic<Int64>

        /// A clock on `wall` and `elapsed` (tests inject them), which reads `wall` until measured.
        init(
            wall: @escaping @Sendable () -> UnixMicros = { SystemJobClock().now() },
            elapsed: @escaping @Sendable () -> Int64 = DatabaseClock.continuousMicros
        ) {
            self.wall = wall
            self.elapsed = elapsed
            offset = Atomic(wall() - elapsed())
        }

        /// The offset last measured, as the server's clock minus this host's wall clock now, in
        /// microseconds.
        public var offsetMicroseconds: Int64 { now() - wall() }

        public func now() -> UnixMicros { elapsed() + offset.load(ordering: .relaxed) }

        /// Sleeps until this clock reads `deadline`, re-reading the offset at least once a second.
        public func sleep(until deadline: UnixMicros) async throws {
            try await sleep(until: deadline, slicedBy: .seconds(1))
        }

        /// Measures the offset `samples` times on `client` and keeps the one read in the shortest
        /// round trip.
        func measure(_ client: PostgresClient, samples: Int, logger: Logger) async throws {
            var best: (rtt: Int64, offset: Int64)?
            for _ in 0..<samples {
                let sent = elapsed()
                var server: Int64 = 0
                let rows = try await client.withConnection { connection in
                    try await connection.rows(
                        of: "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint", logger: logger)
                }
                for row in rows { server = try row.decode(Int64.self) }
                let received = elapsed()
                let sample = (rtt: received - sent, offset: server - received)
                if let kept = best, kept.rtt <= sample.rtt { continue }
                best = sample
            }
            if let best { offset.store(best.offset, ordering: .relaxed) }
        }

        /// Microseconds since an arbitrary origin on `ContinuousClock`.
        static let continuousMicros: @Sendable () -> Int64 = {
            let origin = ContinuousClock.now
            return { origin.duration(to: .now).microseconds }
        }()
    }
#endif
