import Synchronization

/// A call that did not answer within its deadline (``withDeadline(_:_:)``).
struct DeadlineExceeded: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "no answer within \(DurationFormat.format(limit))" }
}

/// Runs `operation` in a task of its own and returns what it returns, or throws
/// ``DeadlineExceeded`` once `limit` has passed (on the monotonic clock), cancelling it.
///
/// Unstructured on purpose: a call stuck inside a database driver (a connection that died while
/// the process was stopped) may never notice its cancellation, and a task group would wait for it
/// forever, which is what the deadline is there to avoid. Such a call is left behind, cancelled; the
/// caller must be able to live with it finishing later.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withCheckedThrowingContinuation { continuation in
        race.begin(continuation)
        let work = Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            race.finish(result)
        }
        race.setTimer(
            Task {
                do { try await Task.sleep(for: limit) } catch { return }
                work.cancel()
                race.finish(.failure(DeadlineExceeded(limit: limit)))
            })
    }
}

/// The continuation of ``withDeadline(_:_:)``, resumed once by whichever of the call and its timer
/// ends first; the timer is cancelled when the call wins.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var timer: Task<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func setTimer(_ timer: Task<Void, Never>) {
        let finished = state.withLock { s -> Bool in
            s.timer = timer
            return s.finished
        }
        if finished { timer.cancel() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, timer) = state.withLock { s -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            s.finished = true
            defer { s.continuation = nil }
            return (s.continuation, s.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
    }
}
