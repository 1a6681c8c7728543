#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    /// The dashboard's queries (``JobStore/jobsPage(_:)``), bounded whatever the size of the database:
    /// the same results as SQLite's, with the filtering, sorting, counting and paging in the database.
    extension PostgresJobStore {
        /// A page of jobs, in the order of ``JobsPageQuery/precedes(_:_:)``: names compare in byte
        /// order (`COLLATE "C"`, as SQLite's `BINARY` and ``jobs(queue:)``), a missing next run counts
        /// as the latest and a missing last run as the earliest, in both directions.
        ///
        /// The page's ids come first, so that the sort moves ids and keys rather than whole rows, then
        /// those rows; both, and the count when one is needed, in one snapshot.
        package func jobsPage(_ query: JobsPageQuery) async throws -> JobsPage {
            let limit = Int64(max(0, query.limit))
            let offset = Int64(max(0, query.offset))
            var select = PostgresQuery.StringInterpolation(literalCapacity: 256, interpolationCount: 4)
            select.appendLiteral("SELECT id FROM jobs")
            Self.appendFilter(query, to: &select)
            select.appendLiteral(" ORDER BY ")
            select.appendLiteral(Self.jobsPageOrder(query))
            select.appendLiteral(" LIMIT ")
            select.appendInterpolation(limit)
            select.appendLiteral(" OFFSET ")
            select.appendInterpolation(offset)
            let idsQuery = PostgresQuery(stringInterpolation: select)
            return try await snapshotRead { connection in
                let ids = try await all(idsQuery, on: connection) { try $0.int64(0) }
                // As on SQLite: a page that is not full, and is not past the end, tells the total.
                let total: Int
                if ids.isEmpty && offset == 0 {
                    total = 0
                } else if Int64(ids.count) < limit && (offset == 0 || !ids.isEmpty) {
                    total = Int(offset) + ids.count
                } else {
                    var count = PostgresQuery.StringInterpolation(literalCapacity: 128, interpolationCount: 2)
                    count.appendLiteral("SELECT count(*) FROM jobs")
                    Self.appendFilter(query, to: &count)
                    total = Int(try await scalar(PostgresQuery(stringInterpolation: count), on: connection) ?? 0)
                }
                guard !ids.isEmpty else { return JobsPage(jobs: [], total: total) }
                let jobs = try await all(
                    """
                    SELECT \(unescaped: JobRow.jobColumns) FROM jobs
                    WHERE id IN (SELECT unnest(\(ids)::bigint[]))
                    """, on: connection
                ) { try JobRow.decodeJob($0) }
                let byID = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0) })
                return JobsPage(jobs: ids.compactMap { byID[$0] }, total: total)
            }
        }

        /// Appends the WHERE clause of `query`'s filters (nothing without any), its values bound.
        private static func appendFilter(_ query: JobsPageQuery, to sql: inout PostgresQuery.StringInterpolation) {
            var conditions = 0
            func and() {
                sql.appendLiteral(conditions == 0 ? " WHERE " : " AND ")
                conditions += 1
            }
            if let queue = query.queue {
                and()
                sql.appendLiteral("queue = ")
                sql.appendInterpolation(queue)
            }
            if let state = query.state {
                and()
                sql.appendLiteral("state = ")
                sql.appendInterpolation(state.rawValue)
            }
            if query.failing {
                and()
                sql.appendLiteral("last_outcome IN ('failed', 'timeout', 'abandoned')")
            }
        }

        /// The ORDER BY list of `query` (fixed SQL, chosen by its sort and direction). A missing
        /// next run sorts as the latest (PostgreSQL's default places for NULL: last ascending, first
        /// descending); a missing last run as the earliest.
        static func jobsPageOrder(_ query: JobsPageQuery) -> String {
            let direction = query.descending ? "DESC" : "ASC"
            let name = "name COLLATE \"C\" \(direction)"
            switch query.sort {
            case .next: return "next_run_at \(direction), \(name)"
            case .name: return name
            case .runs: return "run_count \(direction), \(name)"
            case .last:
                return "last_started_at \(direction) NULLS \(query.descending ? "LAST" : "FIRST"), \(name)"
            case .queue: return "queue COLLATE \"C\" \(direction), \(name)"
            }
        }

        /// Runs in flight per runner, from the partial index of runs in flight (`runs_in_flight`).
        package func inFlightByRunner() async throws -> [Int64: Int] {
            try await read { connection in
                var counts: [Int64: Int] = [:]
                for (runner, count) in try await all(
                    """
                    SELECT runner_id, count(*) FROM runs
                    WHERE outcome = 'running' AND runner_id IS NOT NULL GROUP BY runner_id
                    """, on: connection, map: { (try $0.int64(0), try $0.int(1)) })
                {
                    counts[runner] = count
                }
                return counts
            }
        }
    }
#endif
