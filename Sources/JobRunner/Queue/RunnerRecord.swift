/// A runner process registered in the database.
public struct RunnerRecord: Sendable, Hashable {
    /// The runner id.
    public package(set) var id: Int64
    /// The host it runs on.
    public package(set) var host: String
    /// Its process id on that host.
    public package(set) var pid: Int32
    /// What it is doing.
    public package(set) var state: RunnerState
    /// When it started.
    public package(set) var startedAt: UnixMicros
    /// Its last heartbeat.
    public package(set) var heartbeatAt: UnixMicros
    /// How long after its last heartbeat it is presumed dead.
    public package(set) var lease: Duration
    /// Its worker slots.
    public package(set) var concurrency: Int
    /// When it stopped, if it has.
    public package(set) var stoppedAt: UnixMicros?
}

/// The life of a runner as the database records it.
public enum RunnerState: String, Sendable, Hashable, CaseIterable {
    /// Claiming and running jobs, renewing its lease.
    case running
    /// Claiming nothing new; its runs in flight are finishing.
    case draining
    /// It stopped and deregistered.
    case stopped
    /// Another process declared it dead (its lease expired, or its process is gone) and rescued its runs.
    case dead
}
