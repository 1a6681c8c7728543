/// A worker queue: a concurrency limit shared by all runners, and a pause switch.
public struct QueueRecord: Sendable, Hashable {
    /// The queue name.
    public package(set) var name: String
    /// The most runs of this queue in flight at once, across all runners.
    public package(set) var concurrency: Int
    /// True when no new runs of this queue start.
    public package(set) var paused: Bool
    /// Runs of this queue in flight now.
    public package(set) var inFlight: Int

    package init(name: String, concurrency: Int, paused: Bool, inFlight: Int) {
        self.name = name
        self.concurrency = concurrency
        self.paused = paused
        self.inFlight = inFlight
    }
}
