/// Unix time in microseconds (UTC). Every instant JobRunner stores or computes is one.
public typealias UnixMicros = Int64

/// The source of time for schedules, runs and waits.
///
/// JobRunner never reads the system clock or sleeps except through its clock, so a test can drive a
/// runner deterministically with ``ManualJobClock``.
///
/// ```swift
/// let clock = ManualJobClock(now: 1_767_225_600_000_000)
/// let runner = JobRunner(store: store, registry: registry, clock: clock, logger: logger)
/// ```
public protocol JobClock: Sendable {
    /// The current instant.
    func now() -> UnixMicros
    /// Suspends until `deadline` has been reached.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: UnixMicros) async throws
}

extension JobClock {
    /// Sleeps until ``now()`` reads `deadline`, in sleeps of at most `slice`, reading ``now()`` again
    /// after each: a clock that can step (the wall clock, a measured offset) is followed within `slice`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    package func sleep(until deadline: UnixMicros, slicedBy slice: Duration) async throws {
        let sliceMicros = slice.microseconds
        while true {
            let remaining = deadline - now()
            if remaining <= 0 { return }
            try await Task.sleep(for: .microseconds(min(remaining, sliceMicros)), tolerance: .microseconds(1))
        }
    }
}

extension Duration {
    /// The duration in whole microseconds (truncated toward zero).
    package var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000 &+ attoseconds / 1_000_000_000_000
    }
}
