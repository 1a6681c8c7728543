import Foundation

/// A failure of the harness itself (a missing binary, a condition that never came true, …).
struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds, checking it every `interval`; throws once `timeout` has passed.
///
/// The one way these tests wait: on a condition, with a deadline (never a bare sleep).
func waitUntil(
    _ what: @autoclosure () -> String,
    timeout: Duration,
    interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline {
            throw HarnessFailure("waited \(timeout) in vain until \(what())")
        }
        try await Task.sleep(for: interval)  // hang guard: polling interval inside a deadline-bounded wait
    }
}

/// Waits until `produce` returns a value, and returns it; throws once `timeout` has passed.
func waitFor<T>(
    _ what: @autoclosure () -> String,
    timeout: Duration,
    interval: Duration = .milliseconds(10),
    _ produce: () async throws -> T?
) async throws -> T {
    var result: T?
    try await waitUntil(what(), timeout: timeout, interval: interval) {
        result = try await produce()
        return result != nil
    }
    return result!
}

/// Microseconds since the Unix epoch, from the wall clock (what the runner stamps its rows with).
func wallClockMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

extension Duration {
    /// Seconds as a Double, for figures.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
