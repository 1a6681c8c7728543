import Foundation

/// The real clock: wall-clock time from `clock_gettime(CLOCK_REALTIME)`.
///
/// Sleeping re-reads the wall clock after each wake, so a wall-clock step (NTP, a manual change)
/// is noticed within `maximumSleepSlice`.
public struct SystemJobClock: JobClock {
    /// The longest single sleep before the wall clock is read again.
    public var maximumSleepSlice: Duration

    /// Creates the system clock.
    public init(maximumSleepSlice: Duration = .seconds(60)) {
        self.maximumSleepSlice = maximumSleepSlice
    }

    /// The wall-clock time now.
    public func now() -> UnixMicros {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// Sleeps until the wall clock reads `deadline`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(until deadline: UnixMicros) async throws {
        try await sleep(until: deadline, slicedBy: maximumSleepSlice)
    }
}
