#if PostgreSQL
    public import JobRunner
    import Logging
    import PostgresNIO
    import Synchronization

    /// The database server's clock, read locally: this host's wall clock plus its measured offset to
    /// the server's `clock_timestamp()`. The PostgreSQL store's default clock, so that runners on hosts
    /// whose clocks disagree still agree on leases, due times and `started_at >= scheduled_for`.
    ///
    /// Each measurement reads the server's clock in one round trip and takes the low end of the window
    /// it was read in (the offset as if the server had answered at the end of the round trip): the
    /// clock is never ahead of the server's, and behind it by at most the shortest round trip seen.
    /// The store measures at open (the best of five) and every 30 s after (the best of three).
    public final class DatabaseClock: JobClock {
        private let local = SystemJobClock()
        private let offset = Atomic<Int64>(0)

        init() {}

        /// The offset last measured: the server's clock minus this host's, in microseconds.
        public var offsetMicroseconds: Int64 { offset.load(ordering: .relaxed) }

        public func now() -> UnixMicros { local.now() + offset.load(ordering: .relaxed) }

        /// Sleeps until this clock reads `deadline`, re-reading the offset at least once a second.
        public func sleep(until deadline: UnixMicros) async throws {
            try await sleep(until: deadline, slicedBy: .seconds(1))
        }

        /// Measures the offset `samples` times on `client` and keeps the one read in the shortest
        /// round trip.
        func measure(_ client: PostgresClient, samples: Int, logger: Logger) async throws {
            var best: (rtt: Int64, offset: Int64)?
            for _ in 0..<samples {
                let sent = local.now()
                var server: Int64 = 0
                let rows = try await client.withConnection { connection in
                    try await connection.rows(
                        of: "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint", logger: logger)
                }
                for row in rows { server = try row.decode(Int64.self) }
                let received = local.now()
                let sample = (rtt: received - sent, offset: server - received)
                if let kept = best, kept.rtt <= sample.rtt { continue }
                best = sample
            }
            if let best { offset.store(best.offset, ordering: .relaxed) }
        }
    }
#endif
