import Synchronization

/// A gate that in-process job handlers wait at until the test opens it, so that a run stays in flight
/// for exactly as long as the test needs. Once open it stays open. A handler waits either as one that
/// honours cancellation (``wait()``) or as one deaf to it (``waitIgnoringCancellation()``), and the
/// test can wait until a handler has reached the gate (``waitForEntry()``).
package final class HandlerGate: Sendable {
    private struct State {
        var isOpen = false
        var entries = 0
        var nextWaiter = 0
        /// Handlers in ``wait()``, by waiter: their task's cancellation releases them alone.
        var cancellable: [Int: CheckedContinuation<Void, any Error>] = [:]
        /// Handlers in ``waitIgnoringCancellation()``.
        var deaf: [CheckedContinuation<Void, Never>] = []
        /// Tests in ``waitForEntry()``.
        var watchers: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    package init() {}

    /// Waits until the gate is open; throws `CancellationError` if the waiting task is cancelled first
    /// (or was already).
    package func wait() async throws {
        let waiter = enter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    // The flag is set before the cancellation handler runs: checked under the lock, a
                    // cancellation either is seen here or finds the continuation registered.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.isOpen { return .success(()) }
                    state.cancellable[waiter] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { $0.cancellable.removeValue(forKey: waiter) }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Waits until the gate is open, whatever happens to the waiting task: a handler deaf to
    /// cancellation.
    package func waitIgnoringCancellation() async {
        enter()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.deaf.append(continuation)
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    /// Opens the gate: the handlers waiting go on, and later ones pass.
    package func open() {
        let (cancellable, deaf) = state.withLock { state in
            state.isOpen = true
            defer {
                state.cancellable = [:]
                state.deaf = []
            }
            return (Array(state.cancellable.values), state.deaf)
        }
        for continuation in cancellable { continuation.resume() }
        for continuation in deaf { continuation.resume() }
    }

    /// Waits until at least one handler has reached the gate.
    package func waitForEntry() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let entered = state.withLock { state -> Bool in
                if state.entries > 0 { return true }
                state.watchers.append(continuation)
                return false
            }
            if entered { continuation.resume() }
        }
    }

    /// Counts a handler in, wakes the tests waiting for one, and returns a number for its wait.
    @discardableResult
    private func enter() -> Int {
        let (waiter, watchers) = state.withLock { state in
            state.entries += 1
            state.nextWaiter += 1
            defer { state.watchers = [] }
            return (state.nextWaiter, state.watchers)
        }
        for watcher in watchers { watcher.resume() }
        return waiter
    }
}
