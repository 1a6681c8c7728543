#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    // Following the history (`jobctl history --follow`) on PostgreSQL.
    //
    // On SQLite a run committed later always has a higher id, so a cursor needs only the highest id
    // seen and the runs seen in flight. On PostgreSQL a run's id is taken from the identity's
    // sequence when its claim inserts it, and claims commit concurrently: run 10 can become visible
    // after run 11. A reader that saw 11 and moved its cursor past it must not miss 10. So the cursor
    // also keeps the ids at or below `lastID` that it has not seen (`RunCursor.unsettled`), each with
    // a transaction horizon: the `xmax` of the snapshot in which the id was found missing. Every read
    // looks at them again; an id that is now visible is reported (finished) or waited for (in
    // flight); an id still not visible once every transaction below its horizon has ended (the
    // snapshot's `xmin` has reached the horizon) never will be (its claim rolled back, or it was
    // pruned) and is forgotten.
    //
    // What is guaranteed: every run in flight when the cursor is taken or claimed after it is reported
    // exactly once, when its finish has committed, by the first read that sees it finished, provided
    //
    // 1. the transaction that inserts a run already has a transaction id when it takes the run's id
    //    (the claim locks or updates the job's row first). A transaction that took an id below a
    //    visible one then has an id below the reading snapshot's `xmax`, so the horizon covers it;
    // 2. it commits before `unsettledWindow` more run ids have been taken and seen committed: ids
    //    missing further below the highest one seen are taken for gaps (rolled-back claims, pruned
    //    runs) and not watched. A claim is one short transaction; the window bounds what a cursor
    //    holds after a long gap in the ids (pruned history), at the cost of missing a claim that
    //    stays open while 10,000 others commit;
    // 3. it is not pruned before a read sees it finished (as on SQLite).
    //
    // Each read runs in one REPEATABLE READ snapshot, so the ids it reads, the ones it finds missing
    // and the horizon agree. When no transaction is in progress (`xmin == xmax`), no missing id can
    // appear any more and none is kept.
    extension PostgresJobStore {
        /// How far below the highest run id seen a missing id is still watched (see above).
        static let unsettledWindow: Int64 = 10_000

        /// The `xmin` and `xmax` of the transaction's snapshot, as integers (64-bit transaction ids).
        private func snapshotHorizon(on connection: PostgresConnection) async throws -> (xmin: Int64, xmax: Int64) {
            let horizon = try await first(
                """
                SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint
                FROM pg_current_snapshot() AS s
                """, on: connection
            ) { (try $0.int64(0), try $0.int64(1)) }
            guard let horizon else { throw JobRunnerError.database("pg_current_snapshot() returned no row") }
            return (xmin: horizon.0, xmax: horizon.1)
        }

        /// A cursor at the present: every run that finishes from now on (including those in flight
        /// now, and those whose claim has not committed yet) will be reported by
        /// ``finishedRuns(after:limit:)``.
        package func runCursor(job: String?) async throws -> RunCursor {
            try await snapshotRead { connection in
                let last = try await scalar("SELECT coalesce(max(id), 0) FROM runs", on: connection) ?? 0
                let pending = try await all(
                    """
                    SELECT id FROM runs
                    WHERE outcome = 'running' AND (\(job)::text IS NULL OR job_name = \(job))
                    """, on: connection
                ) { try $0.int64(0) }
                var cursor = RunCursor(lastID: last, pending: Set(pending), job: job)
                let horizon = try await snapshotHorizon(on: connection)
                if horizon.xmin < horizon.xmax && last > 0 {
                    // Ids below the highest that a claim still in progress may hold.
                    let missing = try await all(
                        """
                        SELECT g FROM generate_series(\(max(1, last - Self.unsettledWindow + 1)), \(last)) AS g
                        WHERE NOT EXISTS (SELECT 1 FROM runs WHERE id = g)
                        """, on: connection
                    ) { try $0.int64(0) }
                    for id in missing { cursor.unsettled[id] = horizon.xmax }
                }
                return cursor
            }
        }

        /// The runs that finished since `cursor` (each once, in the order they finished) and the cursor
        /// to pass next time. Reads at most `limit` new run ids per call (of every job, also when the
        /// cursor follows one); the rest come next time.
        ///
        /// Unlike SQLite's, the cursor's ``RunCursor/unsettled`` ids are read again as well: runs
        /// whose claim committed after a run with a higher id (see the comment above).
        package func finishedRuns(after cursor: RunCursor, limit: Int) async throws -> (
            runs: [RunRecord], cursor: RunCursor
        ) {
            let limit = max(1, limit)
            return try await snapshotRead { connection in
                let horizon = try await snapshotHorizon(on: connection)
                var next = cursor
                var finished: [RunRecord] = []

                // The runs seen in flight, and the ids not seen yet.
                let again = cursor.pending.union(cursor.unsettled.keys).sorted()
                if !again.isEmpty {
                    let rows = try await all(
                        "SELECT \(unescaped: JobRow.runColumns) FROM runs WHERE id = ANY(\(again))", on: connection
                    ) { try JobRow.decodeRun($0) }
                    // A pending run that is gone was pruned before it could be reported.
                    next.pending = []
                    for run in rows {
                        next.unsettled[run.id] = nil
                        if let job = cursor.job, run.jobName != job { continue }
                        if run.finishedAt == nil { next.pending.insert(run.id) } else { finished.append(run) }
                    }
                    // Still missing once every transaction that could hold them has ended: never coming.
                    next.unsettled = next.unsettled.filter { $0.value > horizon.xmin }
                }

                // New ids, of every job, so that the ones missing among them are known.
                let fresh = try await all(
                    "SELECT id, job_name FROM runs WHERE id > \(cursor.lastID) ORDER BY id LIMIT \(Int64(limit))",
                    on: connection
                ) { (id: try $0.int64(0), job: try $0.string(1)) }
                if let newLast = fresh.last?.id {
                    if horizon.xmin < horizon.xmax {
                        let seen = Set(fresh.map(\.id))
                        let low = max(cursor.lastID + 1, newLast - Self.unsettledWindow + 1)
                        for id in low...newLast where !seen.contains(id) { next.unsettled[id] = horizon.xmax }
                    }
                    next.lastID = newLast
                    let mine = fresh.filter { cursor.job == nil || $0.job == cursor.job }.map(\.id)
                    if !mine.isEmpty {
                        for run in try await all(
                            "SELECT \(unescaped: JobRow.runColumns) FROM runs WHERE id = ANY(\(mine))",
                            on: connection, map: { try JobRow.decodeRun($0) })
                        {
                            if run.finishedAt == nil { next.pending.insert(run.id) } else { finished.append(run) }
                        }
                    }
                }
                finished.sort { ($0.finishedAt ?? 0, $0.id) < ($1.finishedAt ?? 0, $1.id) }
                return (finished, next)
            }
        }
    }
#endif
