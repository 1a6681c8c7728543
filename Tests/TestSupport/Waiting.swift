/// Waits until `condition` holds, checking it again every `interval`; throws a ``HarnessError`` that
/// names `what` once `timeout` has passed.
///
/// The one way the tests wait for something that happens elsewhere: on a condition, with a deadline,
/// never a bare sleep. A condition slower to check than `interval` (one that runs `jobctl`, say) is
/// checked no more often than it takes to check, so that a wait spends at most half its time checking.
/// `what` is evaluated only on a timeout, so it can report the state at that moment.
package func waitUntil(
    _ what: @autoclosure () -> String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        let checked = clock.now
        if try await condition() { return }
        let now = clock.now
        if now >= deadline {
            throw HarnessError("waited \(timeout) in vain until \(what())")
        }
        // hang guard: polling interval inside a deadline-bounded wait
        try await Task.sleep(for: max(interval, now - checked))
    }
}

/// Waits until `produce` returns a value, and returns it; throws once `timeout` has passed.
package func waitFor<T>(
    _ what: @autoclosure () -> String,
    timeout: Duration = .seconds(30),
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
