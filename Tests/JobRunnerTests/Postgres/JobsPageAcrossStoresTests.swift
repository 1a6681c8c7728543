#if PostgreSQL
    import Testing

    @testable import JobRunner

    /// The dashboard's pages of jobs on PostgreSQL are the pages SQLite gives for the same database:
    /// the same jobs in the same order (names compared byte by byte) with the same totals, for every
    /// sort, direction, filter and offset, past the end included.
    @Suite("jobs page: PostgreSQL equals SQLite")
    struct JobsPageAcrossStoresTests {
        /// Every query of the dashboard check, answered on a fresh database of `factory` holding the
        /// check's jobs and runs; and the runs in flight per runner.
        static func answers(_ factory: BackendFactory) async throws -> (pages: [[String]], inFlight: [Int]) {
            var pages: [[String]] = []
            var inFlight: [Int] = []
            try await BackendConformance.withHarness(factory) { h in
                let held = try await BackendConformance.makeJobsPageFixture(h)
                for query in BackendConformance.jobsPageQueries() {
                    pages.append(try await BackendConformance.jobsPageResult(h.backend, query))
                }
                // Runner ids are the stores' own; what each holds, in the order they registered, is not.
                let counts = try await h.backend.inFlightByRunner()
                inFlight = held.keys.sorted().map { counts[$0] ?? 0 }
            }
            return (pages, inFlight)
        }

        @Test("every sort, direction, filter and offset gives the same page and total on both stores")
        func samePages() async throws {
            let sqlite = try await Self.answers(.sqlite)
            let postgres = try await Self.answers(.postgreSQL)
            let queries = BackendConformance.jobsPageQueries()
            #expect(sqlite.pages.count == queries.count && postgres.pages.count == queries.count)
            for (index, query) in queries.enumerated() where sqlite.pages[index] != postgres.pages[index] {
                Issue.record(
                    """
                    \(query.sort) descending \(query.descending) queue \(query.queue ?? "-") \
                    state \(query.state?.rawValue ?? "-") failing \(query.failing) offset \(query.offset) \
                    limit \(query.limit): SQLite \(sqlite.pages[index]) PostgreSQL \(postgres.pages[index])
                    """)
            }
            #expect(sqlite.pages.contains { $0.count > 2 }, "pages with jobs on them were compared")
            #expect(sqlite.inFlight == [2, 3] && postgres.inFlight == [2, 3])
        }
    }
#endif
