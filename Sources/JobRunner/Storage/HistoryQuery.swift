/// A filter for ``JobStore/history(_:)``.
public struct HistoryQuery: Sendable, Hashable {
    /// Only runs of this job (by name): the runs of every job that had this name.
    public var job: String?
    /// Only runs of the job with this id: not those of an earlier job with the same name.
    public var jobID: Int64?
    /// Only runs started at or after this instant.
    public var since: UnixMicros?
    /// Only runs with this outcome.
    public var outcome: RunOutcome?
    /// At most this many runs, newest first.
    public var limit: Int
    /// Only runs older than this run (with a smaller id): the page after one that ended with it.
    public var before: Int64?
    /// Only runs newer than this run (with a larger id), and of those the `limit` oldest (still
    /// listed newest first): the page before one that began with it.
    public var after: Int64?

    /// Creates a query.
    public init(
        job: String? = nil, jobID: Int64? = nil, since: UnixMicros? = nil, outcome: RunOutcome? = nil, limit: Int = 50,
        before: Int64? = nil, after: Int64? = nil
    ) {
        self.job = job
        self.jobID = jobID
        self.since = since
        self.outcome = outcome
        self.limit = limit
        self.before = before
        self.after = after
    }
}
