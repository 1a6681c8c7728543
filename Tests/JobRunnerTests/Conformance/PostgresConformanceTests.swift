#if PostgreSQL
    import JobRunnerPostgres
    import Testing

    @testable import JobRunner

    extension BackendFactory {
        /// PostgreSQL: a new database on the test server (JOBRUNNER_TEST_POSTGRES_URL) for each check;
        /// each instance opened on it has its own connection pool, as another process would have.
        static let postgreSQL = BackendFactory(name: "PostgreSQL") { clock in
            let url = try await PostgresTestServer.createDatabase()
            _ = try await PostgresJobStore.open(url: url, clock: clock)  // created and migrated before the check
            return ConformanceDatabase(
                open: { try await PostgresJobStore.open(url: url, clock: clock) },
                remove: { try await PostgresTestServer.drop(url) }
            )
        }
    }

    /// The storage contract, checked against the PostgreSQL backend (with the PostgreSQL trait only).
    @Suite("Backend conformance: PostgreSQL")
    struct PostgresConformanceTests {
        @Test("conformance", arguments: BackendConformance.checks)
        func conformance(_ check: BackendConformance.Check) async throws {
            try await check.run(.postgreSQL)
        }
    }
#endif
