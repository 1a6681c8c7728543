import Foundation
public import Logging
import Metrics
public import ServiceLifecycle
import Synchronization

/// Claims due jobs from a ``JobStore``, runs them on bounded worker slots, records each run and
/// re-queues periodic work; drains gracefully. A swift-service-lifecycle `Service`.
///
/// ```swift
/// var registry = JobRegistry()
/// registry.register("prune-sessions") { context in try await sessions.prune() }
/// let store = try await JobStore.open(path: "jobs.sqlite")
/// try await store.declare(JobDefinition(name: "prune", action: .handler("prune-sessions"), schedule: .every(.seconds(300))))
/// let runner = JobRunner(store: store, registry: registry, logger: logger)
/// let group = ServiceGroup(services: [runner], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// - Important: A graceful shutdown (or ``drain(grace:)``, or `jobctl drain`) stops claiming, lets
///   in-flight runs finish within ``JobRunnerConfiguration/drainTimeout``, then cancels what is left
///   (handlers by task cancellation, commands by SIGTERM then SIGKILL) and records it `interrupted`;
///   the next occurrence of every job is already persisted. Cancelling the task running ``run()``
///   (a second signal) skips the grace period. A handler that ignores cancellation is recorded
///   `interrupted` once ``JobRunnerConfiguration/terminationGrace`` has passed, but `run()` returns
///   only when it ends.
public final class JobRunner: Service {
    /// The store it works on.
    public let store: JobStore
    /// The store's backend, which the loops call directly.
    let backend: any JobStoreBackend
    /// Its settings.
    public let configuration: JobRunnerConfiguration
    let registry: JobRegistry
    let clock: any JobClock
    let logger: Logger
    let control = RunnerControl()
    let metrics: RunnerMetrics
    /// Its lease as it sees it: renewals, failures to reach the database, self-fencing.
    let lease: LeaseGuard
    /// Failure alerts waiting to be delivered: to the configured policy's targets and to jobs' own
    /// commands (``JobDefinition/onFailure``), so there is always a queue.
    let alerts: AlertQueue

    /// Creates a runner. It does nothing until ``run()``.
    ///
    /// - Parameters:
    ///   - store: the database.
    ///   - registry: the handlers it can run; the built-ins are added.
    ///   - configuration: settings.
    ///   - clock: the source of time; by default the store's (``JobStore/clock``), so that the store
    ///     and the runner never disagree.
    ///   - logger: where it logs; runs log with `job.name`, `job.run_id` and `job.attempt` metadata.
    public init(
        store: JobStore,
        registry: JobRegistry = JobRegistry(),
        configuration: JobRunnerConfiguration = JobRunnerConfiguration(),
        clock: (any JobClock)? = nil,
        logger: Logger
    ) {
        let clock = clock ?? store.clock
        self.store = store
        self.backend = store.backend
        var registry = registry
        BuiltinHandlers.register(into: &registry, backend: store.backend, clock: clock)
        self.registry = registry
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.metrics = RunnerMetrics(
            factory: configuration.metricsFactory ?? MetricsSystem.factory, perJob: configuration.perJobMetrics)
        self.lease = LeaseGuard(lease: configuration.lease, heartbeatInterval: configuration.heartbeatInterval)
        self.alerts = AlertQueue(interval: (configuration.onFailure ?? FailureAlerting()).interval)
    }

    /// Starts a graceful drain: stop claiming, let in-flight runs finish within `grace`
    /// (default ``JobRunnerConfiguration/drainTimeout``), then cancel the rest. ``run()`` returns when done.
    public func drain(grace: Duration? = nil) {
        control.beginDrain(grace: grace)
    }

    /// A stream of what the runner does, for tests and monitoring. Ends when the runner stops.
    public func events() -> AsyncStream<RunnerEvent> { control.subscribe() }

    /// Runs until drained, shut down gracefully, or cancelled. Call it once.
    ///
    /// - Throws: ``JobRunnerError`` if called twice, or a store error if the runner cannot register.
    public func run() async throws {
        guard control.markStarted() else {
            throw JobRunnerError.invalidState("a JobRunner can run only once; create a new one")
        }
        defer { control.finishEvents() }
        let identity = RunnerIdentity()
        do {
            identity.id = try await register()
        } catch {
            throw backend.publicError(error)
        }
        await rescue(selfID: identity.id)
        // Cancelling run() must not cancel the wind-down itself: the loops need working sleeps to give
        // commands their SIGTERM-to-SIGKILL grace, to keep heartbeating and to record what they
        // interrupted. So they run in a task that inherits task-locals (logger, graceful shutdown) but
        // not cancellation, and cancellation of run() is forwarded as "stop now", which cancels the
        // workers. run() still returns only after that task has finished: nothing outlives it.
        let loops = Task { try await self.runLoops(identity) }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await loops.value
            } onGracefulShutdown: {
                self.control.beginDrain(grace: nil)
            }
        } onCancel: {
            self.control.stopNow()
        }
    }

    private func runLoops(_ identity: RunnerIdentity) async throws {
        let feed = configuration.changePollInterval.map { backend.changeFeed(pollInterval: $0, clock: clock) }
        // The heartbeat says when history retention is due (no timer of its own: a test's manual
        // clock sees no extra sleeper); the passes run in their own task, so that a long one never
        // delays a heartbeat.
        let retention = configuration.historyRetention.map { _ in
            AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.heartbeatLoop(identity, retentionDue: retention?.continuation) }
            group.addTask { await self.leaseWatch() }
            if let retention, let policy = self.configuration.historyRetention {
                group.addTask { await self.retentionLoop(policy, due: retention.stream) }
            }
            if let feed {
                group.addTask { await feed.run { await self.otherProcessChanged(identity) } }
            }
            group.addTask {
                await self.alertLoop(self.configuration.onFailure ?? FailureAlerting(), queue: self.alerts)
            }
            await self.mainLoop(identity, store: self.backend, feed: feed)
            // Alerts still being delivered are cancelled with the other loops (a command gets SIGTERM).
            self.alerts.finish()
            group.cancelAll()
        }
        let stopped = identity.id
        try await retrying("deregister") {
            try await self.backend.deregisterRunner(runnerID: stopped, now: self.clock.now())
        }
        logger.info("runner stopped", metadata: ["runner.id": "\(stopped)"])
        control.publish(.stopped)
    }

    /// This host, under the configured name.
    var host: HostIdentity { HostIdentity.current.named(configuration.host) }

    /// Registers this runner in the database and renews its lease from then.
    ///
    /// With `limit`, a registration that does not answer in time throws ``DeadlineExceeded`` (it may
    /// still commit later: a row nobody renews, declared dead once its lease has run out).
    func register(within limit: Duration? = nil) async throws -> Int64 {
        let registration = RunnerRegistration(
            host: host, pid: getpid(), lease: configuration.lease, queues: configuration.queues,
            concurrency: configuration.concurrency)
        let (now, mono) = (clock.now(), ContinuousClock.now)
        let backend = self.backend
        let id =
            if let limit {
                try await withDeadline(limit) { try await backend.registerRunner(registration, now: now) }
            } else {
                try await backend.registerRunner(registration, now: now)
            }
        _ = lease.renewed(at: now, mono: mono, now: clock.now())
        logger.info(
            "runner started",
            metadata: [
                "runner.id": "\(id)", "runner.concurrency": "\(configuration.concurrency)",
                "runner.queues": "\(configuration.queues?.joined(separator: ",") ?? "*")",
            ]
        )
        control.publish(.registered(runnerID: id))
        return id
    }
}
