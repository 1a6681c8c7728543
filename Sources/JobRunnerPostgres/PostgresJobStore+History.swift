#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    extension PostgresJobStore {
        /// The tables JobRunner owns, whose sizes make up ``storageSize()``.
        static let ownTables = [
            "jobs", "queues", "runners", "runs", "run_totals", "control", "run_id_floor", "schema_migrations",
        ]

        /// Deletes history of runs that finished before `cutoff`, then vacuums `runs`
        /// (``reclaimSpace()``). Counters (`run_totals`, each job's counts) are kept; a run in flight
        /// is never deleted.
        ///
        /// The work is done in transactions of at most `batchSize` runs; cancelling the calling task
        /// stops it between two (what was deleted stays deleted, and is counted).
        ///
        /// - Returns: the number of runs deleted.
        @discardableResult
        package func prune(finishedBefore cutoff: UnixMicros, batchSize: Int) async throws -> Int {
            let deleted = try await deleteFinishedRuns(before: cutoff, batchSize: batchSize)
            if deleted > 0 && !Task.isCancelled { try await reclaimSpace() }
            return deleted
        }

        /// Deletes runs that finished before `cutoff`, in transactions of `batchSize`.
        ///
        /// Rows another transaction holds locked (another runner pruning the same batch) are skipped
        /// rather than waited for; a batch that comes out short ends the loop, and the next prune
        /// takes what was left.
        package func deleteFinishedRuns(before cutoff: UnixMicros, batchSize: Int) async throws -> Int {
            let batch = max(1, batchSize)
            var total = 0
            while true {
                let deleted = try await write { connection in
                    try await count(
                        """
                        DELETE FROM runs WHERE id IN (
                            SELECT id FROM runs
                            WHERE finished_at < \(cutoff) AND outcome <> 'running'
                            LIMIT \(Int64(batch)) FOR UPDATE SKIP LOCKED)
                        RETURNING 1
                        """, on: connection)
                }
                total += deleted
                if deleted < batch || Task.isCancelled { return total }
            }
        }

        /// Deletes, for every job, its finished runs older than its `keep` newest. (The history of a
        /// removed job is left to the age limit.)
        ///
        /// As on SQLite: a job's run count is never below the number of its runs in the history
        /// (minus the one in flight), so only jobs with a run count of `keep` or more are looked at;
        /// the jobs are read 256 at a time by id, and each such job's cut-off is the id `keep` entries
        /// down the `runs_job` index. While the whole history spans no more than `keep` run ids,
        /// nothing is looked at.
        package func deleteRuns(beyond keep: Int, batchSize: Int) async throws -> Int {
            let span = try await read { connection in
                try await first("SELECT min(id), max(id) FROM runs", on: connection) {
                    (try $0.optionalInt64(0), try $0.optionalInt64(1))
                }
            }
            guard let span, let low = span.0, let high = span.1, high - low + 1 > Int64(keep) else { return 0 }
            let batch = max(1, batchSize)
            var total = 0
            var afterID: Int64 = 0
            while !Task.isCancelled {
                // The next 256 jobs by id, and among them those over the cap with their cut-off.
                let chunk = try await read { connection in
                    let scannedTo = try await scalar(
                        "SELECT max(id) FROM (SELECT id FROM jobs WHERE id > \(afterID) ORDER BY id LIMIT 256) AS j",
                        on: connection)
                    guard let scannedTo else { return (scannedTo: Int64?.none, over: [(Int64, Int64)]()) }
                    let over = try await all(
                        """
                        SELECT j.id, cut.id FROM jobs j
                        CROSS JOIN LATERAL (
                            SELECT r.id FROM runs r WHERE r.job_id = j.id
                            ORDER BY r.id DESC OFFSET \(Int64(keep - 1)) LIMIT 1) AS cut
                        WHERE j.id > \(afterID) AND j.id <= \(scannedTo) AND j.run_count >= \(Int64(keep))
                        ORDER BY j.id
                        """, on: connection
                    ) { (try $0.int64(0), try $0.int64(1)) }
                    return (scannedTo: Optional(scannedTo), over: over)
                }
                guard let scannedTo = chunk.scannedTo else { break }
                for (job, boundary) in chunk.over {
                    while !Task.isCancelled {
                        let deleted = try await write { connection in
                            try await count(
                                """
                                DELETE FROM runs WHERE id IN (
                                    SELECT id FROM runs
                                    WHERE job_id = \(job) AND id < \(boundary) AND finished_at IS NOT NULL
                                        AND outcome <> 'running'
                                    ORDER BY id LIMIT \(Int64(batch)) FOR UPDATE SKIP LOCKED)
                                RETURNING 1
                                """, on: connection)
                        }
                        total += deleted
                        if deleted < batch { break }
                    }
                }
                afterID = scannedTo
            }
            return total
        }

        /// The size of JobRunner's tables, in the terms of SQLite's file:
        ///
        /// - `pageSize`: the server's block size (`block_size`, 8192 unless PostgreSQL was built
        ///   otherwise).
        /// - `pages`: the blocks of JobRunner's own tables (``ownTables``) with their indexes, TOAST
        ///   and free-space and visibility maps (`pg_total_relation_size`), so that `bytes` is the disk
        ///   space they take. The rest of the database (other applications' tables, the catalog) and
        ///   the write-ahead log are not counted.
        /// - `freePages`: always 0. PostgreSQL keeps the space of deleted rows inside each table for
        ///   the rows that come next, and does not say how much there is without an extension
        ///   (`pg_freespacemap`, `pgstattuple`) this store does not require.
        package func storageSize() async throws -> StorageSize {
            try await read { connection in
                let blockSize = try await scalar("SELECT current_setting('block_size')::bigint", on: connection) ?? 8192
                // to_regclass follows search_path, as every other statement does; a missing table is NULL.
                let bytes =
                    try await scalar(
                        """
                        SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)::bigint
                        FROM unnest(\(Self.ownTables)::text[]) AS t
                        """, on: connection) ?? 0
                return StorageSize(pageSize: Int(blockSize), pages: Int(bytes / max(1, blockSize)), freePages: 0)
            }
        }

        /// Runs `VACUUM (ANALYZE, SKIP_LOCKED) runs` and returns how many bytes JobRunner's tables
        /// shrank by (``storageSize()`` before and after), which is often 0.
        ///
        /// Unlike SQLite's incremental vacuum this does not return the space of every deleted row to
        /// the file system: a plain VACUUM marks it free for the rows that come next and gives back
        /// only the empty pages at the end of the table (it never takes a lock that blocks claims or
        /// finishes, as `VACUUM FULL` would). Rows that a transaction open elsewhere may still see are
        /// left to a later vacuum (or autovacuum). With `SKIP_LOCKED`, a vacuum of `runs` already
        /// running (another runner's, autovacuum's) is not waited for.
        ///
        /// VACUUM cannot run in a transaction: it runs on a pooled connection in autocommit.
        @discardableResult
        package func reclaimSpace() async throws -> Int64 {
            let before = try await storageSize()
            try await read { connection in try await execute("VACUUM (ANALYZE, SKIP_LOCKED) runs", on: connection) }
            return max(0, before.bytes - (try await storageSize()).bytes)
        }
    }
#endif
