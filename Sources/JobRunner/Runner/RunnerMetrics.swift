import Metrics

/// The runner's swift-metrics instruments.
///
/// - `jobrunner_runs_total{outcome}`: runs recorded, by outcome.
/// - `jobrunner_run_duration_seconds`: run duration (a timer, nanoseconds).
/// - `jobrunner_run_lateness_seconds`: started minus scheduled (a timer, nanoseconds).
/// - `jobrunner_due_waiting`: jobs due but not yet claimed, sampled when the runner looks.
struct RunnerMetrics: Sendable {
    private let runs: [RunOutcome: Counter]
    private let duration = Timer(label: "jobrunner_run_duration_seconds")
    private let lateness = Timer(label: "jobrunner_run_lateness_seconds")
    let dueWaiting = Gauge(label: "jobrunner_due_waiting")

    init() {
        var runs: [RunOutcome: Counter] = [:]
        for outcome in RunOutcome.final {
            runs[outcome] = Counter(label: "jobrunner_runs_total", dimensions: [("outcome", outcome.rawValue)])
        }
        self.runs = runs
    }

    func record(_ run: FinishedRun) {
        runs[run.outcome]?.increment()
        duration.recordNanoseconds(max(0, run.finishedAt - run.startedAt) * 1000)
        lateness.recordNanoseconds(max(0, run.startedAt - run.scheduledFor) * 1000)
    }
}
