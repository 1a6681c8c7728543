import Foundation
import Logging

/// The handlers every runner has (see ``JobRegistry/builtinNames``).
enum BuiltinHandlers {
    struct PruneHistory: Decodable {
        /// A duration such as `30d`.
        var olderThan: String?
    }

    static func register(into registry: inout JobRegistry, store: JobStore, clock: any JobClock) {
        registry.register("tick") { _ in }
        registry.register("prune-history") { context in
            var keep: Duration = .seconds(30 * 86_400)
            if context.payload != nil, let text = try context.decodePayload(as: PruneHistory.self).olderThan {
                keep = try DurationFormat.parsePositive(text)
            }
            let deleted = try await store.prune(finishedBefore: clock.now() - keep.microseconds)
            context.logger.info("pruned run history", metadata: ["runs.deleted": "\(deleted)"])
        }
        registry.register("wal-checkpoint") { _ in try await store.checkpoint() }
        registry.register("optimize") { _ in try await store.optimize() }
    }
}
