/// How much run history a runner keeps (``JobRunnerConfiguration/historyRetention``).
///
/// Every ``interval`` the runner deletes finished runs older than ``maxAge`` and, for each job, all
/// but its newest ``maxRunsPerJob`` runs, in short transactions off its claim path, then returns the
/// space to the file system. A run in flight is never deleted, and the counters (each job's runs,
/// ok and failed, and the totals by outcome) are never touched: "called N times so far" survives.
///
/// The default, ``standard``, keeps 30 days and at most 10,000 runs per job: a job that ticks every
/// second keeps its last 2 h 46 min. Set ``JobRunnerConfiguration/historyRetention`` to nil to keep
/// every run.
///
/// ```swift
/// var configuration = JobRunnerConfiguration()
/// configuration.historyRetention = HistoryRetention(maxAge: .seconds(7 * 86_400), maxRunsPerJob: nil)
/// ```
public struct HistoryRetention: Sendable, Hashable {
    /// Runs that finished longer ago than this are deleted; nil: no limit by age.
    public var maxAge: Duration?
    /// Each job keeps at most this many runs, the newest (at least 1); nil: no limit per job. The
    /// history of a removed job is left to ``maxAge``.
    public var maxRunsPerJob: Int?
    /// How often the runner applies the retention (the first time at its first heartbeat).
    public var interval: Duration

    /// Creates a retention; the defaults are those of ``standard``.
    public init(
        maxAge: Duration? = .seconds(30 * 86_400),
        maxRunsPerJob: Int? = 10_000,
        interval: Duration = .seconds(300)
    ) {
        self.maxAge = maxAge
        self.maxRunsPerJob = maxRunsPerJob
        self.interval = interval
    }

    /// 30 days, at most 10,000 runs per job, applied every 5 minutes.
    public static let standard = HistoryRetention()
}
