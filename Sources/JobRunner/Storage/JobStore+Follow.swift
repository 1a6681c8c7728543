/// Where a follower of the run history stands (`jobctl history --follow`): the newest run it has
/// seen, and the runs it saw in flight and waits for.
///
/// Runs are inserted when they are claimed and updated when they end, in any order; a writer holds
/// SQLite's single write lock, so a run committed later always has a higher id. Watching ids above
/// ``lastID`` and the ``pending`` ones therefore reports every run exactly once, when it has finished.
public struct RunCursor: Sendable, Hashable {
    /// The highest run id seen.
    public var lastID: Int64
    /// Runs seen in flight, not yet reported.
    public var pending: Set<Int64>
    /// Only runs of this job, by name.
    public var job: String?
}

extension JobStore {
    /// A cursor at the present: every run that finishes from now on (including those in flight now)
    /// will be reported by ``finishedRuns(after:)``.
    public func runCursor(job: String? = nil) throws -> RunCursor {
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
    public func finishedRuns(after cursor: RunCursor, limit: Int = 1000) throws -> (
        runs: [RunRecord], cursor: RunCursor
    ) {
        try connection.read {
            var next = cursor
            var finished: [RunRecord] = []
            if !cursor.pending.isEmpty {
                let ids = ScheduleCodec.encodeArgv(cursor.pending.sorted().map(String.init))
                let rows = try connection.all(
                    """
                    SELECT \(JobStore.runColumns) FROM runs
                    WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))
                    """,
                    [.text(ids)],
                    map: JobStore.decodeRun
                )
                // A pending run that is gone was pruned before it could be reported.
                next.pending = Set(rows.filter { $0.finishedAt == nil }.map(\.id))
                finished += rows.filter { $0.finishedAt != nil }
            }
            var sql = "SELECT \(JobStore.runColumns) FROM runs WHERE id > ?"
            var args: [SQLiteValue] = [.integer(cursor.lastID)]
            if let job = cursor.job {
                sql += " AND job_name = ?"
                args.append(.text(job))
            }
            sql += " ORDER BY id LIMIT ?"
            args.append(.integer(Int64(max(1, limit))))
            let fresh = try connection.all(sql, args, map: JobStore.decodeRun)
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
