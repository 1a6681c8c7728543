/// How a failed or timed-out run is retried.
///
/// Attempt *n* (n ≥ 2) of the same occurrence starts `backoff × 2^(n−2)` after the previous attempt
/// ended, capped at ``maximumBackoff``. When the retries are used up, the job moves on to its next
/// occurrence.
public struct RetryPolicy: Sendable, Hashable {
    /// How many times a failed run is retried (0: never).
    public var maxRetries: Int
    /// The delay before the first retry.
    public var backoff: Duration
    /// The longest delay between two attempts.
    public static let maximumBackoff: Duration = .seconds(3600)

    /// Creates a retry policy.
    public init(maxRetries: Int = 0, backoff: Duration = .seconds(1)) {
        self.maxRetries = maxRetries
        self.backoff = backoff
    }

    /// No retries.
    public static let none = RetryPolicy()

    /// The delay before attempt `nextAttempt` (2 for the first retry).
    func delay(beforeAttempt nextAttempt: Int) -> Int64 {
        let base = max(backoff.microseconds, 0)
        let cap = RetryPolicy.maximumBackoff.microseconds
        let shift = min(max(nextAttempt - 2, 0), 40)
        let (value, overflow) = base.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? cap : min(value, cap)
    }
}
