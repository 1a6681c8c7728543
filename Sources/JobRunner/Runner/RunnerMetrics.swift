import Metrics
import Synchronization

/// The runner's swift-metrics instruments. Their names and labels are part of the product (a
/// `/metrics` endpoint exports them as they are): change none of them without a migration note.
///
/// Always, with labels of bounded cardinality (outcomes, queues):
/// - `jobrunner_runs_total{outcome}`: runs recorded, by outcome.
/// - `jobrunner_run_duration_seconds`: run duration (a timer, nanoseconds).
/// - `jobrunner_run_lateness_seconds`: started minus scheduled (a timer, nanoseconds).
/// - `jobrunner_due_waiting`: jobs due but not yet claimed, sampled at every heartbeat.
/// - `jobrunner_runs_in_flight`: runs this runner is executing now.
/// - `jobrunner_queue_runs_in_flight{queue}`: the same, by queue (one series per queue it has run).
/// - `jobrunner_runners_alive`: runners of the database not declared dead, sampled at every heartbeat.
///
/// Only with ``JobRunnerConfiguration/perJobMetrics`` (one series per job name):
/// - `jobrunner_job_runs_total{job,outcome}`, `jobrunner_job_run_duration_seconds{job}`,
///   `jobrunner_job_run_lateness_seconds{job}`.
///
/// No label ever holds a run id, an error or anything else that grows with the runs.
final class RunnerMetrics: Sendable {
    enum Name {
        static let runs = "jobrunner_runs_total"
        static let duration = "jobrunner_run_duration_seconds"
        static let lateness = "jobrunner_run_lateness_seconds"
        static let dueWaiting = "jobrunner_due_waiting"
        static let inFlight = "jobrunner_runs_in_flight"
        static let queueInFlight = "jobrunner_queue_runs_in_flight"
        static let runnersAlive = "jobrunner_runners_alive"
        static let jobRuns = "jobrunner_job_runs_total"
        static let jobDuration = "jobrunner_job_run_duration_seconds"
        static let jobLateness = "jobrunner_job_run_lateness_seconds"
    }

    /// A job's own instruments, made the first time one of its runs is recorded.
    private struct JobInstruments {
        var runs: [RunOutcome: Counter]
        var duration: Timer
        var lateness: Timer
    }

    private struct InFlight {
        var total = 0
        var byQueue: [String: (count: Int, gauge: Gauge)] = [:]
    }

    private let factory: any MetricsFactory
    private let runs: [RunOutcome: Counter]
    private let duration: Timer
    private let lateness: Timer
    let dueWaiting: Gauge
    let runnersAlive: Gauge
    private let inFlightGauge: Gauge
    private let inFlight = Mutex(InFlight())
    /// Whether the configuration opts in to per-job labels.
    private let perJob: Bool
    private let jobs = Mutex<[String: JobInstruments]>([:])

    /// - Parameters:
    ///   - factory: the backend; the global `MetricsSystem.factory` unless the configuration gives one.
    ///   - perJob: whether to record the per-job series too.
    init(factory: any MetricsFactory = MetricsSystem.factory, perJob: Bool = false) {
        self.factory = factory
        var runs: [RunOutcome: Counter] = [:]
        for outcome in RunOutcome.final {
            runs[outcome] = Counter(label: Name.runs, dimensions: [("outcome", outcome.rawValue)], factory: factory)
        }
        self.runs = runs
        duration = Timer(label: Name.duration, factory: factory)
        lateness = Timer(label: Name.lateness, factory: factory)
        dueWaiting = Gauge(label: Name.dueWaiting, factory: factory)
        runnersAlive = Gauge(label: Name.runnersAlive, factory: factory)
        inFlightGauge = Gauge(label: Name.inFlight, factory: factory)
        inFlightGauge.record(0)
        self.perJob = perJob
    }

    /// A run this runner recorded.
    func record(_ run: FinishedRun) {
        let durationNanos = max(0, run.finishedAt - run.startedAt) * 1000
        let latenessNanos = max(0, run.startedAt - run.scheduledFor) * 1000
        runs[run.outcome]?.increment()
        duration.recordNanoseconds(durationNanos)
        lateness.recordNanoseconds(latenessNanos)
        guard perJob else { return }
        jobs.withLock { jobs in
            let instruments = jobs[run.jobName] ?? makeJobInstruments(run.jobName)
            jobs[run.jobName] = instruments
            instruments.runs[run.outcome]?.increment()
            instruments.duration.recordNanoseconds(durationNanos)
            instruments.lateness.recordNanoseconds(latenessNanos)
        }
    }

    private func makeJobInstruments(_ job: String) -> JobInstruments {
        var runs: [RunOutcome: Counter] = [:]
        for outcome in RunOutcome.final {
            runs[outcome] = Counter(
                label: Name.jobRuns, dimensions: [("job", job), ("outcome", outcome.rawValue)], factory: factory)
        }
        return JobInstruments(
            runs: runs,
            duration: Timer(label: Name.jobDuration, dimensions: [("job", job)], factory: factory),
            lateness: Timer(label: Name.jobLateness, dimensions: [("job", job)], factory: factory))
    }

    /// A run of `queue` began executing on this runner.
    func runStarted(queue: String) {
        inFlight.withLock { state in
            state.total += 1
            inFlightGauge.record(state.total)
            var entry =
                state.byQueue[queue]
                ?? (0, Gauge(label: Name.queueInFlight, dimensions: [("queue", queue)], factory: factory))
            entry.count += 1
            entry.gauge.record(entry.count)
            state.byQueue[queue] = entry
        }
    }

    /// A run of `queue` ended on this runner (whatever its outcome, recorded or not).
    func runEnded(queue: String) {
        inFlight.withLock { state in
            state.total -= 1
            inFlightGauge.record(state.total)
            guard var entry = state.byQueue[queue] else { return }
            entry.count -= 1
            entry.gauge.record(entry.count)
            state.byQueue[queue] = entry
        }
    }
}
