import Foundation
public import Logging

/// What a handler knows about the run it is executing.
///
/// Cancellation is the task's: a handler should check `Task.isCancelled` (or call
/// `Task.checkCancellation()`) in long loops so that timeouts and drains end it promptly.
public struct JobContext: Sendable {
    /// The job's name.
    public let jobName: String
    /// The run's id in the history.
    public let runID: Int64
    /// When the run was due.
    public let scheduledFor: UnixMicros
    /// 1 for the first attempt of an occurrence, 2 for its first retry, …
    public let attempt: Int
    /// The job's JSON payload, if any.
    public let payload: String?
    /// A logger carrying `job.name`, `job.run_id` and `job.attempt` metadata.
    public let logger: Logger

    /// Creates a context (for testing handlers directly).
    public init(
        jobName: String,
        runID: Int64,
        scheduledFor: UnixMicros,
        attempt: Int,
        payload: String?,
        logger: Logger
    ) {
        self.jobName = jobName
        self.runID = runID
        self.scheduledFor = scheduledFor
        self.attempt = attempt
        self.payload = payload
        self.logger = logger
    }

    /// Decodes the payload as `type`.
    ///
    /// - Throws: ``JobRunnerError`` when there is no payload, or a `DecodingError` when it does not fit.
    public func decodePayload<T: Decodable>(as type: T.Type = T.self) throws -> T {
        guard let payload else {
            throw JobRunnerError.invalidDefinition("job \(JobRunnerError.quoted(jobName)) has no payload")
        }
        return try JSONDecoder().decode(T.self, from: Data(payload.utf8))
    }
}
