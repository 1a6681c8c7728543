import Foundation
public import Metrics

/// Settings of a ``JobRunner``.
public struct JobRunnerConfiguration: Sendable {
    /// Worker slots: the most runs this runner executes at once (queues' own limits also apply).
    public var concurrency: Int
    /// The queues this runner serves; nil for all.
    public var queues: [String]?
    /// How long a drain lets in-flight runs finish before cancelling them.
    public var drainTimeout: Duration
    /// After cancelling, how long a command gets between SIGTERM and SIGKILL, and how long the
    /// runner waits for cancelled handlers before recording them `interrupted` regardless.
    public var terminationGrace: Duration
    /// How often the runner renews its lease and looks for dead runners.
    public var heartbeatInterval: Duration
    /// How long after its last heartbeat a runner is presumed dead and its runs rescued.
    public var lease: Duration
    /// How the runner notices changes made by other processes (a `jobctl add`, a drain request),
    /// through its store's change feed: for SQLite on Linux, file notifications on the database (no
    /// polling, no idle CPU); elsewhere a check of the database this often. Nil turns it off: such
    /// changes are then noticed only at heartbeats.
    public var changePollInterval: Duration?
    /// How late an occurrence may start before its job's misfire policy counts it as missed.
    public var misfireGrace: Duration
    /// How far ahead of their due time runs are claimed; nil for the store's choice: none for SQLite
    /// (a claim costs microseconds), 100 ms for PostgreSQL (a claim costs milliseconds through the
    /// network, more under load or a checkpoint).
    ///
    /// A run claimed ahead waits in its runner and starts at its due time: the claim's cost is then
    /// not the run's lateness. Meanwhile it counts as in flight (in its queue's limit and in
    /// `jobctl status`). A `pause`, `stop` or `remove` of its job, or a pause of its queue, recalls it
    /// when the runner hears of it (another process's change: a notification on PostgreSQL, the
    /// file on SQLite): it is recorded `interrupted`, not started. At most 1 s, and at most an eighth
    /// of the ``lease``.
    public var claimLead: Duration?
    /// How many bytes of a command's output are kept in the history (the tail).
    public var outputLimit: Int
    /// This host's name (the system's unless given), shown with the runner. Whether another runner
    /// shares this host, so that its pid can be checked and a dead one rescued at once, is decided by
    /// the boot id and PID namespace, never by this name.
    public var host: String
    /// How much run history the runner keeps: by default (``HistoryRetention/standard``) 30 days and
    /// at most 10,000 runs per job, applied every 5 minutes. Nil keeps every run.
    public var historyRetention: HistoryRetention?
    /// What the runner does when a run ends `failed`, `timeout` or `abandoned`: a hook, a command, or
    /// both, rate-limited per job (see ``FailureAlerting``). Nil for nothing.
    public var onFailure: FailureAlerting?
    /// Also record runs, durations and lateness with a `job` label (`jobrunner_job_runs_total{job,outcome}`,
    /// `jobrunner_job_run_duration_seconds{job}`, `jobrunner_job_run_lateness_seconds{job}`): one series
    /// per job name, so only for a bounded, modest number of jobs. Off by default: the standard series
    /// have no per-job labels. See <doc:EmbeddingInAServiceGroup#Metrics>.
    public var perJobMetrics: Bool
    /// Where the runner's metrics go: nil for the global `MetricsSystem.factory` (what
    /// `MetricsSystem.bootstrap` set), or a backend of its own, e.g. to keep a runner's metrics apart
    /// or to read them in a test.
    public var metricsFactory: (any MetricsFactory)?

    /// Creates a configuration.
    public init(
        concurrency: Int = 4,
        queues: [String]? = nil,
        drainTimeout: Duration = .seconds(30),
        terminationGrace: Duration = .seconds(5),
        heartbeatInterval: Duration = .seconds(2),
        lease: Duration = .seconds(10),
        changePollInterval: Duration? = .milliseconds(40),
        misfireGrace: Duration = .seconds(1),
        claimLead: Duration? = nil,
        outputLimit: Int = 4096,
        host: String? = nil,
        historyRetention: HistoryRetention? = .standard,
        onFailure: FailureAlerting? = nil,
        perJobMetrics: Bool = false,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.concurrency = concurrency
        self.queues = queues
        self.drainTimeout = drainTimeout
        self.terminationGrace = terminationGrace
        self.heartbeatInterval = heartbeatInterval
        self.lease = lease
        self.changePollInterval = changePollInterval
        self.misfireGrace = misfireGrace
        self.claimLead = claimLead
        self.outputLimit = outputLimit
        self.host = host ?? ProcessInfo.processInfo.hostName
        self.historyRetention = historyRetention
        self.onFailure = onFailure
        self.perJobMetrics = perJobMetrics
        self.metricsFactory = metricsFactory
    }
}
