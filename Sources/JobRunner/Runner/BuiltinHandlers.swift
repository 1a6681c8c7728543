import Foundation
import Logging

/// The handlers every runner has (see ``JobRegistry/builtinNames``).
enum BuiltinHandlers {
    struct PruneHistory: Decodable {
        /// A duration such as `30d`.
        var olderThan: String?
    }

    /// Refuses, when a job is defined, a payload that a built-in handler could not use at every run.
    static func validatePayload(_ payload: String?, handler: String) throws {
        guard handler == "prune-history", let payload else { return }
        let decoded: PruneHistory
        do {
            decoded = try JSONDecoder().decode(PruneHistory.self, from: Data(payload.utf8))
        } catch {
            throw JobRunnerError.invalidDefinition(
                #"prune-history takes a payload such as {"olderThan": "30d"}, not \#(JobRunnerError.quoted(payload))"#)
        }
        if let text = decoded.olderThan {
            do {
                _ = try DurationFormat.parsePositive(text)
            } catch {
                throw JobRunnerError.invalidDefinition("prune-history: olderThan: \(error)")
            }
        }
    }

    /// Adds `tick`, `prune-history` and the backend's maintenance handlers.
    static func register(into registry: inout JobRegistry, backend: any JobStoreBackend, clock: any JobClock) {
        registry.register("tick") { _ in }
        registry.register("prune-history") { context in
            var keep: Duration = .seconds(30 * 86_400)
            if context.payload != nil, let text = try context.decodePayload(as: PruneHistory.self).olderThan {
                keep = try DurationFormat.parsePositive(text)
            }
            let deleted = try await backend.prune(
                finishedBefore: clock.now() - keep.microseconds, batchSize: JobStore.defaultPruneBatchSize)
            context.logger.info("pruned run history", metadata: ["runs.deleted": "\(deleted)"])
        }
        for (name, handler) in backend.maintenanceHandlers() { registry.register(name, handler) }
    }
}
