import Synchronization

/// A clock that moves only when told to, for deterministic tests of schedules and runners.
///
/// ```swift
/// let clock = ManualJobClock(now: 0)
/// // … start a runner with this clock …
/// await clock.waitUntilSleeping()      // the runner is idle, waiting for its next due job
/// clock.advance(by: .seconds(5))       // wakes every sleeper whose deadline has passed
/// ```
public final class ManualJobClock: JobClock {
    private struct Sleeper {
        var deadline: UnixMicros
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: UnixMicros
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        var cancelled: Set<Int> = []
        var sleepWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    /// Creates a clock that reads `now` until advanced.
    public init(now: UnixMicros) {
        state = Mutex(State(now: now))
    }

    /// The clock's current reading.
    public func now() -> UnixMicros { state.withLock { $0.now } }

    /// The number of tasks currently sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline among the sleepers, if any.
    public var earliestDeadline: UnixMicros? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    /// Suspends until the clock is advanced to `deadline` or past it.
    ///
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(until deadline: UnixMicros) async throws {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { s in
                    if s.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    let count = s.sleepers.count
                    var ready: [CheckedContinuation<Void, Never>] = []
                    s.sleepWaiters.removeAll { waiter in
                        guard waiter.count <= count else { return false }
                        ready.append(waiter.continuation)
                        return true
                    }
                    ready.forEach { $0.resume() }
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                if let sleeper = s.sleepers.removeValue(forKey: id) { return sleeper }
                s.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        state.withLock { _ = $0.cancelled.remove(id) }
    }

    /// Moves the clock forward and wakes every sleeper whose deadline has been reached.
    public func advance(by duration: Duration) {
        advance(to: now() + duration.microseconds)
    }

    /// Moves the clock to `instant` (which may be in the past, to simulate a wall-clock step back)
    /// and wakes every sleeper whose deadline has been reached.
    public func advance(to instant: UnixMicros) {
        let woken = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now = instant
            let due = s.sleepers.filter { $0.value.deadline <= instant }
            for key in due.keys { s.sleepers[key] = nil }
            return due.values.map(\.continuation)
        }
        woken.forEach { $0.resume() }
    }

    /// Waits until at least `count` tasks are sleeping on this clock.
    public func waitUntilSleeping(count: Int = 1) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.sleepWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
