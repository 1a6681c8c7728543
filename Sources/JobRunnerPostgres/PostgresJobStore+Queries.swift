#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    // NOT DONE (branch pg-store only): history, status, runner lists, drains, the run cursor and
    // history size for PostgreSQL.
    extension PostgresJobStore {
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

    }
#endif
