import Synchronization
import Testing

@testable import JobRunner

/// ``withDeadline(_:_:)``: a call that answers in time is returned as is; one that never answers
/// (and ignores its cancellation, as a call stuck in a database driver does) is given up on.
@Suite struct DeadlineTests {
    @Test("an answer in time is returned, and an error thrown in time is rethrown")
    func answerInTime() async throws {
        #expect(try await withDeadline(.seconds(60)) { 42 } == 42)
        await #expect(throws: Refused.self) { try await withDeadline(.seconds(60)) { throw Refused() } }
    }

    @Test("a call that never answers and ignores its cancellation is given up on")
    func neverAnswers() async throws {
        let parked = Parked()
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(50)) { await parked.wait() }
        }
        // The call was left behind, cancelled; it may still end later, harmlessly.
        await parked.waitUntilCancelled()
        parked.release()
    }

    struct Refused: Error {}

    /// A call that answers only when released, whatever its cancellation.
    final class Parked: Sendable {
        private let state = Mutex<(waiter: CheckedContinuation<Void, Never>?, released: Bool)>((nil, false))
        private let cancelled = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let sawCancellation = Atomic<Bool>(false)

        func wait() async {
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { s -> Bool in
                        if s.released { return true }
                        s.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                sawCancellation.store(true, ordering: .sequentiallyConsistent)
                cancelled.withLock { $0.take() }?.resume()
            }
        }

        /// Returns once the parked call has been cancelled.
        func waitUntilCancelled() async {
            await withCheckedContinuation { continuation in
                cancelled.withLock { $0 = continuation }
                if sawCancellation.load(ordering: .sequentiallyConsistent) {
                    cancelled.withLock { $0.take() }?.resume()
                }
            }
        }

        func release() {
            state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.released = true
                return s.waiter.take()
            }?.resume()
        }
    }
}
