/// The dashboard's queries (``JobStore/jobsPage(_:)``), bounded whatever the size of the database.
extension SQLiteJobStore {
    package func jobsPage(_ query: JobsPageQuery) throws -> JobsPage {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let queue = query.queue {
            conditions.append("queue = ?")
            values.append(.text(queue))
        }
        if let state = query.state {
            conditions.append("state = ?")
            values.append(.text(state.rawValue))
        }
        if query.failing { conditions.append("last_outcome IN ('failed', 'timeout', 'abandoned')") }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let direction = query.descending ? "DESC" : "ASC"
        // The same order as JobsPageQuery.precedes: a missing next run counts as the latest, a
        // missing last run as the earliest; ties by name.
        let order =
            switch query.sort {
            case .next: "coalesce(next_run_at, 9223372036854775807) \(direction), name \(direction)"
            case .name: "name \(direction)"
            case .runs: "run_count \(direction), name \(direction)"
            case .last: "coalesce(last_started_at, -9223372036854775808) \(direction), name \(direction)"
            case .queue: "queue \(direction), name \(direction)"
            }
        return try connection.read {
            // The page's ids first: the sort then moves small records, not whole rows (for a deep
            // page of 100,000 jobs, about half the time); then those rows by id, in that order.
            let ids = try connection.all(
                "SELECT id FROM jobs \(filter) ORDER BY \(order) LIMIT ? OFFSET ?",
                values + [.integer(Int64(max(0, query.limit))), .integer(Int64(max(0, query.offset)))]
            ) { $0.int64(0) }
            let total: Int
            if ids.isEmpty && query.offset == 0 {
                total = 0
            } else if ids.count < query.limit && (query.offset == 0 || !ids.isEmpty) {
                total = query.offset + ids.count
            } else {
                total = Int(try connection.scalarInt("SELECT count(*) FROM jobs \(filter)", values) ?? 0)
            }
            var rows: [Int64: JobRecord] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = ids[start..<min(ids.count, start + 500)]
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                for job in try connection.all(
                    "SELECT \(JobRow.jobColumns) FROM jobs WHERE id IN (\(marks))", chunk.map { .integer($0) },
                    map: { try JobRow.decodeJob($0) })
                {
                    rows[job.id] = job
                }
            }
            return JobsPage(jobs: ids.compactMap { rows[$0] }, total: total)
        }
    }

    /// Runs in flight per runner, through the partial index of runs in flight (the condition is
    /// written out, not bound, so that the planner can use that index).
    package func inFlightByRunner() throws -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        try connection.query(
            "SELECT runner_id, count(*) FROM runs WHERE outcome = 'running' AND runner_id IS NOT NULL GROUP BY runner_id"
        ) { counts[$0.int64(0)] = $0.int(1) }
        return counts
    }
}
