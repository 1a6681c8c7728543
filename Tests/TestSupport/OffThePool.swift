import Foundation

/// Runs `body`, which blocks (it waits for a child process: a psql, a server's start or stop, a
/// network namespace's set-up), on a thread of its own, and returns its result.
///
/// Swift's cooperative pool has as many threads as there are cores: two on the CI machine. Two
/// blocking calls on it at once stop every other task of the test process for as long as they last.
/// Seen: a network lab's `initdb` and a `CREATE DATABASE` through psql froze the PostgreSQL tests for
/// over 5 s, and the server closed their open transactions at its idle-in-transaction timeout.
@discardableResult
package func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result(catching: body)) }.start()
    }
}

/// ``offThePool(_:)`` for work that cannot fail.
@discardableResult
package func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}
