import Foundation
import Logging

extension JobRunner {
    /// Claims, starts and records runs until drained.
    ///
    /// Runs on the backend's executor (`store` is isolated), so that for SQLite its claims and
    /// finishes are plain calls rather than two thread hops each: the tick of a lone periodic job is
    /// mostly hops.
    func mainLoop<Store: JobStoreBackend>(
        _ identity: RunnerIdentity, store: isolated Store, feed: (any StoreChangeFeed)?
    ) async {
        var state = RunLoopState()
        let lead = claimLead(store.defaultClaimLead)
        let scope = ClaimScope(
            queues: configuration.queues,
            handlers: registry.names,
            slots: 0,
            misfireGrace: configuration.misfireGrace.microseconds,
            lead: lead.microseconds
        )
        // With a lead, the loop wakes half of it before the next due time and claims up to a whole
        // lead ahead: each claim then takes half a lead's worth of runs, not one run per due time.
        let wakeAhead = (lead / 2).microseconds
        await withDiscardingTaskGroup { workers in
            var waited = true
            while true {
                // This loop owns the store's executor between its waits. While work keeps it from
                // waiting, let the calls queued behind it (heartbeat, rescue, the embedding service's
                // own) run at every turn, or a busy runner would miss its heartbeats.
                if !waited { await Task.yield() }
                waited = false
                // 1. Record what finished, in one transaction, before freeing the slots.
                // While backing off after a failed write (disk full, locked), leave them queued.
                let done = state.isBackingOff(at: clock.now()) ? [] : control.takeCompletions()
                if !done.isEmpty {
                    if await record(done, store: store) {
                        state.recorded(done)
                    } else {
                        control.restore(done)
                        state.recordingFailed(at: clock.now())
                    }
                }
                // A heartbeat listed the runs the database holds as this runner's: any this loop does
                // not have in flight was claimed by a commit whose acknowledgement was lost.
                if let held = control.takeHeldByDatabase() {
                    await releaseUnknown(held.runIDs.filter { state.inFlight[$0] == nil }, runnerID: held.runnerID)
                }
                let now = clock.now()
                // 2. Drain: no new claims; cancel what outlives the grace period.
                if state.apply(control.phase, at: now, drainTimeout: configuration.drainTimeout) == .began {
                    await beginDrain(identity, inFlight: state.inFlight.count)
                }
                switch state.verdict(at: now, terminationGrace: configuration.terminationGrace) {
                case .finished:
                    return
                case .abandonStuck:
                    await abandonStuck(Array(state.inFlight.values), runnerID: identity.id)
                    return
                case .cancelRuns:
                    logger.info(
                        control.phase == .stopNow
                            ? "stopping now; cancelling in-flight runs"
                            : "grace period over; cancelling in-flight runs",
                        metadata: ["runs": "\(state.inFlight.count)"])
                    workers.cancelAll()
                case .proceed:
                    break
                }
                // 3. Claim as many due runs as there are free slots.
                // A runner that fenced itself claims nothing until a heartbeat renews its lease.
                let fenced = control.isFenced
                let free = configuration.concurrency - state.inFlight.count
                if !fenced, state.mayClaim(at: now), free > 0 {
                    var claimScope = scope
                    claimScope.slots = free
                    do {
                        let runnerID = identity.id
                        let batch = try await store.claim(runnerID: runnerID, clock: clock, scope: claimScope)
                        guard batch.runnerAlive else {
                            await reregister(identity, deadID: runnerID)
                            state.holdClaims(for: RunLoopState.reregisterBackoff, at: clock.now())
                            continue
                        }
                        state.nextDue = batch.nextDue.map { $0 - wakeAhead }
                        let claimedAt = ContinuousClock.now
                        for claim in batch.claims {
                            state.inFlight[claim.runID] = claim
                            control.publish(.claimed(runID: claim.runID, job: claim.jobName))
                            workers.addTask { await self.runFenceable(claim, runnerID: runnerID, claimedAt: claimedAt) }
                        }
                        if batch.claims.count == free { continue }
                    } catch {
                        logger.warning("claiming failed; retrying", metadata: ["error": "\(error)"])
                        state.holdClaims(for: RunLoopState.claimBackoff, at: now)
                    }
                }
                // 4. Sleep until the next due time (if a slot is free), a wake-up, or a deadline.
                let deadline = state.wakeDeadline(
                    concurrency: configuration.concurrency, claiming: !fenced, now: clock.now())
                if control.consumePendingWake() { continue }
                control.publish(.idle(nextDue: deadline))
                // Other processes' commits are reported only while waiting: not this loop's own writes.
                feed?.arm()
                await wait(until: deadline)
                feed?.disarm()
                waited = true
            }
        }
    }

    /// The configured claim lead, or the store's; within 0, 1 s and an eighth of the lease.
    nonisolated func claimLead(_ storeDefault: Duration) -> Duration {
        min(max(configuration.claimLead ?? storeDefault, .zero), .seconds(1), configuration.lease / 8)
    }

    /// Executes a claimed run in a task of its own, which a self-fence can cancel without touching
    /// the others (``RunnerControl/fence(grace:reason:)``); cancelling the worker cancels it too.
    nonisolated(nonsending) private func runFenceable(
        _ claim: Claim, runnerID: Int64, claimedAt: ContinuousClock.Instant
    ) async {
        let run = Task { await self.execute(claim, runnerID: runnerID, claimedAt: claimedAt) }
        control.track(claim.runID, run)
        await withTaskCancellationHandler {
            await run.value
        } onCancel: {
            run.cancel()
        }
        control.untrack(claim.runID)
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
        try? await retrying("mark draining") { try await self.backend.markDraining(runnerID: id) }
        // Published once the database says so: `jobctl status` then shows the runner draining.
        control.publish(.drainBegan)
    }

    /// Records finished runs; false if the database refused (busy, full) and they must be retried.
    private func record<Store: JobStoreBackend>(_ runs: [FinishedRun], store: isolated Store) async -> Bool {
        do {
            let recorded = try await store.finish(runs)
            for (run, ok) in zip(runs, recorded) {
                if ok {
                    metrics.record(run)
                    alertRecorded(run)
                    control.publish(.finished(runID: run.runID, job: run.jobName, outcome: run.outcome))
                } else {
                    logger.warning(
                        "run was taken over by another runner; its late result is discarded",
                        metadata: ["job.name": "\(run.jobName)", "job.run_id": "\(run.runID)"]
                    )
                    control.publish(.fenced(runID: run.runID, job: run.jobName))
                }
            }
            return true
        } catch {
            logger.warning("recording runs failed; retrying", metadata: ["error": "\(error)", "runs": "\(runs.count)"])
            return false
        }
    }

    /// Releases runs the database holds as this runner's that it never started (see
    /// ``Heartbeat/held``); they are recorded `interrupted`, so that their jobs go on by their policy.
    /// A failure is left for the next heartbeat's list.
    nonisolated(nonsending) private func releaseUnknown(_ runIDs: [Int64], runnerID: Int64) async {
        guard !runIDs.isEmpty else { return }
        do {
            let released = try await backend.releaseUnknownRuns(runIDs, runnerID: runnerID, now: clock.now())
            if !released.isEmpty {
                logger.warning(
                    "released runs claimed by a commit whose acknowledgement was lost; recorded interrupted, not run",
                    metadata: ["runs": "\(released.map(String.init).joined(separator: ","))"])
                control.publish(.released(runIDs: released))
            }
        } catch {
            logger.warning("releasing runs this runner never started failed", metadata: ["error": "\(error)"])
        }
    }

    /// Records runs whose handlers ignored cancellation past the termination grace as `interrupted`.
    nonisolated(nonsending) private func abandonStuck(_ claims: [Claim], runnerID: Int64) async {
        guard !claims.isEmpty else { return }
        let now = clock.now()
        let runs = claims.map {
            FinishedRun(
                $0, runnerID: runnerID, outcome: .interrupted, finishedAt: now,
                error: "the handler did not stop within the termination grace after cancellation")
        }
        logger.warning(
            "handlers ignored cancellation; recording them interrupted", metadata: ["runs": "\(claims.count)"])
        _ = await record(runs, store: backend)
    }
}
