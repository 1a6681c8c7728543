/// One run of a job, as recorded in the history.
public struct RunRecord: Sendable, Hashable {
    /// The run id.
    public var id: Int64
    /// The job's id, or nil if the job has since been removed.
    public var jobID: Int64?
    /// The job's name when it ran.
    public var jobName: String
    /// 1 for the first attempt of an occurrence, 2 for its first retry, …
    public var attempt: Int
    /// When the run was due.
    public var scheduledFor: UnixMicros
    /// When it started.
    public var startedAt: UnixMicros
    /// When it ended, or nil while running.
    public var finishedAt: UnixMicros?
    /// The runner that ran it.
    public var runnerID: Int64?
    /// How it ended.
    public var outcome: RunOutcome
    /// A command's exit code.
    public var exitCode: Int?
    /// The error text of a failed, timed-out, interrupted or abandoned run.
    public var error: String?
    /// The tail of a command's output.
    public var output: String?
    /// True when started by a manual trigger.
    public var triggered: Bool

    /// Started minus scheduled, in microseconds.
    public var lateness: Int64 { startedAt - scheduledFor }
}
