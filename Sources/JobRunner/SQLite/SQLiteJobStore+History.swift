extension SQLiteJobStore {
    /// Pages returned to the file system per transaction by ``reclaimSpace()``: about as long again.
    static let vacuumBatchPages = 16

    /// Deletes history of runs that finished before `cutoff`, then returns the space it took to the
    /// file system (``reclaimSpace()``). Counters are kept; a run in flight is never deleted.
    ///
    /// The work is done in short transactions of `batchSize` runs; between them, other callers of
    /// this store (a runner in the same process) and other processes get their turn.
    ///
    /// - Returns: the number of runs deleted.
    @discardableResult
    package func prune(finishedBefore cutoff: UnixMicros, batchSize: Int) async throws -> Int {
        let deleted = try await deleteFinishedRuns(before: cutoff, batchSize: batchSize)
        if deleted > 0 { try await reclaimSpace() }
        return deleted
    }

    /// Deletes runs that finished before `cutoff`, in transactions of `batchSize`.
    package func deleteFinishedRuns(before cutoff: UnixMicros, batchSize: Int) async throws -> Int {
        let batch = Int64(max(1, batchSize))
        var total = 0
        while true {
            let deleted = try connection.write { () throws -> Int in
                try connection.execute(
                    """
                    DELETE FROM runs WHERE id IN (
                        SELECT id FROM runs
                        WHERE finished_at IS NOT NULL AND finished_at < ? AND outcome <> 'running' LIMIT ?)
                    """,
                    [.integer(cutoff), .integer(batch)]
                )
                return connection.changes
            }
            total += deleted
            if deleted < batch || Task.isCancelled { return total }
            await Task.yield()  // let the calls queued behind this one (a runner's claims) run
        }
    }

    /// Deletes, for every job, its finished runs older than its `keep` newest. (The history of a
    /// removed job is left to the age limit.)
    ///
    /// A job's run count is never below the number of its runs in the history (minus the one in
    /// flight), so only jobs with a run count of `keep` or more are looked at: the jobs table is
    /// read in chunks by id, and each such job's cut-off is the id `keep` entries down the `runs_job`
    /// index. It works in slices of about 0.1 ms, between which other callers of the store run. While
    /// the whole history spans no more than `keep` run ids, nothing is looked at.
    package func deleteRuns(beyond keep: Int, batchSize: Int) async throws -> Int {
        let span = try connection.first("SELECT min(id), max(id) FROM runs") { row in
            (row.optionalInt64(0), row.optionalInt64(1))
        }
        guard let span, let low = span.0, let high = span.1, high - low + 1 > Int64(keep) else { return 0 }
        let batch = Int64(max(1, batchSize))
        var total = 0
        var afterID: Int64 = 0
        var exhausted = false
        while !exhausted && !Task.isCancelled {
            // Look for the next job over the cap, for one slice at most.
            let slice = ContinuousClock.now + .microseconds(100)
            var found: (job: Int64, boundary: Int64)?
            while found == nil && !exhausted && ContinuousClock.now < slice {
                // The next 256 jobs by id, and among them those over the cap.
                let scannedTo = try connection.scalarInt(
                    "SELECT max(id) FROM (SELECT id FROM jobs WHERE id > ? ORDER BY id LIMIT 256)",
                    [.integer(afterID)]
                )
                guard let scannedTo else {
                    exhausted = true
                    break
                }
                let candidates = try connection.all(
                    "SELECT id FROM jobs WHERE id > ? AND id <= ? AND run_count >= ? ORDER BY id",
                    [.integer(afterID), .integer(scannedTo), .integer(Int64(keep))]
                ) { $0.int64(0) }
                for job in candidates {
                    if let boundary = try connection.scalarInt(
                        "SELECT id FROM runs WHERE job_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                        [.integer(job), .integer(Int64(keep - 1))]
                    ) {
                        found = (job, boundary)
                        afterID = job
                        break
                    }
                }
                if found == nil { afterID = scannedTo }
            }
            if let found {
                while true {
                    let deleted = try connection.write { () throws -> Int in
                        try connection.execute(
                            """
                            DELETE FROM runs WHERE id IN (
                                SELECT id FROM runs
                                WHERE job_id = ? AND id < ? AND finished_at IS NOT NULL AND outcome <> 'running'
                                ORDER BY id LIMIT ?)
                            """,
                            [.integer(found.job), .integer(found.boundary), .integer(batch)]
                        )
                        return connection.changes
                    }
                    total += deleted
                    if deleted < batch || Task.isCancelled { break }
                    await Task.yield()
                }
            }
            await Task.yield()  // let the calls queued behind this one (a runner's claims) run
        }
        return total
    }

    /// The size of the database file and its free pages.
    package func storageSize() throws -> StorageSize {
        try connection.read {
            StorageSize(
                pageSize: Int(try connection.scalarInt("PRAGMA page_size") ?? 0),
                pages: Int(try connection.scalarInt("PRAGMA page_count") ?? 0),
                freePages: Int(try connection.scalarInt("PRAGMA freelist_count") ?? 0)
            )
        }
    }

    /// Returns the database file's free pages (left by pruned history, removed jobs) to the file
    /// system, and returns how many bytes the file shrank by.
    ///
    /// A database created by this version frees them with `PRAGMA incremental_vacuum`, 16 pages per
    /// transaction, each about as short as a claim. A database created by an earlier
    /// version cannot do that until it has been rebuilt once: the first call runs one `VACUUM`, which
    /// rewrites what the file still holds (holding the write lock for as long) and switches it to
    /// `auto_vacuum=INCREMENTAL`. The file shrinks when the write-ahead log is next checkpointed; this
    /// asks for that checkpoint on the background connection and waits for it.
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_incremental_vacuum>
    @discardableResult
    package func reclaimSpace() async throws -> Int64 {
        let before = try storageSize()
        guard before.freePages > 0, !connection.inTransaction else { return 0 }
        if try connection.scalarInt("PRAGMA auto_vacuum") != 2 {
            // PRAGMA and VACUUM take no bound parameters; nothing here comes from input.
            try connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
            try connection.execute("VACUUM")
        } else {
            while try connection.scalarInt("PRAGMA freelist_count") ?? 0 > 0 {
                try connection.write {
                    try connection.execute("PRAGMA incremental_vacuum(\(Self.vacuumBatchPages))")
                }
                if Task.isCancelled { break }
                await Task.yield()  // let the calls queued behind this one (a runner's claims) run
            }
        }
        if let checkpointer = connection.backgroundCheckpointer { await checkpointer.checkpointNow() }
        return max(0, before.bytes - (try storageSize()).bytes)
    }
}
