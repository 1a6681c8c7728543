import Synchronization

@testable import JobRunner

/// A store that forwards every call to a real one, except where a test makes it fail: the database
/// unreachable for heartbeats and rescues (a host cut off from it), or a claim whose commit went
/// through but whose acknowledgement was lost on the way back.
actor FaultyBackend: JobStoreBackend {
    /// What fails, switched by the test while runners use the store.
    struct Faults: Sendable {
        /// Heartbeats throw, as if the database could not be reached.
        var heartbeatsFail = false
        /// Rescues throw, as if the database could not be reached.
        var rescuesFail = false
        /// The next claim commits, then throws as if the connection dropped before the acknowledgement.
        var loseNextClaimAck = false
    }

    /// What the runner did through this store, for the test to check.
    struct Calls: Sendable {
        var heartbeats = 0
        var failedHeartbeats = 0
        var rescues = 0
        var claimsWithLostAck: [Int64] = []
    }

    struct Unreachable: Error, CustomStringConvertible {
        var description: String { "the database could not be reached (a fault injected by the test)" }
    }

    let inner: any JobStoreBackend
    nonisolated let faults = Mutex(Faults())
    nonisolated let calls = Mutex(Calls())

    init(_ inner: any JobStoreBackend) {
        self.inner = inner
    }

    /// A store over this backend, for the runner and the test.
    nonisolated var store: JobStore { JobStore(backend: self) }

    nonisolated var clock: any JobClock { inner.clock }
    nonisolated var databaseName: String { inner.databaseName }
    nonisolated func publicError(_ error: any Error) -> any Error { inner.publicError(error) }
    nonisolated func maintenanceHandlers() -> [String: JobRegistry.Handler] { inner.maintenanceHandlers() }
    nonisolated func changeFeed(pollInterval: Duration, clock: any JobClock) -> any StoreChangeFeed {
        inner.changeFeed(pollInterval: pollInterval, clock: clock)
    }

    func schemaVersion() async throws -> Int { try await inner.schemaVersion() }

    func add(_ definition: JobDefinition, replace: Bool) async throws -> JobRecord {
        try await inner.add(definition, replace: replace)
    }
    func addMany(_ definitions: [JobDefinition], replace: Bool) async throws {
        try await inner.addMany(definitions, replace: replace)
    }
    func declare(_ definition: JobDefinition) async throws -> JobStore.DeclareResult {
        try await inner.declare(definition)
    }
    func job(named name: String) async throws -> JobRecord? { try await inner.job(named: name) }
    func jobs(queue: String?) async throws -> [JobRecord] { try await inner.jobs(queue: queue) }
    func pause(_ name: String) async throws -> JobRecord { try await inner.pause(name) }
    func resume(_ name: String) async throws -> JobRecord { try await inner.resume(name) }
    func stop(_ name: String) async throws -> JobRecord { try await inner.stop(name) }
    func remove(_ name: String) async throws -> Int64? { try await inner.remove(name) }
    func trigger(_ name: String) async throws -> JobRecord { try await inner.trigger(name) }

    func queues() async throws -> [QueueRecord] { try await inner.queues() }
    func setQueuePaused(_ name: String, _ paused: Bool) async throws { try await inner.setQueuePaused(name, paused) }
    func setQueueConcurrency(_ name: String, _ concurrency: Int, create: Bool) async throws {
        try await inner.setQueueConcurrency(name, concurrency, create: create)
    }
    func removeQueue(_ name: String) async throws { try await inner.removeQueue(name) }

    func history(_ query: HistoryQuery) async throws -> [RunRecord] { try await inner.history(query) }
    func run(id: Int64) async throws -> RunRecord? { try await inner.run(id: id) }
    func status(perJobLimit: Int?) async throws -> StoreStatus { try await inner.status(perJobLimit: perJobLimit) }
    func dueCount(now: UnixMicros, limit: Int) async throws -> Int { try await inner.dueCount(now: now, limit: limit) }
    func liveRunners() async throws -> [RunnerRecord] { try await inner.liveRunners() }
    func runners(limit: Int) async throws -> [RunnerRecord] { try await inner.runners(limit: limit) }
    func runCursor(job: String?) async throws -> RunCursor { try await inner.runCursor(job: job) }
    func finishedRuns(after cursor: RunCursor, limit: Int) async throws -> (runs: [RunRecord], cursor: RunCursor) {
        try await inner.finishedRuns(after: cursor, limit: limit)
    }
    func requestDrain(grace: Duration?) async throws -> DrainRequest { try await inner.requestDrain(grace: grace) }
    func drainProgress(runnerIDs: [Int64], since: UnixMicros) async throws -> DrainProgress {
        try await inner.drainProgress(runnerIDs: runnerIDs, since: since)
    }
    func jobsPage(_ query: JobsPageQuery) async throws -> JobsPage { try await inner.jobsPage(query) }
    func inFlightByRunner() async throws -> [Int64: Int] { try await inner.inFlightByRunner() }

    func prune(finishedBefore cutoff: UnixMicros, batchSize: Int) async throws -> Int {
        try await inner.prune(finishedBefore: cutoff, batchSize: batchSize)
    }
    func deleteFinishedRuns(before cutoff: UnixMicros, batchSize: Int) async throws -> Int {
        try await inner.deleteFinishedRuns(before: cutoff, batchSize: batchSize)
    }
    func deleteRuns(beyond keep: Int, batchSize: Int) async throws -> Int {
        try await inner.deleteRuns(beyond: keep, batchSize: batchSize)
    }
    func storageSize() async throws -> StorageSize { try await inner.storageSize() }
    func reclaimSpace() async throws -> Int64 { try await inner.reclaimSpace() }

    func registerRunner(_ registration: RunnerRegistration, now: UnixMicros) async throws -> Int64 {
        try await inner.registerRunner(registration, now: now)
    }
    func heartbeat(runnerID: Int64, now: UnixMicros) async throws -> Heartbeat {
        let fail = faults.withLock { $0.heartbeatsFail }
        calls.withLock {
            $0.heartbeats += 1
            if fail { $0.failedHeartbeats += 1 }
        }
        if fail { throw Unreachable() }
        return try await inner.heartbeat(runnerID: runnerID, now: now)
    }
    func releaseUnknownRuns(_ runIDs: [Int64], runnerID: Int64, now: UnixMicros) async throws -> [Int64] {
        try await inner.releaseUnknownRuns(runIDs, runnerID: runnerID, now: now)
    }
    func takeDrainOrder(runnerID: Int64, now: UnixMicros) async throws -> DrainOrder? {
        try await inner.takeDrainOrder(runnerID: runnerID, now: now)
    }
    func markDraining(runnerID: Int64) async throws { try await inner.markDraining(runnerID: runnerID) }
    func deregisterRunner(runnerID: Int64, now: UnixMicros) async throws {
        try await inner.deregisterRunner(runnerID: runnerID, now: now)
    }
    func rescueOrphans(selfID: Int64?, now: UnixMicros, local: LocalProcesses) async throws -> [Int64] {
        calls.withLock { $0.rescues += 1 }
        if faults.withLock({ $0.rescuesFail }) { throw Unreachable() }
        return try await inner.rescueOrphans(selfID: selfID, now: now, local: local)
    }

    func claim(runnerID: Int64, clock: any JobClock, scope: ClaimScope) async throws -> ClaimBatch {
        let batch = try await inner.claim(runnerID: runnerID, clock: clock, scope: scope)
        let loseAck = faults.withLock { f in
            defer { if !batch.claims.isEmpty { f.loseNextClaimAck = false } }
            return f.loseNextClaimAck && !batch.claims.isEmpty
        }
        if loseAck {
            calls.withLock { $0.claimsWithLostAck += batch.claims.map(\.runID) }
            throw Unreachable()
        }
        return batch
    }
    func finish(_ runs: [FinishedRun]) async throws -> [Bool] { try await inner.finish(runs) }
    func recordProcessGroup(runID: Int64, runnerID: Int64, pgid: Int32, leaderStart: Int64?) async throws -> Bool {
        try await inner.recordProcessGroup(runID: runID, runnerID: runnerID, pgid: pgid, leaderStart: leaderStart)
    }
    func isStillClaimed(runID: Int64, runnerID: Int64) async throws -> Bool {
        try await inner.isStillClaimed(runID: runID, runnerID: runnerID)
    }

    func recallable(runIDs: [Int64]) async throws -> [Int64] {
        try await inner.recallable(runIDs: runIDs)
    }
}
