#if PostgreSQL
    package import JobRunner

    // NOT DONE (branch pg-store only, not for main): every requirement of `JobStoreBackend` below that
    // throws `PostgresStoreError.notImplemented` is still to be written, with the SQL of
    // shared/research/scaleout.md §3.2–3.5, until the conformance suite passes on PostgreSQL.
    // Done: schemaVersion() (PostgresJobStore.swift), clock, databaseName.
    extension PostgresJobStore: JobStoreBackend {
        package nonisolated var databaseName: String { url.redacted }

        /// NOT DONE: PostgreSQL errors (PSQLError) are to map to `JobStoreError` (unavailable, busy, …).
        package nonisolated func publicError(_ error: any Error) -> any Error { error }

        /// None yet (a partition-maintenance handler may come with history partitioning).
        package nonisolated func maintenanceHandlers() -> [String: JobRegistry.Handler] { [:] }

        /// NOT DONE: LISTEN/NOTIFY on a session connection (scaleout.md §2, §3.5). Reporting nothing is
        /// correct but slow: a runner still finds work and drain orders at each heartbeat.
        package nonisolated func changeFeed(pollInterval: Duration, clock: any JobClock) -> any StoreChangeFeed {
            SilentChangeFeed()
        }

        package func add(_ definition: JobDefinition, replace: Bool) async throws -> JobRecord {
            throw PostgresStoreError.notImplemented("add")
        }

        package func addMany(_ definitions: [JobDefinition], replace: Bool) async throws {
            throw PostgresStoreError.notImplemented("addMany")
        }

        package func declare(_ definition: JobDefinition) async throws -> JobStore.DeclareResult {
            throw PostgresStoreError.notImplemented("declare")
        }

        package func job(named name: String) async throws -> JobRecord? {
            throw PostgresStoreError.notImplemented("job")
        }

        package func jobs(queue: String?) async throws -> [JobRecord] {
            throw PostgresStoreError.notImplemented("jobs")
        }

        package func pause(_ name: String) async throws -> JobRecord {
            throw PostgresStoreError.notImplemented("pause")
        }

        package func resume(_ name: String) async throws -> JobRecord {
            throw PostgresStoreError.notImplemented("resume")
        }

        package func stop(_ name: String) async throws -> JobRecord {
            throw PostgresStoreError.notImplemented("stop")
        }

        package func remove(_ name: String) async throws -> Int64? {
            throw PostgresStoreError.notImplemented("remove")
        }

        package func trigger(_ name: String) async throws -> JobRecord {
            throw PostgresStoreError.notImplemented("trigger")
        }

        package func queues() async throws -> [QueueRecord] {
            throw PostgresStoreError.notImplemented("queues")
        }

        package func setQueuePaused(_ name: String, _ paused: Bool) async throws {
            throw PostgresStoreError.notImplemented("setQueuePaused")
        }

        package func setQueueConcurrency(_ name: String, _ concurrency: Int, create: Bool) async throws {
            throw PostgresStoreError.notImplemented("setQueueConcurrency")
        }

        package func removeQueue(_ name: String) async throws {
            throw PostgresStoreError.notImplemented("removeQueue")
        }

        package func history(_ query: HistoryQuery) async throws -> [RunRecord] {
            throw PostgresStoreError.notImplemented("history")
        }

        package func run(id: Int64) async throws -> RunRecord? {
            throw PostgresStoreError.notImplemented("run")
        }

        package func status(perJobLimit: Int?) async throws -> StoreStatus {
            throw PostgresStoreError.notImplemented("status")
        }

        package func dueCount(now: UnixMicros, limit: Int) async throws -> Int {
            throw PostgresStoreError.notImplemented("dueCount")
        }

        package func liveRunners() async throws -> [RunnerRecord] {
            throw PostgresStoreError.notImplemented("liveRunners")
        }

        package func runners(limit: Int) async throws -> [RunnerRecord] {
            throw PostgresStoreError.notImplemented("runners")
        }

        package func runCursor(job: String?) async throws -> RunCursor {
            throw PostgresStoreError.notImplemented("runCursor")
        }

        package func finishedRuns(after cursor: RunCursor, limit: Int) async throws -> (
            runs: [RunRecord], cursor: RunCursor
        ) {
            throw PostgresStoreError.notImplemented("finishedRuns")
        }

        package func requestDrain(grace: Duration?) async throws -> DrainRequest {
            throw PostgresStoreError.notImplemented("requestDrain")
        }

        package func drainProgress(runnerIDs: [Int64], since: UnixMicros) async throws -> DrainProgress {
            throw PostgresStoreError.notImplemented("drainProgress")
        }

        package func prune(finishedBefore cutoff: UnixMicros, batchSize: Int) async throws -> Int {
            throw PostgresStoreError.notImplemented("prune")
        }

        package func applyRetention(_ retention: HistoryRetention, now: UnixMicros, batchSize: Int) async throws
            -> PruneResult
        {
            throw PostgresStoreError.notImplemented("applyRetention")
        }

        package func storageSize() async throws -> StorageSize {
            throw PostgresStoreError.notImplemented("storageSize")
        }

        package func reclaimSpace() async throws -> Int64 {
            throw PostgresStoreError.notImplemented("reclaimSpace")
        }

        package func registerRunner(_ registration: RunnerRegistration, now: UnixMicros) async throws -> Int64 {
            throw PostgresStoreError.notImplemented("registerRunner")
        }

        package func heartbeat(runnerID: Int64, now: UnixMicros) async throws -> Heartbeat {
            throw PostgresStoreError.notImplemented("heartbeat")
        }

        package func takeDrainOrder(runnerID: Int64, now: UnixMicros) async throws -> DrainOrder? {
            throw PostgresStoreError.notImplemented("takeDrainOrder")
        }

        package func markDraining(runnerID: Int64) async throws {
            throw PostgresStoreError.notImplemented("markDraining")
        }

        package func deregisterRunner(runnerID: Int64, now: UnixMicros) async throws {
            throw PostgresStoreError.notImplemented("deregisterRunner")
        }

        package func rescueOrphans(selfID: Int64?, now: UnixMicros, local: LocalProcesses) async throws -> [Int64] {
            throw PostgresStoreError.notImplemented("rescueOrphans")
        }

        package func claim(runnerID: Int64, clock: any JobClock, scope: ClaimScope) async throws -> ClaimBatch {
            throw PostgresStoreError.notImplemented("claim")
        }

        package func finish(_ runs: [FinishedRun]) async throws -> [Bool] {
            throw PostgresStoreError.notImplemented("finish")
        }

        package func recordProcessGroup(runID: Int64, runnerID: Int64, pgid: Int32, leaderStart: Int64?) async throws
            -> Bool
        {
            throw PostgresStoreError.notImplemented("recordProcessGroup")
        }

        package func isStillClaimed(runID: Int64, runnerID: Int64) async throws -> Bool {
            throw PostgresStoreError.notImplemented("isStillClaimed")
        }
    }

    /// A change feed that reports nothing, until LISTEN/NOTIFY is written.
    struct SilentChangeFeed: StoreChangeFeed {
        func run(onChange: @escaping @Sendable () async -> Void) async {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
        }

        func arm() {}
        func disarm() {}
    }
#endif
