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
    /// Each reading of the server's clock brackets the offset in a window as wide as its round trip:
    /// the server answered somewhere between sending and receiving. The clock keeps the intersection
    /// of the windows it has read (each older one widened by 20 ppm of its age for drift), and reads
    /// the low end of it: it is never ahead of the server's clock, and behind it by at most the
    /// window's width (``uncertaintyMicroseconds``), which a slow round trip cannot widen again. The
    /// store measures at open (until the window is 1 ms wide, at most 20 readings), every 30 s
    /// after (three readings), and reads the server's clock in every heartbeat's statement (one
    /// reading, timed around the statement). A reading that falls outside the window means that one of the two
    /// clocks moved (a step of the server's clock, drift beyond the allowance): the clock then
    /// starts again from that reading.
    public final class DatabaseClock: JobClock {
        /// This host's wall clock, only to start from before the first measurement and to report
        /// the offset.
        private let wall: @Sendable () -> UnixMicros
        /// Microseconds on a clock that wall-clock changes do not move (``ContinuousClock``).
        private let elapsed: @Sendable () -> Int64
        /// The server's clock minus ``elapsed``: the low end of ``known``'s window.
        private let offset: Atomic<Int64>
        /// The window the offset is known to lie in, and when (on ``elapsed``) it was measured.
        private let known = Mutex<(window: OffsetWindow, at: Int64)?>(nil)

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

        /// The window the offset is known to lie in, the width of ``offsetMicroseconds``'s doubt: this
        /// clock is behind the server's by at most this many microseconds; `nil` until measured.
        public var uncertaintyMicroseconds: Int64? { known.withLock { $0?.window.width } }

        /// What a measurement found.
        struct Measurement: Equatable {
            /// The window kept: the offset is its low end.
            var window: OffsetWindow
            /// How far the offset moved because the readings fell outside the window kept before (a
            /// clock moved), or `nil`.
            var moved: Int64?
        }

        /// Reads the server's clock on `client` at least `samples` times, and until the window is
        /// `goal` wide or `samples + extra` readings were taken, then keeps what they show.
        @discardableResult
        func measure(
            _ client: PostgresClient, samples: Int, extra: Int = 0, goal: Int64 = 1_000, logger: Logger
        ) async throws -> Measurement {
            var window: OffsetWindow?
            for taken in 0..<(samples + extra) {
                if taken >= samples, let window, window.width <= goal { break }
                let sent = elapsed()
                var server: Int64 = 0
                let rows = try await client.withConnection { connection in
                    try await connection.rows(of: "SELECT \(unescaped: Self.serverMicrosSQL)", logger: logger)
                }
                for row in rows { server = try row.decode(Int64.self) }
                let reading = OffsetWindow(sent: sent, server: server, received: elapsed())
                // Readings that do not meet mean that the server's clock was stepped meanwhile: the
                // latest counts.
                window = window.flatMap { $0.intersection(reading) } ?? reading
            }
            guard let window else { preconditionFailure("a measurement takes at least one reading") }
            return adopt(window, at: elapsed())
        }

        /// Keeps what a measurement at `at` (on ``elapsed``) read: the intersection with the window
        /// known before, widened for the drift since, or the new window alone if they do not meet.
        func adopt(_ measured: OffsetWindow, at: Int64) -> Measurement {
            known.withLock { known in
                var result = Measurement(window: measured, moved: nil)
                if let previous = known {
                    let drift = max(0, at - previous.at) * Self.driftPerMillion / 1_000_000 + 1
                    if let both = previous.window.widened(by: drift).intersection(measured) {
                        result.window = both
                    } else {
                        result.moved = measured.low - previous.window.low
                    }
                }
                known = (result.window, at)
                offset.store(result.window.low, ordering: .relaxed)
                return result
            }
        }

        /// Logs a move of the offset of at least 100 ms, as a notice: the server's clock (or this
        /// host's elapsed-time clock) was stepped, or they drifted apart beyond the allowance.
        func report(_ measured: Measurement, logger: Logger) {
            guard let moved = measured.moved, abs(moved) >= 100_000 else { return }
            logger.notice(
                "the database server's clock moved against this host's",
                metadata: ["clock.moved_us": "\(moved)", "clock.within_us": "\(measured.window.width)"])
        }

        /// Microseconds on the clock that wall-clock changes do not move, to time a reading taken
        /// in another statement (the heartbeat's).
        func elapsedMicros() -> Int64 { elapsed() }

        /// The server's clock in Unix microseconds, as an SQL expression.
        static let serverMicrosSQL = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"

        /// How fast the two clocks are assumed to drift apart at most, in parts per million, when a
        /// window is carried forward (quartz is within 50 ppm; NTP keeps both far closer).
        static let driftPerMillion: Int64 = 20

        /// Microseconds since an arbitrary origin on `ContinuousClock`.
        static let continuousMicros: @Sendable () -> Int64 = {
            let origin = ContinuousClock.now
            return { origin.duration(to: .now).microseconds }
        }()
    }

    /// Where the offset of the server's clock to a local one lies: `low...high`, in microseconds.
    struct OffsetWindow: Equatable, Sendable {
        var low: Int64
        var high: Int64

        var width: Int64 { high - low }

        /// The window of one reading: the server read its clock at `server` somewhere between `sent`
        /// and `received` (local), give or take the microsecond it was rounded to.
        init(sent: Int64, server: Int64, received: Int64) {
            low = server - received - 1
            high = server - sent + 1
        }

        init(low: Int64, high: Int64) {
            self.low = low
            self.high = high
        }

        func intersection(_ other: OffsetWindow) -> OffsetWindow? {
            let both = OffsetWindow(low: max(low, other.low), high: min(high, other.high))
            return both.low <= both.high ? both : nil
        }

        func widened(by micros: Int64) -> OffsetWindow { OffsetWindow(low: low - micros, high: high + micros) }
    }
#endif
