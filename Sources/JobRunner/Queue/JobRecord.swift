/// A stored job: its definition, state, next run and counters.
public struct JobRecord: Sendable, Hashable {
    /// The database id.
    public package(set) var id: Int64
    /// The definition as stored.
    public package(set) var definition: JobDefinition
    /// The lifecycle state.
    public package(set) var state: JobState
    /// Why the job is in its state, when JobRunner changed it (for example paused after repeated abandons).
    public package(set) var stateReason: String?
    /// When the next run may start, or nil when none is scheduled.
    public package(set) var nextRunAt: UnixMicros?
    /// The schedule slot the next run stands for.
    public package(set) var occurrenceAt: UnixMicros?
    /// The attempt number of the next run of that occurrence.
    public package(set) var attempt: Int
    /// A manual trigger waiting to run.
    public package(set) var triggerAt: UnixMicros?
    /// The run in flight, if any.
    public package(set) var runningRunID: Int64?
    /// Finished runs, all outcomes, over the job's life ("called N times so far"); survives history pruning.
    public package(set) var runCount: Int64
    /// Runs that ended `ok`.
    public package(set) var okCount: Int64
    /// Runs that ended `failed` or `timeout`.
    public package(set) var failedCount: Int64
    /// The outcome of the last finished run.
    public package(set) var lastOutcome: RunOutcome?
    /// When the last run started.
    public package(set) var lastStartedAt: UnixMicros?
    /// When the last run ended.
    public package(set) var lastFinishedAt: UnixMicros?
    /// When the job was first added.
    public package(set) var createdAt: UnixMicros
    /// When the job was last changed.
    public package(set) var updatedAt: UnixMicros
    /// Runs abandoned in a row (the runner died during each); the job is paused when it reaches the limit.
    public package(set) var abandonedStreak: Int
    /// The fixed-rate origin: slots are `anchorAt + k × interval`.
    package var anchorAt: UnixMicros?
    /// A one-shot job's instant.
    package var runAt: UnixMicros?
}
