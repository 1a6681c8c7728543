/// A stored job: its definition, state, next run and counters.
public struct JobRecord: Sendable, Hashable {
    /// The database id.
    public var id: Int64
    /// The definition as stored.
    public var definition: JobDefinition
    /// The lifecycle state.
    public var state: JobState
    /// Why the job is in its state, when JobRunner changed it (for example paused after repeated abandons).
    public var stateReason: String?
    /// When the next run may start, or nil when none is scheduled.
    public var nextRunAt: UnixMicros?
    /// The schedule slot the next run stands for.
    public var occurrenceAt: UnixMicros?
    /// The attempt number of the next run of that occurrence.
    public var attempt: Int
    /// A manual trigger waiting to run.
    public var triggerAt: UnixMicros?
    /// The run in flight, if any.
    public var runningRunID: Int64?
    /// Finished runs, all outcomes, over the job's life ("called N times so far"); survives history pruning.
    public var runCount: Int64
    /// Runs that ended `ok`.
    public var okCount: Int64
    /// Runs that ended `failed` or `timeout`.
    public var failedCount: Int64
    /// The outcome of the last finished run.
    public var lastOutcome: RunOutcome?
    /// When the last run started.
    public var lastStartedAt: UnixMicros?
    /// When the last run ended.
    public var lastFinishedAt: UnixMicros?
    /// When the job was first added.
    public var createdAt: UnixMicros
    /// When the job was last changed.
    public var updatedAt: UnixMicros
    /// Runs abandoned in a row (the runner died during each); the job is paused when it reaches the limit.
    public var abandonedStreak: Int
    /// The fixed-rate origin: slots are `anchorAt + k × interval`.
    var anchorAt: UnixMicros?
    /// A one-shot job's instant.
    var runAt: UnixMicros?
}
