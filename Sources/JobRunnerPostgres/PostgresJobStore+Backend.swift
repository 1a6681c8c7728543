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
