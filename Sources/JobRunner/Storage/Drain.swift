/// A drain asked of every live runner (``JobStore/requestDrain(grace:)``).
package struct DrainRequest: Sendable {
    /// The runners asked.
    package var runners: [RunnerRecord]
    /// When they were asked.
    package var requestedAt: UnixMicros

    package init(runners: [RunnerRecord], requestedAt: UnixMicros) {
        self.runners = runners
        self.requestedAt = requestedAt
    }
}

/// How a drain is going (``JobStore/drainProgress(runnerIDs:since:)``).
package struct DrainProgress: Sendable {
    /// The runners asked that are still running or draining.
    package var live: [RunnerRecord]
    /// Their runs in flight.
    package var inFlight: Int
    /// What their runs that ended since the request came to.
    package var outcomes: [RunOutcome: Int]

    package init(live: [RunnerRecord], inFlight: Int, outcomes: [RunOutcome: Int]) {
        self.live = live
        self.inFlight = inFlight
        self.outcomes = outcomes
    }
}
