/// The handlers a runner can execute, by name.
///
/// ```swift
/// struct Prune: Codable { var olderThanSeconds: Int }
///
/// var registry = JobRegistry()
/// registry.register("prune-sessions", payload: Prune.self) { prune, context in
///     context.logger.info("pruning", metadata: ["older_than": "\(prune.olderThanSeconds)"])
///     try await sessions.prune(olderThan: .seconds(prune.olderThanSeconds))
/// }
/// ```
///
/// A runner claims only jobs whose handler it has (or command jobs), so runners with different
/// registries can share one database.
public struct JobRegistry: Sendable {
    /// A handler: runs once per run; throwing records the run `failed`.
    ///
    /// Handlers run as tasks on Swift's cooperative thread pool, as the runner's timers and
    /// heartbeat do: one that blocks its thread (synchronous I/O, a long computation that never
    /// suspends) holds them back, and a runner whose heartbeat stops for longer than its lease is
    /// declared dead by the others. Give blocking work its own thread or queue, or make it a command job.
    public typealias Handler = @Sendable (JobContext) async throws -> Void

    var handlers: [String: Handler] = [:]

    /// Creates an empty registry. The built-in handlers (``builtinNames``) are added by the runner.
    public init() {}

    /// Registers (or replaces) a handler.
    public mutating func register(_ name: String, _ handler: @escaping Handler) {
        handlers[name] = handler
    }

    /// Registers a handler that receives the job's payload decoded as `Payload`.
    ///
    /// A payload that does not decode fails the run with the decoding error.
    public mutating func register<Payload: Decodable & SendableMetatype>(
        _ name: String,
        payload: Payload.Type,
        _ handler: @escaping @Sendable (Payload, JobContext) async throws -> Void
    ) {
        handlers[name] = { context in
            let value: Payload = try context.decodePayload()
            try await handler(value, context)
        }
    }

    /// The registered handler names.
    public var names: [String] { handlers.keys.sorted() }

    func handler(named name: String) -> Handler? { handlers[name] }

    /// The handlers every runner has, so that `jobctl` is useful with no Swift code:
    /// `tick` (does nothing; the job's run count is its tick count), `prune-history`
    /// (payload `{"olderThan": "30d"}`, default 30 days), `wal-checkpoint` and `optimize`.
    public static let builtinNames = ["tick", "prune-history", "wal-checkpoint", "optimize"]
}
