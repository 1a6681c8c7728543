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
    /// Its settings.
    public let configuration: JobRunnerConfiguration
    let registry: JobRegistry
    let clock: any JobClock
    let logger: Logger
    let control = RunnerControl()
    let metrics: RunnerMetrics
    /// The database's canonical path, given to commands as `JOB_DATABASE`.
    let databasePath: String

    /// Creates a runner. It does nothing until ``run()``.
    ///
    /// - Parameters:
    ///   - store: the database.
    ///   - registry: the handlers it can run; the built-ins are added.
    ///   - configuration: settings.
    ///   - clock: the source of time (``SystemJobClock`` unless testing).
    ///   - logger: where it logs; runs log with `job.name`, `job.run_id` and `job.attempt` metadata.
    public init(
        store: JobStore,
        registry: JobRegistry = JobRegistry(),
        configuration: JobRunnerConfiguration = JobRunnerConfiguration(),
        clock: any JobClock = SystemJobClock(),
        logger: Logger
    ) {
        self.store = store
        var registry = registry
        BuiltinHandlers.register(into: &registry, store: store, clock: clock)
        self.registry = registry
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.metrics = RunnerMetrics()
        self.databasePath = ProcessLiveness.canonicalPath(store.path)
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
        identity.id = try await register()
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
        let monitor = configuration.changePollInterval.flatMap { _ in DatabaseChangeMonitor(databasePath: store.path) }
        // The heartbeat says when history retention is due (no timer of its own: a test's manual
        // clock sees no extra sleeper); the passes run in their own task, so that a long one never
        // delays a heartbeat.
        let retention = configuration.historyRetention.map { _ in
            AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.heartbeatLoop(identity, retentionDue: retention?.continuation) }
            if let retention, let policy = self.configuration.historyRetention {
                group.addTask { await self.retentionLoop(policy, due: retention.stream) }
            }
            if let interval = self.configuration.changePollInterval {
                group.addTask { await self.changeWatcher(identity, monitor: monitor, interval: interval) }
            }
            await self.mainLoop(identity, store: self.store, monitor: monitor)
            group.cancelAll()
        }
        monitor?.stop()
        let stopped = identity.id
        try await retrying("deregister") {
            try await self.store.deregisterRunner(runnerID: stopped, now: self.clock.now())
        }
        logger.info("runner stopped", metadata: ["runner.id": "\(stopped)"])
        control.publish(.stopped)
    }

    private func register() async throws -> Int64 {
        let id = try await store.registerRunner(
            host: configuration.host,
            pid: getpid(),
            lease: configuration.lease,
            queues: configuration.queues,
            concurrency: configuration.concurrency,
            now: clock.now()
        )
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

    // MARK: Main loop

    /// Runs on the store's executor (`store` is isolated), so that its claims and finishes are plain
    /// calls rather than two thread hops each: the tick of a lone periodic job is mostly hops.
    private func mainLoop(
        _ identity: RunnerIdentity, store: isolated JobStore, monitor: DatabaseChangeMonitor?
    ) async {
        var inFlight: [Int64: Claim] = [:]
        var nextDue: UnixMicros?
        var drainDeadline: UnixMicros?
        var drainGrace: Duration?
        var forceDeadline: UnixMicros?
        var backoffUntil: UnixMicros?
        var recordFailures = 0
        let scope = ClaimScope(
            queues: configuration.queues,
            handlers: registry.names,
            slots: 0,
            misfireGrace: configuration.misfireGrace.microseconds
        )
        await withDiscardingTaskGroup { workers in
            var waited = true
            while true {
                // This loop owns the store's executor between its waits. While work keeps it from
                // waiting, let the calls queued behind it (heartbeat, rescue, the embedding service's
                // own) run at every turn, or a busy runner would miss its heartbeats.
                if !waited { await Task.yield() }
                waited = false
                // 1. Record what finished, in one transaction, before freeing the slots.
                // While backing off after a failed write (disk full, locked), leave completions queued.
                let backingOff = backoffUntil.map { clock.now() < $0 } ?? false
                let done = backingOff ? [] : control.takeCompletions()
                if !done.isEmpty {
                    if await record(done) {
                        recordFailures = 0
                        for completion in done { inFlight[completion.claim.runID] = nil }
                    } else {
                        control.restore(done)
                        recordFailures += 1
                        backoffUntil = clock.now() + min(100_000 << min(recordFailures - 1, 6), 5_000_000)
                    }
                }
                let now = clock.now()
                // 2. Drain: no new claims; cancel what outlives the grace period.
                switch control.phase {
                case .none:
                    break
                case .draining(let grace):
                    let deadline = now + Self.boundedMicros(grace ?? configuration.drainTimeout)
                    if let current = drainDeadline {
                        // A later request with a shorter grace (`jobctl drain --grace` after a drain
                        // whose wait ran out) shortens the wait; a longer one never extends it.
                        if grace != drainGrace {
                            drainGrace = grace
                            drainDeadline = min(current, deadline)
                        }
                    } else {
                        drainDeadline = deadline
                        drainGrace = grace
                        await beginDrain(identity, inFlight: inFlight.count)
                    }
                case .stopNow:
                    if drainDeadline == nil { await beginDrain(identity, inFlight: inFlight.count) }
                    drainDeadline = min(drainDeadline ?? now, now)
                }
                if let deadline = drainDeadline {
                    if inFlight.isEmpty { return }
                    if forceDeadline == nil && now >= deadline {
                        logger.info(
                            control.phase == .stopNow
                                ? "stopping now; cancelling in-flight runs"
                                : "grace period over; cancelling in-flight runs",
                            metadata: ["runs": "\(inFlight.count)"])
                        workers.cancelAll()
                        forceDeadline = now + Self.boundedMicros(configuration.terminationGrace) + 1_000_000
                    }
                    if let force = forceDeadline, now >= force {
                        await abandonStuck(Array(inFlight.values), runnerID: identity.id)
                        return
                    }
                } else if backoffUntil.map({ now >= $0 }) ?? true {
                    // 3. Claim as many due runs as there are free slots.
                    backoffUntil = nil
                    let free = configuration.concurrency - inFlight.count
                    if free > 0 {
                        var claimScope = scope
                        claimScope.slots = free
                        do {
                            let runnerID = identity.id
                            let batch = try store.claim(runnerID: runnerID, clock: clock, scope: claimScope)
                            guard batch.runnerAlive else {
                                await reregister(identity, deadID: runnerID)
                                backoffUntil = clock.now() + 50_000
                                continue
                            }
                            nextDue = batch.nextDue
                            let claimedAt = ContinuousClock.now
                            for claim in batch.claims {
                                inFlight[claim.runID] = claim
                                control.publish(.claimed(runID: claim.runID, job: claim.jobName))
                                workers.addTask { await self.execute(claim, runnerID: runnerID, claimedAt: claimedAt) }
                            }
                            if batch.claims.count == free { continue }
                        } catch {
                            logger.warning("claiming failed; retrying", metadata: ["error": "\(error)"])
                            backoffUntil = now + 250_000
                        }
                    }
                }
                // 4. Sleep until the next due time (if a slot is free), a wake-up, or a deadline.
                let slotFree = inFlight.count < configuration.concurrency
                var deadline: UnixMicros? =
                    drainDeadline == nil ? (slotFree ? nextDue : nil) : (forceDeadline ?? drainDeadline)
                if let backoff = backoffUntil {
                    // The next due time is stale while claims are backing off: wait for the backoff.
                    deadline = drainDeadline == nil ? backoff : min(deadline ?? backoff, backoff)
                }
                if control.consumePendingWake() { continue }
                control.publish(.idle(nextDue: deadline))
                // Other processes' commits are reported only while waiting: not this loop's own writes.
                monitor?.arm()
                await wait(until: deadline)
                monitor?.disarm()
                waited = true
            }
        }
    }

    /// A span in microseconds, within 0 and ``JobDefinition/maximumSpan``, so that adding it to an
    /// instant cannot overflow whatever a configuration or a drain request says.
    private static func boundedMicros(_ span: Duration) -> Int64 {
        min(max(span, .zero), JobDefinition.maximumSpan).microseconds
    }

    /// Waits until `deadline` (nil: until woken), or until woken.
    nonisolated(nonsending) private func wait(until deadline: UnixMicros?) async {
        guard let deadline else {
            await control.waitForWake()
            return
        }
        if deadline <= clock.now() { return }
        // One timer task that wakes this loop; the loop itself waits for whichever wake comes first.
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await self.clock.sleep(until: deadline)
                    self.control.wake()
                } catch {
                    // Cancelled: the loop was woken by something else.
                }
            }
            await control.waitForWake()
            group.cancelAll()
        }
    }

    nonisolated(nonsending) private func beginDrain(_ identity: RunnerIdentity, inFlight: Int) async {
        logger.info("draining", metadata: ["runs.in_flight": "\(inFlight)"])
        let id = identity.id
        try? await retrying("mark draining") { try await self.store.markDraining(runnerID: id) }
        // Published once the database says so: `jobctl status` then shows the runner draining.
        control.publish(.drainBegan)
    }

    /// Records completions; false if the database refused (busy, full) and they must be retried.
    nonisolated(nonsending) private func record(_ completions: [Completion]) async -> Bool {
        do {
            let recorded = try await store.finish(completions)
            for (completion, ok) in zip(completions, recorded) {
                let claim = completion.claim
                if ok {
                    metrics.record(completion)
                    control.publish(.finished(runID: claim.runID, job: claim.jobName, outcome: completion.outcome))
                } else {
                    logger.warning(
                        "run was taken over by another runner; its late result is discarded",
                        metadata: ["job.name": "\(claim.jobName)", "job.run_id": "\(claim.runID)"]
                    )
                    control.publish(.fenced(runID: claim.runID, job: claim.jobName))
                }
            }
            return true
        } catch {
            logger.warning(
                "recording runs failed; retrying", metadata: ["error": "\(error)", "runs": "\(completions.count)"])
            return false
        }
    }

    /// Records runs whose handlers ignored cancellation past the termination grace as `interrupted`.
    nonisolated(nonsending) private func abandonStuck(_ claims: [Claim], runnerID: Int64) async {
        guard !claims.isEmpty else { return }
        let now = clock.now()
        let completions = claims.map {
            Completion(
                claim: $0, runnerID: runnerID, outcome: .interrupted, finishedAt: now, exitCode: nil,
                error: "the handler did not stop within the termination grace after cancellation", output: nil
            )
        }
        logger.warning(
            "handlers ignored cancellation; recording them interrupted", metadata: ["runs": "\(claims.count)"])
        _ = await record(completions)
    }

    // MARK: Background loops

    private func heartbeatLoop(_ identity: RunnerIdentity, retentionDue: AsyncStream<Void>.Continuation?) async {
        var nextRetention = clock.now()  // the first pass at the first beat
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: clock.now() + configuration.heartbeatInterval.microseconds)
            } catch {
                return
            }
            do {
                let beatID = identity.id
                let beat = try await store.heartbeat(runnerID: beatID, now: clock.now())
                if !beat.alive { await reregister(identity, deadID: beatID) }

                if beat.drainRequested { control.beginDrain(grace: beat.drainGrace) }
                // A safety net for changes no notification reported: look for due work once per beat.
                control.wake()
                metrics.dueWaiting.record(try await store.dueCount(now: clock.now()))
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
            if let retentionDue, let retention = configuration.historyRetention, clock.now() >= nextRetention {
                nextRetention = clock.now() + retention.interval.microseconds
                retentionDue.yield()
            }
            await rescue(selfID: identity.id)
        }
    }

    /// Applies the history retention each time the heartbeat says it is due, in short transactions
    /// between the main loop's claims (see ``JobStore/applyRetention(_:now:batchSize:)``).
    private func retentionLoop(_ retention: HistoryRetention, due: AsyncStream<Void>) async {
        for await _ in due {
            do {
                let result = try await store.applyRetention(retention, now: clock.now())
                if result.deletedRuns > 0 {
                    logger.info(
                        "pruned run history",
                        metadata: ["runs.deleted": "\(result.deletedRuns)", "bytes.freed": "\(result.freedBytes)"]
                    )
                }
                control.publish(.historyPruned(runs: result.deletedRuns, freedBytes: result.freedBytes))
            } catch {
                logger.warning("pruning run history failed; retrying at the next pass", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Registers again after another runner declared this one dead (it was paused past its lease):
    /// its runs in flight were rescued by then, and their late results are discarded (fenced).
    /// Only one caller registers; the others find the new id.
    nonisolated(nonsending) private func reregister(_ identity: RunnerIdentity, deadID: Int64) async {
        guard identity.beginReregistering(deadID: deadID) else { return }
        logger.warning(
            "this runner was declared dead by another (paused past its lease?); its runs in flight were rescued and their results will be discarded; registering again",
            metadata: ["runner.id": "\(deadID)"]
        )
        do {
            identity.finishReregistering(newID: try await register())
        } catch {
            logger.warning("registering again failed; retrying", metadata: ["error": "\(error)"])
            identity.finishReregistering(newID: nil)
        }
    }

    private func rescue(selfID: Int64) async {
        do {
            let rescued = try await store.rescueDeadRunners(selfID: selfID, host: configuration.host, now: clock.now())
            if !rescued.isEmpty {
                logger.warning("recorded runs of dead runners as abandoned", metadata: ["runs": "\(rescued.count)"])
                control.publish(.rescued(runIDs: rescued))
                control.wake()
            }
        } catch {
            logger.warning("rescue of dead runners failed", metadata: ["error": "\(error)"])
        }
    }

    /// Notices commits by other processes and wakes the main loop: through file notifications where
    /// the platform has them (no idle CPU), else by polling `PRAGMA data_version` every `interval`.
    private func changeWatcher(_ identity: RunnerIdentity, monitor: DatabaseChangeMonitor?, interval: Duration) async {
        var last = (try? await store.dataVersion()) ?? 0
        if let monitor {
            for await _ in monitor.changes {
                await checkForChanges(identity, last: &last)
            }
            return
        }
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: clock.now() + interval.microseconds)
            } catch {
                return
            }
            await checkForChanges(identity, last: &last)
        }
    }

    /// Confirms a change with `PRAGMA data_version` (our own writes do not count), picks up drain
    /// requests, and wakes the main loop to look for newly due work.
    private func checkForChanges(_ identity: RunnerIdentity, last: inout Int64) async {
        guard let version = try? await store.dataVersion(), version != last else { return }
        last = version
        if let request = try? await store.pollControl(runnerID: identity.id, now: clock.now()), request.requested {
            control.beginDrain(grace: request.grace)
        }
        control.wake()
    }

    private func retrying(_ what: String, _ body: @Sendable () async throws -> Void) async throws {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch {
                attempt += 1
                if attempt >= 20 { throw error }
                logger.warning("\(what) failed; retrying", metadata: ["error": "\(error)"])
                try? await clock.sleep(until: clock.now() + 250_000)
            }
        }
    }
}

/// The runner's current id; it changes only if the runner was declared dead and registers again.
final class RunnerIdentity: Sendable {
    private let value = Mutex<(id: Int64, reregistering: Bool)>((0, false))

    var id: Int64 {
        get { value.withLock { $0.id } }
        set { value.withLock { $0.id = newValue } }
    }

    /// True if the caller should register again: the id is still the dead one and nobody else is at it.
    func beginReregistering(deadID: Int64) -> Bool {
        value.withLock { state in
            guard state.id == deadID, !state.reregistering else { return false }
            state.reregistering = true
            return true
        }
    }

    func finishReregistering(newID: Int64?) {
        value.withLock { state in
            if let newID { state.id = newID }
            state.reregistering = false
        }
    }
}
