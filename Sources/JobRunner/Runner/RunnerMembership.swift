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
                let beat = try await backend.heartbeat(runnerID: beatID, now: clock.now())
                if !beat.alive { await reregister(identity, deadID: beatID) }
                if let drain = beat.drain { control.beginDrain(grace: drain.grace) }
                // A safety net for changes no notification reported: look for due work once per beat.
                control.wake()
                metrics.dueWaiting.record(try await backend.dueCount(now: clock.now(), limit: 100_000))
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

    /// Registers again after another runner declared this one dead (it was paused past its lease):
    /// its runs in flight were rescued by then, and their late results are discarded (fenced).
    /// Only one caller registers; the others find the new id.
    nonisolated(nonsending) func reregister(_ identity: RunnerIdentity, deadID: Int64) async {
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

    func rescue(selfID: Int64) async {
        do {
            let local = LocalProcesses.current(host: host, database: backend.databaseName)
            let rescued = try await backend.rescueOrphans(selfID: selfID, now: clock.now(), local: local)
            if !rescued.isEmpty {
                logger.warning("recorded runs of dead runners as abandoned", metadata: ["runs": "\(rescued.count)"])
                control.publish(.rescued(runIDs: rescued))
                control.wake()
            }
        } catch {
            logger.warning("rescue of dead runners failed", metadata: ["error": "\(error)"])
        }
    }

    /// Another process committed a change: pick up a drain order, and look for newly due work.
    func otherProcessChanged(_ identity: RunnerIdentity) async {
        if let order = try? await backend.takeDrainOrder(runnerID: identity.id, now: clock.now()) {
            control.beginDrain(grace: order.grace)
        }
        control.wake()
    }

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
