/// A runner process registered in the database.
public struct RunnerRecord: Sendable, Hashable {
    /// The runner id.
    public var id: Int64
    /// The host it runs on.
    public var host: String
    /// Its process id on that host.
    public var pid: Int32
    /// `running`, `draining`, `stopped` or `dead`.
    public var state: String
    /// When it started.
    public var startedAt: UnixMicros
    /// Its last heartbeat.
    public var heartbeatAt: UnixMicros
    /// How long after its last heartbeat it is presumed dead.
    public var lease: Duration
    /// Its worker slots.
    public var concurrency: Int
    /// When it stopped, if it has.
    public var stoppedAt: UnixMicros?
}
