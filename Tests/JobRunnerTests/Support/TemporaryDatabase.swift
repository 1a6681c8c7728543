import Foundation
import Logging
import Testing

@testable import JobRunner

/// A fresh directory under the temp dir, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobrunner-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// Opens a store on a new file database (WAL and locking need a real file) and checks on the way out
/// that no transaction was left open.
func withTemporaryDatabase<T>(
    clock: any JobClock = SystemJobClock(),
    configuration: JobStore.Configuration = JobStore.Configuration(),
    _ body: (JobStore, String) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        let path = directory + "/jobs.sqlite"
        let store = try await JobStore.open(path: path, configuration: configuration, clock: clock)
        let result = try await body(store, path)
        let open = await store.hasOpenTransaction()
        #expect(!open, "a transaction was left open")
        return result
    }
}

extension JobStore {
    /// The SQLite backend of a store opened by ``withTemporaryDatabase(clock:configuration:_:)``.
    var sqlite: SQLiteJobStore {
        guard let sqlite = backend as? SQLiteJobStore else { preconditionFailure("not an SQLite store") }
        return sqlite
    }

    // The runner's calls, with a fixed time and a host given by name.

    func registerRunner(
        host: String, pid: Int32, lease: Duration, queues: [String]?, concurrency: Int, now: UnixMicros
    ) async throws -> Int64 {
        let registration = RunnerRegistration(
            host: .test(host), pid: pid, lease: lease, queues: queues, concurrency: concurrency)
        return try await backend.registerRunner(registration, now: now)
    }

    func claim(runnerID: Int64, now: UnixMicros, scope: ClaimScope) async throws -> ClaimBatch {
        try await backend.claim(runnerID: runnerID, clock: ManualJobClock(now: now), scope: scope)
    }

    func finish(_ runs: [FinishedRun]) async throws -> [Bool] { try await backend.finish(runs) }

    func isStillClaimed(runID: Int64, runnerID: Int64) async throws -> Bool {
        try await backend.isStillClaimed(runID: runID, runnerID: runnerID)
    }

    func recordProcessGroup(runID: Int64, runnerID: Int64, pgid: Int32, leaderStart: Int64?) async throws -> Bool {
        try await backend.recordProcessGroup(runID: runID, runnerID: runnerID, pgid: pgid, leaderStart: leaderStart)
    }

    /// Rescues as a runner on the host `host` would, with `isProcessAlive` for its pids.
    func rescueOrphans(
        selfID: Int64?, host: String, now: UnixMicros, isProcessAlive: @escaping @Sendable (Int32) -> Bool
    ) async throws -> [Int64] {
        let local = LocalProcesses(host: .test(host), isAlive: isProcessAlive, killLeftovers: { _, _, _ in })
        return try await backend.rescueOrphans(selfID: selfID, now: now, local: local)
    }
}

extension HostIdentity {
    /// A host named `name`, the same host as every other identity made with that name.
    static func test(_ name: String) -> HostIdentity {
        HostIdentity(name: name, bootID: "boot-of-\(name)", pidNamespace: "pid:[1]")
    }
}

/// A logger that drops everything (tests never bootstrap the logging system).
let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// 2026-01-01T00:00:00Z in microseconds.
let newYear2026: UnixMicros = 1_767_225_600_000_000

extension Duration {
    static func us(_ value: Int64) -> Duration { .microseconds(value) }
}
