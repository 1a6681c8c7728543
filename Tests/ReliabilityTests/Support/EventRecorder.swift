import JobRunner
import Logging
import Synchronization

/// Records everything an in-process runner publishes, so a test can wait on it (with a deadline).
final class EventRecorder: Sendable {
    private final class Storage: Sendable {
        let events = Mutex<[RunnerEvent]>([])
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    init(_ runner: JobRunner) {
        let stream = runner.events()
        let storage = self.storage
        task = Task {
            for await event in stream { storage.events.withLock { $0.append(event) } }
        }
    }

    deinit { task.cancel() }

    var all: [RunnerEvent] { storage.events.withLock { $0 } }
    var count: Int { storage.events.withLock { $0.count } }

    func count(from start: Int = 0, where predicate: (RunnerEvent) -> Bool) -> Int {
        storage.events.withLock { $0.dropFirst(start).filter(predicate).count }
    }

    static func isClaimed(_ event: RunnerEvent) -> Bool { if case .claimed = event { true } else { false } }
    static func isRegistered(_ event: RunnerEvent) -> Bool { if case .registered = event { true } else { false } }
    static func isIdle(_ event: RunnerEvent) -> Bool { if case .idle = event { true } else { false } }
    static func isFinished(_ event: RunnerEvent) -> Bool { if case .finished = event { true } else { false } }

    /// Runner ids it registered under, in order.
    var registrations: [Int64] {
        storage.events.withLock { $0.compactMap { if case .registered(let id) = $0 { id } else { nil } } }
    }
}

/// A logger that drops everything (tests never bootstrap the logging system).
let quietLogger = Logger(label: "reliability", factory: { _ in SwiftLogNoOpLogHandler() })
