/// How a run ended (or `running` while it is in flight).
public enum RunOutcome: String, Sendable, Hashable, CaseIterable, Codable {
    /// In flight.
    case running
    /// The handler returned, or the command exited 0.
    case ok
    /// The handler threw, or the command exited non-zero, or could not be started.
    case failed
    /// The run outlasted its timeout and was cancelled.
    case timeout
    /// The run was cancelled by a drain or shutdown; it is rescheduled and does not count as a failure.
    case interrupted
    /// The runner died during the run; another runner recorded it and rescheduled the job.
    case abandoned

    /// The outcomes that end a run.
    public static let final: [RunOutcome] = [.ok, .failed, .timeout, .interrupted, .abandoned]
}
