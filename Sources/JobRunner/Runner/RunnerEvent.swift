/// Something a runner did, published for tests and monitoring through ``JobRunner/events()``.
public enum RunnerEvent: Sendable, Hashable {
    /// The runner registered with this id.
    case registered(runnerID: Int64)
    /// A run was claimed.
    case claimed(runID: Int64, job: String)
    /// A run was recorded with this outcome.
    case finished(runID: Int64, job: String, outcome: RunOutcome)
    /// A finished run could not be recorded because another runner took it over (fenced).
    case fenced(runID: Int64, job: String)
    /// Runs of dead runners were recorded `abandoned`.
    case rescued(runIDs: [Int64])
    /// The runner is idle, waiting until the next due time (nil: nothing scheduled).
    case idle(nextDue: UnixMicros?)
    /// The runner applied its history retention: it deleted `runs` runs, and the database file
    /// shrank by `freedBytes` (published after every pass, also when nothing was deleted).
    case historyPruned(runs: Int, freedBytes: Int64)
    /// The runner could not renew its lease in time and fenced itself: it cancelled its `runs` runs
    /// in flight (before other runners could declare it dead and run them again), and claims
    /// nothing until a heartbeat succeeds.
    case selfFenced(runs: Int)
    /// A heartbeat succeeded after a self-fence: the runner claims again.
    case fenceLifted
    /// Runs the database held as this runner's, claimed by a commit whose acknowledgement never
    /// reached it, were recorded `interrupted` without running.
    case released(runIDs: [Int64])
    /// A drain began.
    case drainBegan
    /// The runner deregistered and is about to return from `run()`.
    case stopped
}
