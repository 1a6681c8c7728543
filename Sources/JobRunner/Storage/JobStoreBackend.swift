/// The storage boundary: what a database must do for ``JobStore`` and ``JobRunner``.
///
/// One backend instance serves one database in one process. Each call is one transaction: when it
/// returns, its change has committed (or, on error, nothing changed). Scheduling math, job transitions
/// (``JobTransition``) and validation are shared; a backend owns only its transactions and its SQL.
///
/// A backend must pass the conformance suite (`Tests/JobRunnerTests/Conformance`), which drives it
/// through this protocol only: one claim per occurrence under concurrency, schedule and history
/// recorded in one step at finish, fencing of a runner declared dead, rescue, drains, counters that
/// survive pruning, queue limits, misfire policies, retries and the change feed.
package protocol JobStoreBackend: Actor {
    /// The clock for timestamps of operator calls (`add`, `pause`, …) and, unless overridden, the
    /// runner's. A networked backend may provide the database's clock, so that hosts agree.
    nonisolated var clock: any JobClock { get }
    /// What a command run from this database gets as `JOB_DATABASE`, and how messages name it.
    nonisolated var databaseName: String { get }
    /// How far ahead of their due time a runner claims runs unless configured otherwise
    /// (``JobRunnerConfiguration/claimLead``): about what a claim costs at its slowest, so that the
    /// claim is over when the run is due. Zero (the default) for a store in the same process.
    nonisolated var defaultClaimLead: Duration { get }
    /// The error to show a caller for one thrown by this backend: native database errors become
    /// ``JobStoreError``; JobRunner's own errors pass through.
    nonisolated func publicError(_ error: any Error) -> any Error
    /// Maintenance handlers this database offers runners (for SQLite: `wal-checkpoint`, `optimize`).
    nonisolated func maintenanceHandlers() -> [String: JobRegistry.Handler]
    /// Notices changes committed by other processes, for a runner (see ``StoreChangeFeed``).
    nonisolated func changeFeed(pollInterval: Duration, clock: any JobClock) -> any StoreChangeFeed

    /// The schema version of the database.
    func schemaVersion() async throws -> Int

    // MARK: Jobs (each validates, then writes in one transaction)

    func add(_ definition: JobDefinition, replace: Bool) async throws -> JobRecord
    func addMany(_ definitions: [JobDefinition], replace: Bool) async throws
    func declare(_ definition: JobDefinition) async throws -> JobStore.DeclareResult
    func job(named name: String) async throws -> JobRecord?
    func jobs(queue: String?) async throws -> [JobRecord]
    func pause(_ name: String) async throws -> JobRecord
    func resume(_ name: String) async throws -> JobRecord
    func stop(_ name: String) async throws -> JobRecord
    /// Returns the id of the job's run in flight, if it had one.
    func remove(_ name: String) async throws -> Int64?
    func trigger(_ name: String) async throws -> JobRecord

    // MARK: Queues

    func queues() async throws -> [QueueRecord]
    func setQueuePaused(_ name: String, _ paused: Bool) async throws
    func setQueueConcurrency(_ name: String, _ concurrency: Int, create: Bool) async throws
    func removeQueue(_ name: String) async throws

    // MARK: History, status, drains

    func history(_ query: HistoryQuery) async throws -> [RunRecord]
    func run(id: Int64) async throws -> RunRecord?
    func status(perJobLimit: Int?) async throws -> StoreStatus
    func dueCount(now: UnixMicros, limit: Int) async throws -> Int
    func liveRunners() async throws -> [RunnerRecord]
    /// How many runners are alive, for a runner's gauge right after its rescue pass (a store may
    /// answer from what that pass read, at `now`).
    func liveRunnerCount(now: UnixMicros) async throws -> Int
    func runners(limit: Int) async throws -> [RunnerRecord]
    func runCursor(job: String?) async throws -> RunCursor
    func finishedRuns(after cursor: RunCursor, limit: Int) async throws -> (runs: [RunRecord], cursor: RunCursor)
    func requestDrain(grace: Duration?) async throws -> DrainRequest
    func drainProgress(runnerIDs: [Int64], since: UnixMicros) async throws -> DrainProgress

    // MARK: The dashboard (bounded however many jobs and runs there are)

    /// One page of jobs, filtered, sorted and counted by the database, in the order of
    /// ``JobsPageQuery/precedes(_:_:)`` (names in byte order).
    func jobsPage(_ query: JobsPageQuery) async throws -> JobsPage
    /// Runs in flight per runner id, without reading the history.
    func inFlightByRunner() async throws -> [Int64: Int]

    // MARK: History size (in short transactions; cancelling the caller stops between two)

    func prune(finishedBefore cutoff: UnixMicros, batchSize: Int) async throws -> Int
    /// Deletes runs that finished before `cutoff`, in transactions of at most `batchSize`; returns
    /// how many (``applyRetention(_:now:batchSize:)`` builds on it).
    func deleteFinishedRuns(before cutoff: UnixMicros, batchSize: Int) async throws -> Int
    /// Deletes, for every job, its finished runs older than its `keep` newest; returns how many.
    func deleteRuns(beyond keep: Int, batchSize: Int) async throws -> Int
    func storageSize() async throws -> StorageSize
    func reclaimSpace() async throws -> Int64

    // MARK: Runners

    func registerRunner(_ registration: RunnerRegistration, now: UnixMicros) async throws -> Int64
    /// Renews the lease and takes a pending drain order.
    func heartbeat(runnerID: Int64, now: UnixMicros) async throws -> Heartbeat
    /// Takes a pending drain order without renewing the lease (cheap when there is none).
    func takeDrainOrder(runnerID: Int64, now: UnixMicros) async throws -> DrainOrder?
    func markDraining(runnerID: Int64) async throws
    /// Deregisters a runner; runs it still holds are recorded `interrupted`.
    func deregisterRunner(runnerID: Int64, now: UnixMicros) async throws
    /// Records `interrupted` the runs `runIDs` still in flight under `runnerID`: runs it claimed
    /// without ever learning so (a lost COMMIT acknowledgement), so never started. Returns those
    /// recorded; a run that ended meanwhile, or is no longer this runner's, is left alone.
    func releaseUnknownRuns(_ runIDs: [Int64], runnerID: Int64, now: UnixMicros) async throws -> [Int64]
    /// Declares dead the runners whose lease expired (or, registered with the same boot id and PID
    /// namespace as `local.host`, whatever its display name, whose process is gone), except `selfID`; records every run of a runner no longer live `abandoned` (killing
    /// what is left of its command on this host first) and reschedules its job. Returns those runs.
    func rescueOrphans(selfID: Int64?, now: UnixMicros, local: LocalProcesses) async throws -> [Int64]

    // MARK: The hot path

    /// Claims due runs for `runnerID`, reading the time from `clock` once the claim holds its locks,
    /// so that a start is never stamped before the previous run of the same job was recorded.
    func claim(runnerID: Int64, clock: any JobClock, scope: ClaimScope) async throws -> ClaimBatch
    /// Records finished runs and their jobs' next occurrences, each in one step. Returns, for each,
    /// whether it was recorded: false when fenced (the run is no longer its runner's).
    func finish(_ runs: [FinishedRun]) async throws -> [Bool]
    /// Records a command's process group; false when the run is no longer this runner's.
    func recordProcessGroup(runID: Int64, runnerID: Int64, pgid: Int32, leaderStart: Int64?) async throws -> Bool
    /// Whether a run is still this (live) runner's to execute.
    func isStillClaimed(runID: Int64, runnerID: Int64) async throws -> Bool
    /// Of `runIDs` (runs claimed ahead of their due time, not begun), those still `running` that the
    /// claim would not take now: their job was paused, stopped or removed since, or their queue
    /// paused. The runner recalls them instead of starting them.
    func recallable(runIDs: [Int64]) async throws -> [Int64]
}

extension JobStoreBackend {
    package nonisolated var defaultClaimLead: Duration { .zero }

    package func liveRunnerCount(now: UnixMicros) async throws -> Int { try await liveRunners().count }

    /// Applies a history retention at `now`: deletes finished runs older than its age and, per job,
    /// all but the newest runs beyond its cap, then reclaims the space (``reclaimSpace()``). Counters
    /// are kept; a run in flight is never deleted.
    ///
    /// Like ``prune(finishedBefore:batchSize:)`` it works in short transactions and lets other
    /// callers of the store run between them; cancelling the calling task stops it between two.
    package func applyRetention(
        _ retention: HistoryRetention,
        now: UnixMicros,
        batchSize: Int
    ) async throws -> PruneResult {
        var deleted = 0
        if let age = retention.maxAge {
            deleted += try await deleteFinishedRuns(before: now - age.microseconds, batchSize: batchSize)
        }
        if let keep = retention.maxRunsPerJob, !Task.isCancelled {
            deleted += try await deleteRuns(beyond: max(1, keep), batchSize: batchSize)
        }
        let freed = deleted > 0 && !Task.isCancelled ? try await reclaimSpace() : 0
        return PruneResult(deletedRuns: deleted, freedBytes: freed)
    }
}

/// Reports changes committed through other backend instances (other processes, or another instance
/// in this one: a feed must not filter by process), so that a runner wakes for work it did not claim
/// (a `jobctl add`, `trigger`, `resume`) and picks up drain orders without waiting for a heartbeat.
///
/// A change feed only shortens waits: the runner looks for due work and drain orders at every
/// heartbeat anyway, so a lost notification delays, and never loses, anything.
package protocol StoreChangeFeed: Sendable {
    /// Calls `onChange` after each change by another process, until the calling task is cancelled.
    func run(onChange: @escaping @Sendable () async -> Void) async
    /// Starts reporting (the runner waits).
    func arm()
    /// Stops reporting (the runner writes itself: its own commits are not news to it).
    func disarm()
}
