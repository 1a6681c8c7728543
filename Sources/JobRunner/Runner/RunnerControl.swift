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
        /// The tasks of the runs in flight, so that a self-fence can cancel them and nothing else.
        var runs: [Int64: Task<Void, Never>] = [:]
        /// Set while the runner is fenced: the grace its commands get between SIGTERM and SIGKILL,
        /// and why their runs were stopped.
        var fence: (grace: Duration, reason: String)?
        /// Why the runs a fence or a recall cancelled were stopped, by run id, until their workers
        /// read it.
        var fenced: [Int64: String] = [:]
        /// The runs in flight that have begun: past the wait for their due time, no longer recallable.
        var begun: Set<Int64> = []
        /// Run ids the database holds as this runner's, from the last heartbeat, not yet reconciled.
        var heldByDatabase: (runnerID: Int64, runIDs: [Int64])?
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

    // MARK: Runs in flight and fencing

    /// Starts the task of a run in flight; a fence cancels it. If the runner is fenced already (a
    /// fence came between the claim and this), it is cancelled at once.
    func track(_ runID: Int64, _ task: Task<Void, Never>) {
        let cancelNow = state.withLock { s -> Bool in
            s.runs[runID] = task
            guard let fence = s.fence else { return false }
            s.fenced[runID] = fence.reason
            return true
        }
        if cancelNow { task.cancel() }
    }

    func untrack(_ runID: Int64) {
        state.withLock { s in
            s.runs[runID] = nil
            s.fenced[runID] = nil
            s.begun.remove(runID)
        }
    }

    /// Marks the run begun, as it is about to start; false if a fence or a recall stopped it first
    /// (it must not start).
    func begin(_ runID: Int64) -> Bool {
        state.withLock { s in
            guard s.fenced[runID] == nil else { return false }
            s.begun.insert(runID)
            return true
        }
    }

    /// The runs in flight that have not begun: claimed ahead of their due time, waiting for it.
    var waitingRunIDs: [Int64] {
        state.withLock { s in s.runs.keys.filter { !s.begun.contains($0) && s.fenced[$0] == nil }.sorted() }
    }

    /// Stops those of `runIDs` that have not begun, with `reason`, and returns them; a run that has
    /// begun goes on.
    func recall(_ runIDs: [Int64], reason: String) -> [Int64] {
        let tasks = state.withLock { s -> [(Int64, Task<Void, Never>)] in
            runIDs.compactMap { id in
                guard let task = s.runs[id], !s.begun.contains(id), s.fenced[id] == nil else { return nil }
                s.fenced[id] = reason
                return (id, task)
            }
        }
        for (_, task) in tasks { task.cancel() }
        return tasks.map(\.0)
    }

    /// Cancels every run in flight: commands get `grace` between SIGTERM and SIGKILL. `announce`
    /// is told how many first, so that what it publishes comes before the runs' ends.
    func fence(grace: Duration, reason: String, announce: (_ runs: Int) -> Void) {
        let tasks = state.withLock { s -> [Task<Void, Never>] in
            s.fence = (grace, reason)
            for id in s.runs.keys { s.fenced[id] = reason }
            return Array(s.runs.values)
        }
        announce(tasks.count)
        for task in tasks { task.cancel() }
        wake()
    }

    /// Whether the runner is fenced: it claims nothing.
    var isFenced: Bool { state.withLock { $0.fence != nil } }

    /// Lifts the fence: runs started from now on get the configured grace again.
    func liftFence() {
        state.withLock { $0.fence = nil }
        wake()
    }

    /// The grace between SIGTERM and SIGKILL for a cancelled command: the fence's while fenced.
    func interruptionGrace(default grace: Duration) -> Duration {
        state.withLock { $0.fence.map { min($0.grace, grace) } } ?? grace
    }

    /// Why a fence stopped the run `runID`, if one did.
    func fenceReason(_ runID: Int64) -> String? {
        state.withLock { $0.fenced[runID] }
    }

    /// The run ids the database says this runner holds, from a heartbeat, for the main loop to
    /// compare with what it has in flight.
    func reportHeldByDatabase(runnerID: Int64, _ runIDs: [Int64]) {
        state.withLock { $0.heldByDatabase = (runnerID, runIDs) }
        wake()
    }

    func takeHeldByDatabase() -> (runnerID: Int64, runIDs: [Int64])? {
        state.withLock { s in
            defer { s.heldByDatabase = nil }
            return s.heldByDatabase
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
