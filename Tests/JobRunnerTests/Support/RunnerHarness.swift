import Logging
import Testing

@testable import JobRunner

/// Collects a runner's events and lets a test wait for one, with no sleeps.
final class EventLog: Sendable {
    private let stream: AsyncStream<RunnerEvent>
    private let iterator: IteratorBox

    init(_ runner: JobRunner) {
        stream = runner.events()
        iterator = IteratorBox(stream.makeAsyncIterator())
    }

    /// Waits for the next event that matches; returns nil if the runner stopped first.
    @discardableResult
    func next(where predicate: @Sendable (RunnerEvent) -> Bool) async -> RunnerEvent? {
        await iterator.next(where: predicate)
    }

    /// Waits until `count` runs have finished, returning their outcomes in order.
    func finished(_ count: Int) async -> [(job: String, outcome: RunOutcome)] {
        var result: [(String, RunOutcome)] = []
        while result.count < count {
            guard
                case .finished(_, let job, let outcome)? = await next(where: {
                    if case .finished = $0 { true } else { false }
                })
            else { break }
            result.append((job, outcome))
        }
        return result
    }
}

/// Owns the iterator; only the test task uses it, one call at a time.
actor IteratorBox {
    private var iterator: AsyncStream<RunnerEvent>.AsyncIterator
    init(_ iterator: AsyncStream<RunnerEvent>.AsyncIterator) { self.iterator = iterator }
    func next(where predicate: @Sendable (RunnerEvent) -> Bool) async -> RunnerEvent? {
        var copy = iterator
        defer { iterator = copy }
        while let event = await copy.next(isolation: self) {
            if predicate(event) { return event }
        }
        return nil
    }
}

/// A runner configuration for tests driven by a manual clock: no change polling (nothing else
/// writes), a long heartbeat so that only the main loop sleeps unless a test wants otherwise.
func manualRunnerConfiguration(
    concurrency: Int = 4,
    heartbeat: Duration = .seconds(3600),
    lease: Duration = .seconds(7200),
    drainTimeout: Duration = .seconds(30)
) -> JobRunnerConfiguration {
    JobRunnerConfiguration(
        concurrency: concurrency,
        drainTimeout: drainTimeout,
        terminationGrace: .seconds(2),
        heartbeatInterval: heartbeat,
        lease: lease,
        changePollInterval: nil,
        misfireGrace: .seconds(1),
        host: "test-host"
    )
}
