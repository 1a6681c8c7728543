#if Dashboard
    import JobRunner
    import Prometheus

    /// `jobctl serve`'s `/metrics`: values read from the database at each scrape, in a registry made
    /// for that scrape (so a removed queue disappears, and nothing is cached between scrapes).
    ///
    /// Labels are bounded: `outcome` and `state` take a fixed set of values; `queue` one per queue,
    /// at most ``maximumQueues`` (the first by name; `jobrunner_queues_omitted` counts the rest). No
    /// label names a job or a run.
    enum DashboardMetrics {
        /// The most queues given a `queue` label.
        static let maximumQueues = 100

        /// `jobrunner_NAME[_UNIT]` with its help text.
        private static func name(_ name: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "jobrunner", metricName: name, unitName: unit, helpText: help)
        }

        static func scrape(_ store: JobStore) async throws -> String {
            let status = try await store.status(perJobLimit: 0)
            let queues = try await store.queues().sorted { $0.name < $1.name }
            let registry = PrometheusCollectorRegistry()
            let runs = name(
                "runs", unit: "total",
                "Runs recorded, by outcome, over the database's life (pruning keeps these counts).")
            for outcome in RunOutcome.final {
                registry.makeCounter(descriptor: runs, labels: [("outcome", outcome.rawValue)])
                    .increment(by: status.runsByOutcome[outcome] ?? 0)
            }
            let jobs = name("jobs", "Jobs, by state.")
            for state in JobState.allCases {
                registry.makeGauge(descriptor: jobs, labels: [("state", state.rawValue)])
                    .set(Int64(status.jobsByState[state] ?? 0))
            }
            registry.makeGauge(descriptor: name("due_waiting", "Jobs due but not yet claimed.")).set(Int64(status.due))
            registry.makeGauge(descriptor: name("in_flight", "Runs in flight.")).set(Int64(status.inFlight))
            registry.makeGauge(descriptor: name("runners_alive", "Runners running or draining."))
                .set(Int64(status.liveRunners.count))
            let inFlight = name("queue_in_flight", "Runs in flight, by queue.")
            let concurrency = name("queue_concurrency", "The queue's concurrency limit.")
            let paused = name("queue_paused", "1 when the queue is paused.")
            for queue in queues.prefix(maximumQueues) {
                let labels = [("queue", queue.name)]
                registry.makeGauge(descriptor: inFlight, labels: labels).set(Int64(queue.inFlight))
                registry.makeGauge(descriptor: concurrency, labels: labels).set(Int64(queue.concurrency))
                registry.makeGauge(descriptor: paused, labels: labels).set(Int64(queue.paused ? 1 : 0))
            }
            registry.makeGauge(descriptor: name("queues_omitted", "Queues beyond the label bound, not shown."))
                .set(Int64(max(0, queues.count - maximumQueues)))
            return registry.emitToString()
        }
    }
#endif
