import Foundation
import Logging
import Metrics

/// The runner's life among the others: its heartbeat (lease, drain orders, the due-work safety
/// net), rescue of dead runners, registering again after being declared dead, changes by other
/// processes, and history retention.
extension JobRunner {
    func heartbeatLoop(_ identity: RunnerIdentity, retentionDue: AsyncStream<Void>.Continuation?) async {
        var nextRetention = clock.now()  // the first pass at the first beat
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: clock.now() + configuration.heartbeatInterval.microseconds)
            } catch {
                return
            }
            do {
                let beatID = identity.id
                let (beganAt, beganMono) = (clock.now(), ContinuousClock.now)
                let backend = self.backend
                let beat = try await withDeadline(storeCallLimit) {
                    try await backend.heartbeat(runnerID: beatID, now: beganAt)
                }
                if !beat.alive {
                    await reregister(identity, deadID: beatID)
                } else if lease.renewed(at: beganAt, mono: beganMono, now: clock.now()) {
                    logger.notice("the lease is renewed; claiming again")
                    control.liftFence()
                    control.publish(.fenceLifted)
                }
                if let drain = beat.drain { control.beginDrain(grace: drain.grace) }
                if beat.alive, !beat.held.isEmpty { control.reportHeldByDatabase(runnerID: beatID, beat.held) }
                // A safety net for changes no notification reported: look for due work once per beat.
                control.wake()
                metrics.dueWaiting.record(try await backend.dueCount(now: clock.now(), limit: 100_000))
            } catch {
                lease.failed(at: clock.now())
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
            if let retentionDue, let retention = configuration.historyRetention, clock.now() >= nextRetention {
                nextRetention = clock.now() + retention.interval.microseconds
                retentionDue.yield()
            }
            await rescue(selfID: identity.id)
            // After the rescue, so that a runner just declared dead is not counted.
            if let alive = try? await backend.liveRunnerCount(now: clock.now()) { metrics.runnersAlive.record(alive) }
        }
    }

    /// How long the heartbeat and a registration may take before the runner gives up on them and
    /// tries again at the next beat: a quarter of the lease, at least a second.
    ///
    /// A statement can hang for good on a connection that died in a way its driver never notices (a
    /// half-open TCP connection, whose peer vanished without a reset). Unbounded, the heartbeat loop
    /// would wait on it forever: the runner would never renew its lease or register again, and its
    /// fence would never lift.
    var storeCallLimit: Duration { max(configuration.lease / 4, .seconds(1)) }

    /// Applies the history retention each time the heartbeat says it is due, in short transactions
    /// between the main loop's claims (see ``JobStore/applyRetention(_:now:batchSize:)``).
    func retentionLoop(_ retention: HistoryRetention, due: AsyncStream<Void>) async {
        for await _ in due {
            do {
                let result = try await backend.applyRetention(
                    retention, now: clock.now(), batchSize: JobStore.defaultPruneBatchSize)
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

    /// Registers again after another runner declared this one dead (it was paused or cut off past
    /// its lease): its runs in flight were rescued by then and may already run elsewhere, so they are
    /// stopped at once, and their late results are discarded (fenced). Only one caller registers;
    /// the others find the new id.
    nonisolated(nonsending) func reregister(_ identity: RunnerIdentity, deadID: Int64) async {
        guard identity.beginReregistering(deadID: deadID) else { return }
        control.fence(
            grace: .zero,
            reason:
                "stopped: this runner was declared dead (it had not renewed its lease), and the run was given to another"
        ) { stopped in
            logger.warning(
                "this runner was declared dead by another (paused or cut off past its lease?); its runs in flight were rescued and are stopped, and their results will be discarded; registering again",
                metadata: ["runner.id": "\(deadID)", "runs.stopped": "\(stopped)"]
            )
        }
        do {
            identity.finishReregistering(newID: try await register(within: storeCallLimit))
            control.liftFence()
        } catch {
            logger.warning("registering again failed; retrying", metadata: ["error": "\(error)"])
            identity.finishReregistering(newID: nil)
        }
    }

    /// Fences the runner when its lease is about to run out without a renewal: its runs are
    /// cancelled (commands get SIGTERM, then SIGKILL within half the time left) so that none still
    /// runs when other runners declare it dead and run the jobs again. See ``LeaseGuard``.
    ///
    /// It sleeps on the monotonic clock until the lease would run out, so that a heartbeat hung on a
    /// dead connection cannot delay it, and it adds no sleeper to the runner's own clock.
    func leaseWatch() async {
        while !Task.isCancelled {
            let next = lease.nextCheck
            if ContinuousClock.now < next {
                do { try await Task.sleep(until: next, clock: .continuous) } catch { return }
                continue
            }
            if let left = lease.fenceIfRunningOut(now: clock.now(), mono: .now) {
                let grace = min(configuration.terminationGrace, left / 2)
                control.fence(
                    grace: grace,
                    reason:
                        "stopped by self-fencing: this runner could not renew its lease, and another runner will run the job again"
                ) { stopped in
                    logger.warning(
                        "self-fencing: the lease could not be renewed; stopping this runner's runs before it expires, and claiming nothing until a heartbeat succeeds",
                        metadata: [
                            "runs.stopped": "\(stopped)", "lease.left_ms": "\(left.microseconds / 1000)",
                            "kill.grace_ms": "\(grace.microseconds / 1000)",
                        ]
                    )
                    control.publish(.selfFenced(runs: stopped))
                }
            }
            // Fenced until a heartbeat renews the lease, or the runner's clock does not say yet that the
            // lease is running out (a wall clock that stepped back, a test's manual clock): look again soon.
            do { try await Task.sleep(for: configuration.heartbeatInterval / 4) } catch { return }
        }
    }

    func rescue(selfID: Int64) async {
        switch lease.mayRescue(at: clock.now()) {
        case .allowed:
            break
        case .fenced:
            return
        case .grace(let until, let began):
            if began {
                logger.notice(
                    "declaring no other runner dead for one lease: this runner just failed to reach the database, and the others may have too",
                    metadata: ["rescue.resumes_at": "\(Timestamp.formatRFC3339UTC(until))"])
            }
            return
        }
        do {
            let local = LocalProcesses.current(host: host, database: backend.databaseName)
            let rescued = try await backend.rescueOrphans(selfID: selfID, now: clock.now(), local: local)
            if !rescued.isEmpty {
                logger.warning("recorded runs of dead runners as abandoned", metadata: ["runs": "\(rescued.count)"])
                control.publish(.rescued(runIDs: rescued))
                control.wake()
                await alertRescued(rescued)
            }
        } catch {
            logger.warning("rescue of dead runners failed", metadata: ["error": "\(error)"])
        }
    }

    /// Another process committed a change: look for newly due work, and pick up a drain order.
    /// The main loop is woken first, so that a job just added is claimed without waiting for the
    /// drain order's round trip (a drain found right after still stops further claims).
    func otherProcessChanged(_ identity: RunnerIdentity) async {
        control.wake()
        if let order = try? await backend.takeDrainOrder(runnerID: identity.id, now: clock.now()) {
            control.beginDrain(grace: order.grace)
        }
        await recallWaitingRuns()
    }

    /// Recalls the runs claimed ahead of their due time (the claim lead) that the claim would no
    /// longer take: their job paused, stopped or removed, or their queue paused, since the claim.
    /// Each is recorded `interrupted`, not started, and its job rescheduled as after any interrupted
    /// run (a paused job runs that occurrence once resumed).
    func recallWaitingRuns() async {
        let waiting = control.waitingRunIDs
        guard !waiting.isEmpty, let recallable = try? await backend.recallable(runIDs: waiting),
            !recallable.isEmpty
        else { return }
        let recalled = control.recall(recallable, reason: Self.recallReason)
        if !recalled.isEmpty {
            logger.info(
                "recalled runs claimed ahead of their due time", metadata: ["runs": "\(recalled.map(String.init))"])
        }
    }

    static let recallReason =
        "recalled before its due time, not started: its job was paused, stopped or removed, or its queue paused, after the claim"

    func retrying(_ what: String, _ body: @Sendable () async throws -> Void) async throws {
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
