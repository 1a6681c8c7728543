/// A worker queue: a concurrency limit shared by all runners, and a pause switch.
public struct QueueRecord: Sendable, Hashable {
    /// The queue name.
    public var name: String
    /// The most runs of this queue in flight at once, across all runners.
    public var concurrency: Int
    /// True when no new runs of this queue start.
    public var paused: Bool
    /// Runs of this queue in flight now.
    public var inFlight: Int
}
