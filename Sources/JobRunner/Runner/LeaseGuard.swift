import Synchronization

/// The runner's own view of its lease: when it last renewed it, when the database last failed it,
/// and whether it has fenced itself.
///
/// Other runners declare this one dead once its last heartbeat is older than the lease, and then run
/// its jobs again. A runner that cannot renew (the database is unreachable from its host, while
/// others still reach it) must therefore stop its own runs before that happens, or one job would
/// run twice at once: it fences itself ``fenceAfter(lease:heartbeatInterval:)`` after its last
/// renewal, and claims nothing until a heartbeat succeeds again.
///
/// Time since the renewal is measured on the runner's clock (the database's, for a networked store:
/// the clock the lease is judged by) and on a monotonic clock, and both must agree that the lease is
/// running out: a wall clock that jumps forward does not fence a healthy runner, and a test's manual
/// clock does not fence one whose heartbeats it merely has not advanced to yet.
final class LeaseGuard: Sendable {
    private struct State {
        /// The runner clock's reading when the last successful renewal began (nil: not registered yet).
        var renewedAt: UnixMicros?
        var renewedMono = ContinuousClock.now
        /// When a heartbeat or a rescue last failed.
        var failedAt: UnixMicros?
        /// Whether a rescue was held back since the last one allowed.
        var inGrace = false
        var fenced = false
    }

    /// The lease the runner registered with.
    let lease: Duration
    /// How long after a renewal the runner fences itself.
    let fenceAfter: Duration
    private let state = Mutex(State())

    init(lease: Duration, heartbeatInterval: Duration) {
        self.lease = lease
        self.fenceAfter = Self.fenceAfter(lease: lease, heartbeatInterval: heartbeatInterval)
    }

    /// Two heartbeat intervals before the lease runs out (one beat may fail, the next is the last
    /// chance), but never earlier than half the lease: a lease shorter than four beats fences at half.
    static func fenceAfter(lease: Duration, heartbeatInterval: Duration) -> Duration {
        max(lease - heartbeatInterval * 2, lease / 2)
    }

    /// Whether the runner has fenced itself and waits for a successful heartbeat.
    var isFenced: Bool { state.withLock { $0.fenced } }

    /// A heartbeat (or the registration) that began at `at` (runner clock) and `mono` succeeded.
    ///
    /// - Returns: true if this lifts a fence: the renewal is recent enough that the lease is not
    ///   running out again (a heartbeat that hung through an outage and then went through renews
    ///   the lease only as of when it began, which may be too old to claim again).
    func renewed(at: UnixMicros, mono: ContinuousClock.Instant, now: UnixMicros) -> Bool {
        state.withLock { s in
            s.renewedMono = s.renewedAt == nil ? mono : max(s.renewedMono, mono)
            s.renewedAt = max(s.renewedAt ?? at, at)
            guard s.fenced, !Self.runningOut(s, fenceAfter: fenceAfter, now: now, mono: .now) else { return false }
            s.fenced = false
            return true
        }
    }

    /// A heartbeat or a rescue failed at `now`: the database was unreachable or refused.
    func failed(at now: UnixMicros) {
        state.withLock { s in s.failedAt = max(s.failedAt ?? now, now) }
    }

    /// Fences the runner if its lease is running out and it has not fenced already.
    ///
    /// - Returns: nil if it does not fence; otherwise the time left until the lease expires, as
    ///   other runners will judge it (zero if it has already).
    func fenceIfRunningOut(now: UnixMicros, mono: ContinuousClock.Instant) -> Duration? {
        state.withLock { s in
            guard !s.fenced, let renewedAt = s.renewedAt,
                Self.runningOut(s, fenceAfter: fenceAfter, now: now, mono: mono)
            else { return nil }
            s.fenced = true
            return .microseconds(max(renewedAt + lease.microseconds - now, 0))
        }
    }

    /// When the lease next needs looking at, on the monotonic clock: the time it runs out if no
    /// renewal comes first.
    var nextCheck: ContinuousClock.Instant {
        state.withLock { $0.renewedMono + fenceAfter }
    }

    /// Whether the runner may declare others dead at `now`.
    ///
    /// Not while fenced, and not within one lease after its own last failure to reach the database
    /// (the reconnect grace): when the database comes back after an outage, every runner's heartbeat
    /// is stale, and they must all have had the time to renew before anyone is judged by it.
    func mayRescue(at now: UnixMicros) -> RescueVerdict {
        state.withLock { s in
            if s.fenced { return .fenced }
            if let failedAt = s.failedAt, now < failedAt + lease.microseconds {
                defer { s.inGrace = true }
                return .grace(until: failedAt + lease.microseconds, began: !s.inGrace)
            }
            s.inGrace = false
            return .allowed
        }
    }

    /// What ``mayRescue(at:)`` says.
    enum RescueVerdict: Equatable {
        case allowed
        /// The runner has fenced itself.
        case fenced
        /// Within the reconnect grace, which ends at `until`; `began` the first time it holds a rescue back.
        case grace(until: UnixMicros, began: Bool)
    }

    private static func runningOut(
        _ s: State, fenceAfter: Duration, now: UnixMicros, mono: ContinuousClock.Instant
    ) -> Bool {
        guard let renewedAt = s.renewedAt else { return false }
        return now - renewedAt >= fenceAfter.microseconds && mono - s.renewedMono >= fenceAfter
    }
}
