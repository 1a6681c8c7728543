/// A drain asked of every live runner (``JobStore/requestDrain(grace:)``).
public struct DrainRequest: Sendable {
    /// The runners asked.
    public var runners: [RunnerRecord]
    /// When they were asked.
    public var requestedAt: UnixMicros
}

/// How a drain is going (``JobStore/drainProgress(runnerIDs:since:)``).
public struct DrainProgress: Sendable {
    /// The runners asked that are still running or draining.
    public var live: [RunnerRecord]
    /// Their runs in flight.
    public var inFlight: Int
    /// What their runs that ended since the request came to.
    public var outcomes: [RunOutcome: Int]
}
