extension SQLiteJobStore {
    /// A cursor at the present: every run that finishes from now on (including those in flight now)
    /// will be reported by ``finishedRuns(after:limit:)``.
    package func runCursor(job: String?) throws -> RunCursor {
        try connection.read {
            let last = try connection.scalarInt("SELECT coalesce(max(id), 0) FROM runs") ?? 0
            var sql = "SELECT id FROM runs WHERE outcome = 'running'"
            var args: [SQLiteValue] = []
            if let job {
                sql += " AND job_name = ?"
                args.append(.text(job))
            }
            let pending = try connection.all(sql, args) { $0.int64(0) }
            return RunCursor(lastID: last, pending: Set(pending), job: job)
        }
    }

    /// The runs that finished since `cursor` (each once, in the order they finished) and the cursor
    /// to pass next time. Reads at most `limit` new runs per call; the rest come next time.
    package func finishedRuns(after cursor: RunCursor, limit: Int) throws -> (
        runs: [RunRecord], cursor: RunCursor
    ) {
        try connection.read {
            var next = cursor
            var finished: [RunRecord] = []
            if !cursor.pending.isEmpty {
                let ids = JobRow.encodeArgv(cursor.pending.sorted().map(String.init))
                let rows = try connection.all(
                    """
                    SELECT \(JobRow.runColumns) FROM runs
                    WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))
                    """,
                    [.text(ids)],
                    map: JobRow.decodeRun
                )
                // A pending run that is gone was pruned before it could be reported.
                next.pending = Set(rows.filter { $0.finishedAt == nil }.map(\.id))
                finished += rows.filter { $0.finishedAt != nil }
            }
            var sql = "SELECT \(JobRow.runColumns) FROM runs WHERE id > ?"
            var args: [SQLiteValue] = [.integer(cursor.lastID)]
            if let job = cursor.job {
                sql += " AND job_name = ?"
                args.append(.text(job))
            }
            sql += " ORDER BY id LIMIT ?"
            args.append(.integer(Int64(max(1, limit))))
            let fresh = try connection.all(sql, args, map: JobRow.decodeRun)
            for run in fresh {
                if run.finishedAt == nil { next.pending.insert(run.id) } else { finished.append(run) }
            }
            if fresh.count == max(1, limit), let last = fresh.last {
                next.lastID = last.id
            } else {
                // Runs of other jobs above the last one read need not be read again.
                next.lastID = max(
                    cursor.lastID, fresh.last?.id ?? 0,
                    try connection.scalarInt("SELECT coalesce(max(id), 0) FROM runs") ?? 0)
            }
            finished.sort { ($0.finishedAt ?? 0, $0.id) < ($1.finishedAt ?? 0, $1.id) }
            return (finished, next)
        }
    }
}
