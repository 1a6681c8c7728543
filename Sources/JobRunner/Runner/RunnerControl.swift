import Synchronization

/// The small synchronous state shared by a runner's tasks: the drain switch, finished runs waiting
/// to be recorded, the wake-up signal of the main loop, and event subscribers.
final class RunnerControl: Sendable {
    enum DrainPhase: Equatable {
        case none
        /// Stop claiming; let in-flight runs finish within `grace`.
        case draining(grace: Duration?)
        /// Cancel everything now (a second signal, or task cancellation).
        case stopNow
    }

    private struct State {
        var phase: DrainPhase = .none
        var completions: [FinishedRun] = []
        var wakePending = false
        var waiter: CheckedContinuation<Void, Never>?
        var subscribers: [Int: AsyncStream<RunnerEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var started = false
    }

    private let state = Mutex(State())

    var phase: DrainPhase { state.withLock { $0.phase } }

    /// Marks the runner started; false if it already was (a runner runs once).
    func markStarted() -> Bool {
        state.withLock { s in
            defer { s.started = true }
            return !s.started
        }
    }

    func beginDrain(grace: Duration?) {
        state.withLock { s in
            switch s.phase {
            case .none: s.phase = .draining(grace: grace)
            case .draining(let current):
                if let grace { s.phase = .draining(grace: min(current ?? grace, grace)) }
            case .stopNow: break
            }
        }
        wake()
    }

    func stopNow() {
        state.withLock { $0.phase = .stopNow }
        wake()
    }

    func complete(_ completion: FinishedRun) {
        state.withLock { $0.completions.append(completion) }
        wake()
    }

    func takeCompletions() -> [FinishedRun] {
        state.withLock { s in
            defer { s.completions.removeAll(keepingCapacity: true) }
            return s.completions
        }
    }

    /// Puts back completions that could not be recorded yet (the database was busy).
    func restore(_ completions: [FinishedRun]) {
        state.withLock { $0.completions.insert(contentsOf: completions, at: 0) }
    }

    /// Wakes the main loop (or makes its next wait return at once).
    func wake() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let waiter = s.waiter {
                s.waiter = nil
                return waiter
            }
            s.wakePending = true
            return nil
        }
        waiter?.resume()
    }

    /// Waits for ``wake()`` (returns at once if one is pending). Cancellation ends the wait.
    nonisolated(nonsending) func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.wakePending || Task.isCancelled {
                        s.wakePending = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
    }

    /// True (and clears it) if a wake is pending.
    func consumePendingWake() -> Bool {
        state.withLock { s in
            defer { s.wakePending = false }
            return s.wakePending
        }
    }

    // MARK: Events

    func subscribe() -> AsyncStream<RunnerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: RunnerEvent.self)
        let id = state.withLock { s -> Int in
            s.nextSubscriber += 1
            s.subscribers[s.nextSubscriber] = continuation
            return s.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    func publish(_ event: RunnerEvent) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    func finishEvents() {
        let subscribers = state.withLock { s in
            defer { s.subscribers.removeAll() }
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}
