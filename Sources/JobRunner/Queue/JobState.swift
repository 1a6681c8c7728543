/// The lifecycle state of a job.
public enum JobState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Scheduled: runs when due.
    case active
    /// Kept with its schedule, but not run until resumed.
    case paused
    /// No further runs (until resumed).
    case stopped
    /// A one-shot job that has finished.
    case done
}
