import Dispatch

/// A serial executor backed by a dedicated dispatch queue.
///
/// ``JobStore`` runs on it so that SQLite's blocking calls (busy waits, fsyncs) never park one of
/// Swift's cooperative threads: on a 2-core machine that would stall the runner's heartbeat.
final class StoreExecutor: SerialExecutor {
    let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
