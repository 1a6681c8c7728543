import Foundation
import JobRunner
import Logging
import Synchronization

/// The sizes of every scenario: the issue's full counts, or tiny ones for the smoke test.
package struct BenchSettings: Sendable {
    package var quick: Bool
    /// Throughput: one-shot jobs due now.
    package var throughputJobs: Int
    /// Throughput: jobs every 1 ms, and how long they are measured.
    package var periodicJobs: Int
    package var periodicSeconds: Double
    /// The runner's worker slots in the throughput scenarios.
    package var workers: Int
    /// Lateness: periodic jobs with spread phases, their interval, and how long they run.
    package var latenessJobs: Int
    package var latenessInterval: Duration
    package var latenessSeconds: Double
    /// Lateness: jobs due at the same instant.
    package var burstJobs: Int
    /// Scale: future jobs and history rows already in the file.
    package var scaleJobs: Int
    package var scaleHistory: Int
    /// Idle: how long, and with how many future jobs.
    package var idleSeconds: Double
    package var idleJobs: [Int]
    /// Wake: how many `jobctl add` processes.
    package var wakeCount: Int
    /// Drain: runs in flight and the longest of them.
    package var drainJobs: Int
    package var drainLongest: Duration
    /// Cron way: spawned processes, and how long the in-process tick runs.
    package var cronSpawns: Int
    package var cronTickSeconds: Double
    /// How often `jobctl status` and `jobctl add` are timed on the large file.
    package var commandSamples: Int
    /// Side by side (SQLite and PostgreSQL): one-shot jobs due at once, runner processes to compare,
    /// each runner's worker slots (and the reference's batch).
    package var storeJobs: Int = 20_000
    package var storeRunners: [Int] = [1, 2, 4]
    package var storeWorkers: Int = 256
    /// Side by side: runner processes in the lateness scenario.
    package var storeLatenessRunners: Int = 3
    /// Side by side: the runner processes' claim lead, or `nil` for the store's default (100 ms on
    /// PostgreSQL, none on SQLite).
    package var claimLead: Duration? = nil

    package static let full = BenchSettings(
        quick: false, throughputJobs: 100_000, periodicJobs: 100, periodicSeconds: 5, workers: 256,
        latenessJobs: 1000, latenessInterval: .seconds(1), latenessSeconds: 20, burstJobs: 1000,
        scaleJobs: 1_000_000, scaleHistory: 10_000_000, idleSeconds: 10, idleJobs: [1000, 1_000_000],
        wakeCount: 100, drainJobs: 8, drainLongest: .seconds(1), cronSpawns: 200, cronTickSeconds: 3,
        commandSamples: 10
    )

    package static let quick = BenchSettings(
        quick: true, throughputJobs: 400, periodicJobs: 10, periodicSeconds: 0.3, workers: 64,
        latenessJobs: 20, latenessInterval: .milliseconds(200), latenessSeconds: 0.6, burstJobs: 50,
        scaleJobs: 2000, scaleHistory: 20_000, idleSeconds: 0.5, idleJobs: [100, 2000],
        wakeCount: 3, drainJobs: 8, drainLongest: .milliseconds(200), cronSpawns: 5, cronTickSeconds: 0.2,
        commandSamples: 1, storeJobs: 300, storeRunners: [1, 2], storeWorkers: 32, storeLatenessRunners: 2
    )
}

/// What every scenario shares: settings, the temporary directory, the jobctl binary, the C reference.
final class BenchContext: Sendable {
    let settings: BenchSettings
    /// The temporary directory of this benchmark; removed at the end.
    let root: String
    /// This jobctl binary, spawned for `jobctl run`, `add`, `drain` and `status`.
    let jobctl: String
    /// The compiled C reference, if given.
    let reference: String?
    /// The PostgreSQL server of the side-by-side scenarios (`--db`), as a URL of a database on it
    /// that the benchmark may use to create and drop databases of its own.
    let postgres: String?
    /// Opens a store at a `postgres://` URL (nil in a build without the PostgreSQL trait).
    let openURL: BenchURLOpener?
    /// Closes a store's connections (nil: nothing to close).
    let closeStore: BenchStoreCloser?
    /// The compiled PostgreSQL reference (`bench/pg_limit.c`), if given.
    let postgresReference: String?
    /// The psql client (admin statements on the PostgreSQL server).
    let psql: String
    let logger: Logger
    private let counter = Atomic<Int>(0)
    private let templates = Mutex<[String: String]>([:])

    /// Keep databases instead of removing them (`--keep`).
    let keep: Bool

    init(
        settings: BenchSettings, root: String, jobctl: String, reference: String?, keep: Bool = false,
        postgres: String? = nil, openURL: BenchURLOpener? = nil, closeStore: BenchStoreCloser? = nil,
        postgresReference: String? = nil, psql: String = BenchContext.onPath("psql")
    ) {
        self.closeStore = closeStore
        self.keep = keep
        self.postgres = postgres
        self.openURL = openURL
        self.postgresReference = postgresReference
        self.psql = psql
        self.settings = settings
        self.root = root
        self.jobctl = jobctl
        self.reference = reference
        var logger = Logger(label: "jobctl.bench") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        self.logger = logger
    }

    /// The first executable `name` in a directory of `PATH` (the name itself if none).
    static func onPath(_ name: String) -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return name
    }

    /// A number not given before in this benchmark.
    func nextNumber() -> Int { counter.wrappingAdd(1, ordering: .relaxed).newValue }

    /// A path for a new database in its own directory (so that change notifications are its own).
    func freshDatabase(_ name: String) throws -> String {
        let number = nextNumber()
        let directory = "\(root)/\(name)-\(number)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory + "/jobs.sqlite"
    }

    /// Removes a database made by ``freshDatabase(_:)`` and its directory.
    func discard(_ path: String) {
        if keep { return }
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }

    /// A seeded file with `futureJobs` future jobs and `history` finished runs, made once per
    /// benchmark and kept for copying (see ``BenchmarkDatabase/seed(path:futureJobs:history:)``).
    func template(futureJobs: Int, history: Int) async throws -> String {
        let key = "\(futureJobs)-\(history)"
        if let path = templates.withLock({ $0[key] }) { return path }
        let path = try freshDatabase("template-\(key)")
        progress(
            "seeding \(BenchFormat.grouped(Int64(futureJobs))) future jobs and "
                + "\(BenchFormat.grouped(Int64(history))) history rows…")
        let started = BenchClock.now()
        try await BenchmarkDatabase.seed(path: path, futureJobs: futureJobs, history: history)
        progress("seeded in \(String(format: "%.1f", Double(BenchClock.now() - started) / 1_000_000)) s")
        templates.withLock { $0[key] = path }
        return path
    }

    /// A scratch file path in the temporary directory.
    func scratchFile(_ name: String) -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(root)/\(name)-\(number)"
    }

    /// Progress on stderr, so that `--json` keeps stdout to one document.
    func progress(_ message: String) {
        FileHandle.standardError.write(Data("bench: \(message)\n".utf8))
    }

    /// Opens a store on `path` with the given synchronous mode.
    func open(_ path: String, synchronous: SynchronousMode = .normal) async throws -> JobStore {
        try await JobStore.open(path: path, configuration: JobStore.Configuration(synchronous: synchronous))
    }

    /// A runner on `store` with this benchmark's quiet logger.
    func runner(
        _ store: JobStore,
        workers: Int,
        registry: JobRegistry = JobRegistry()
    ) -> JobRunner {
        JobRunner(
            store: store,
            registry: registry,
            configuration: JobRunnerConfiguration(concurrency: workers, drainTimeout: .seconds(30)),
            logger: logger
        )
    }
}

/// Notes, from inside handlers, when each run started (handler entry) against when it was scheduled.
final class StartRecorder: Sendable {
    private let state: Mutex<[(scheduledFor: UnixMicros, startedAt: UnixMicros)]>

    init(capacity: Int) {
        var entries: [(scheduledFor: UnixMicros, startedAt: UnixMicros)] = []
        entries.reserveCapacity(capacity)
        state = Mutex(entries)
    }

    /// The handler to register as `bench-probe`.
    var handler: JobRegistry.Handler {
        { [self] context in self.record(scheduledFor: context.scheduledFor, startedAt: BenchClock.now()) }
    }

    func record(scheduledFor: UnixMicros, startedAt: UnixMicros) {
        state.withLock { $0.append((scheduledFor, startedAt)) }
    }

    var count: Int { state.withLock { $0.count } }

    var entries: [(scheduledFor: UnixMicros, startedAt: UnixMicros)] { state.withLock { $0 } }

    /// Waits (checking every millisecond) until at least `count` runs have started.
    func wait(forCount count: Int, timeout: Duration) async throws {
        try await BenchWait.until(timeout: timeout, "\(count) runs to start") { self.count >= count }
    }
}

/// Bounded waits for the benchmark's own orchestration (never used to measure).
enum BenchWait {
    struct TimedOut: Error, CustomStringConvertible {
        var description: String
    }

    /// Checks `condition` every millisecond until it holds; throws after `timeout`.
    static func until(
        timeout: Duration,
        _ what: @autoclosure () -> String,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            if ContinuousClock.now > deadline {
                throw TimedOut(description: "gave up after \(DurationFormat.format(timeout)) waiting for \(what())")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

extension JobRunner {
    /// Runs `body` while the runner runs, then drains the runner and waits for it to stop. If `body`
    /// throws, the drain gets `failureGrace` and the body's error is the one reported.
    func whileRunning<T>(failureGrace: Duration = .seconds(1), _ body: () async throws -> T) async throws -> T {
        let task = Task { try await self.run() }
        let result: T
        do {
            result = try await body()
        } catch {
            drain(grace: failureGrace)
            _ = try? await task.value
            throw error
        }
        drain()
        try await task.value
        return result
    }
}
