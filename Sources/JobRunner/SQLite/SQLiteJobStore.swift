import CSQLite
import Foundation

/// The SQLite backend: one database file, one connection, every call on the store's own serial
/// queue, off Swift's cooperative thread pool (SQLite's busy waits and fsyncs would otherwise park one
/// of its few threads). Any number of processes may open the same file; SQLite's write lock
/// serialises their transactions, and that lock is what makes claims, finishes and rescues atomic
/// across processes.
package actor SQLiteJobStore: JobStoreBackend {
    /// The database file.
    nonisolated let path: String
    /// The file's canonical path: `JOB_DATABASE` of its commands.
    package nonisolated let databaseName: String
    package nonisolated let clock: any JobClock
    nonisolated let executor: StoreExecutor
    let connection: Connection
    /// The handler names of the last claim, and the JSON array its query binds: encoded once, not at
    /// every claim.
    var claimHandlers: (names: [String], json: String) = ([], "[]")

    /// The store's own serial executor: a dedicated dispatch queue, off the cooperative pool.
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private init(path: String, clock: any JobClock, executor: StoreExecutor, connection: Connection) {
        self.path = path
        self.databaseName = ProcessLiveness.canonicalPath(path)
        self.clock = clock
        self.executor = executor
        self.connection = connection
    }

    /// Opens (creating and migrating as configured) the database at `path`; see ``JobStore/open(path:configuration:clock:)``.
    static func open(
        path: String,
        configuration: JobStore.Configuration,
        clock: any JobClock
    ) async throws -> SQLiteJobStore {
        let executor = StoreExecutor(label: "JobStore \(path)")
        return try await withCheckedThrowingContinuation { continuation in
            executor.queue.async {
                do {
                    try checkOwnership(path: path, configuration: configuration)
                    var options = Connection.Options()
                    options.busyTimeout = configuration.busyTimeout
                    options.synchronous = configuration.synchronous
                    options.walSizeLimit = max(1 << 20, Int64(configuration.walSizeLimit))
                    options.vfs = configuration.vfs
                    let connection = try Connection(path: path, options: options)
                    try Migrator().migrate(connection, now: clock.now())
                    connection.moveCheckpointsToBackground()
                    continuation.resume(
                        returning: SQLiteJobStore(path: path, clock: clock, executor: executor, connection: connection)
                    )
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Refuses, before anything is written, a file that is not a JobRunner database, and (unless
    /// `create`) a missing or empty one.
    private static func checkOwnership(path: String, configuration: JobStore.Configuration) throws {
        let create = configuration.createIfMissing
        if path == ":memory:" || path.isEmpty { return }
        var info = stat()
        guard stat(path, &info) == 0 else {
            if create { return }
            throw JobRunnerError.database("no database at \(path); nothing was created")
        }
        // A device (/dev/null), a FIFO (which would block the open for ever) or a directory: SQLite
        // would hang, fail late, or leave a journal beside it.
        guard info.st_mode & S_IFMT == S_IFREG else {
            let what = info.st_mode & S_IFMT == S_IFDIR ? "a directory" : "a device, FIFO or socket"
            throw JobRunnerError.database("\(path) is \(what), not a database file; nothing was written")
        }
        let verdict: SchemaGuard.Verdict
        do {
            verdict = try SchemaGuard.inspect(path: path, busyTimeout: configuration.busyTimeout)
        } catch let error as SQLiteError where error.code == ResultCode.notADatabase {
            throw JobRunnerError.database(
                "\(path) is not a database file (SQLite says: \(error.message)); it was left unchanged")
        }
        if verdict == .empty && !create {
            throw JobRunnerError.database("\(path) is empty, not a JobRunner database; nothing was written")
        }
    }

    /// The schema version of the database.
    package func schemaVersion() throws -> Int { try Migrator().currentVersion(connection) }

    /// A number that changes whenever another connection commits to the database
    /// (`PRAGMA data_version`): a cheap way to notice changes made by other processes.
    func dataVersion() throws -> Int64 {
        try connection.scalarInt("PRAGMA data_version") ?? 0
    }

    // MARK: Jobs

    /// Adds a job. Fails if a job with that name exists, unless `replace` is true, in which case
    /// its definition is replaced (keeping history, counters and state).
    ///
    /// - Throws: ``JobRunnerError`` for an invalid definition or an existing name.
    @discardableResult
    package func add(_ definition: JobDefinition, replace: Bool = false) throws -> JobRecord {
        let now = clock.now()
        try definition.validate(now: now)
        return try connection.write {
            if try findJob(named: definition.name) != nil && !replace {
                throw JobRunnerError.jobExists(definition.name)
            }
            _ = try upsert(definition, now: now)
            guard let job = try findJob(named: definition.name) else {
                throw JobRunnerError.database("job \(JobRunnerError.quoted(definition.name)) vanished after insert")
            }
            return job
        }
    }

    /// Adds many jobs in one transaction: all of them or none.
    ///
    /// - Throws: ``JobRunnerError`` for the first invalid definition or existing name (unless `replace`).
    package func addMany(_ definitions: [JobDefinition], replace: Bool = false) throws {
        let now = clock.now()
        for definition in definitions { try definition.validate(now: now) }
        try connection.write {
            for definition in definitions {
                if !replace, try findJob(named: definition.name) != nil {
                    throw JobRunnerError.jobExists(definition.name)
                }
                _ = try upsert(definition, now: now)
            }
        }
    }

    /// Declares a job idempotently, as a service does at start-up: creates it, updates a changed
    /// definition (keeping history, counters and state), or leaves an identical one alone.
    ///
    /// ```swift
    /// try await store.declare(JobDefinition(name: "prune", action: .handler("prune"), schedule: .every(.seconds(300))))
    /// ```
    ///
    /// - Throws: ``JobRunnerError`` for an invalid definition.
    @discardableResult
    package func declare(_ definition: JobDefinition) throws -> JobStore.DeclareResult {
        let now = clock.now()
        try definition.validate(now: now)
        return try connection.write { try upsert(definition, now: now) }
    }

    private func upsert(_ definition: JobDefinition, now: UnixMicros) throws -> JobStore.DeclareResult {
        try ensureQueue(definition.queue, now: now)
        let values = JobRow.definitionValues(definition, now: now).sqliteValues
        let existing = try findJob(named: definition.name)
        if let existing, existing.definition == definition { return .unchanged }
        let scheduleChanged =
            existing.map {
                $0.definition.schedule != definition.schedule || $0.definition.initialDelay != definition.initialDelay
            } ?? true
        let first = JobTransition.firstOccurrence(of: definition, now: now)
        let nextRunAt = first.occurrence.map { JobTransition.dueTime(for: $0, jitter: definition.jitter) }
        if let existing {
            var sql = "UPDATE jobs SET "
            sql += JobRow.definitionColumns.map { "\($0) = ?" }.joined(separator: ", ")
            sql += ", updated_at = ?"
            var args = values + [.integer(now)]
            if scheduleChanged {
                sql += ", occurrence_at = ?, next_run_at = ?, anchor_at = ?, attempt = 1"
                sql += ", state = CASE WHEN state = 'done' THEN 'active' ELSE state END"
                args += [
                    .int(first.occurrence), .int(existing.state == .stopped ? nil : nextRunAt), .int(first.anchor),
                ]
            }
            sql += " WHERE id = ?"
            args.append(.integer(existing.id))
            try connection.execute(sql, args)
            return .updated
        }
        let columns =
            JobRow.definitionColumns + [
                "name", "occurrence_at", "next_run_at", "anchor_at", "state", "created_at", "updated_at",
            ]
        let sql =
            "INSERT INTO jobs (\(columns.joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let state: JobState = first.occurrence == nil ? .done : .active
        try connection.execute(
            sql,
            values + [
                .text(definition.name), .int(first.occurrence), .int(nextRunAt), .int(first.anchor),
                .text(state.rawValue), .integer(now), .integer(now),
            ]
        )
        return .created
    }

    func ensureQueue(_ name: String, now: UnixMicros) throws {
        try connection.execute(
            "INSERT INTO queues (name, updated_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
            [.text(name), .integer(now)]
        )
    }

    func findJob(named name: String) throws -> JobRecord? {
        try connection.first("SELECT \(JobRow.jobColumns) FROM jobs WHERE name = ?", [.text(name)]) {
            try JobRow.decodeJob($0)
        }
    }

    func findJob(id: Int64) throws -> JobRecord? {
        try connection.first("SELECT \(JobRow.jobColumns) FROM jobs WHERE id = ?", [.integer(id)]) {
            try JobRow.decodeJob($0)
        }
    }

    /// The job with this name, or nil.
    package func job(named name: String) throws -> JobRecord? { try findJob(named: name) }

    /// All jobs, optionally of one queue, by name.
    package func jobs(queue: String? = nil) throws -> [JobRecord] {
        if let queue {
            return try connection.all(
                "SELECT \(JobRow.jobColumns) FROM jobs WHERE queue = ? ORDER BY name",
                [.text(queue)]
            ) { try JobRow.decodeJob($0) }
        }
        return try connection.all("SELECT \(JobRow.jobColumns) FROM jobs ORDER BY name") {
            try JobRow.decodeJob($0)
        }
    }

    private func requireJob(_ name: String) throws -> JobRecord {
        guard let job = try findJob(named: name) else { throw JobRunnerError.jobNotFound(name) }
        return job
    }

    /// Pauses a job: it keeps its schedule but does not run until resumed. A run in flight finishes.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job or one that is stopped or done.
    @discardableResult
    package func pause(_ name: String) throws -> JobRecord {
        let now = clock.now()
        return try connection.write {
            let job = try requireJob(name)
            switch job.state {
            case .paused: return job
            case .stopped, .done:
                throw JobRunnerError.invalidState(
                    "job \(JobRunnerError.quoted(name)) is \(job.state.rawValue); only an active job can be paused")
            case .active: break
            }
            try connection.execute(
                "UPDATE jobs SET state = 'paused', state_reason = NULL, updated_at = ? WHERE id = ?",
                [.integer(now), .integer(job.id)]
            )
            return try requireJob(name)
        }
    }

    /// Resumes a paused or stopped job. A paused job keeps its schedule (missed occurrences follow its
    /// misfire policy); a stopped job is rescheduled from now.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job or one that is done.
    @discardableResult
    package func resume(_ name: String) throws -> JobRecord {
        let now = clock.now()
        return try connection.write {
            let job = try requireJob(name)
            switch job.state {
            case .active: return job
            case .done:
                throw JobRunnerError.invalidState(
                    "job \(JobRunnerError.quoted(name)) is done; add it again with --replace to run it again")
            case .paused:
                try connection.execute(
                    "UPDATE jobs SET state = 'active', state_reason = NULL, abandoned_streak = 0, updated_at = ? WHERE id = ?",
                    [.integer(now), .integer(job.id)]
                )
            case .stopped:
                var first = JobTransition.firstOccurrence(of: job.definition, now: now)
                if case .at = job.definition.schedule { first.occurrence = job.occurrenceAt ?? first.occurrence }
                let due = first.occurrence.map { JobTransition.dueTime(for: $0, jitter: job.definition.jitter) }
                try connection.execute(
                    """
                    UPDATE jobs SET state = 'active', state_reason = NULL, abandoned_streak = 0, attempt = 1,
                        occurrence_at = ?, next_run_at = ?, anchor_at = ?, updated_at = ? WHERE id = ?
                    """,
                    [
                        .int(first.occurrence), .int(due), .int(first.anchor ?? job.anchorAt), .integer(now),
                        .integer(job.id),
                    ]
                )
            }
            return try requireJob(name)
        }
    }

    /// Stops a job: no further runs. A run in flight finishes (`jobctl stop --wait` waits for it).
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job.
    @discardableResult
    package func stop(_ name: String) throws -> JobRecord {
        let now = clock.now()
        return try connection.write {
            let job = try requireJob(name)
            // A done job stays done: stopping it must not make `resume` run a finished one-shot again.
            if job.state == .stopped || job.state == .done { return job }
            try connection.execute(
                "UPDATE jobs SET state = 'stopped', state_reason = NULL, next_run_at = NULL, trigger_at = NULL, updated_at = ? WHERE id = ?",
                [.integer(now), .integer(job.id)]
            )
            return try requireJob(name)
        }
    }

    /// Removes a job. Its history stays (with the job's name). A run in flight is not stopped: it goes
    /// on to its end, is recorded in the history, and holds its slot in the queue until then.
    ///
    /// - Returns: the id of the job's run in flight, if it had one.
    /// - Throws: ``JobRunnerError`` for an unknown job.
    @discardableResult
    package func remove(_ name: String) throws -> Int64? {
        try connection.write {
            let job = try requireJob(name)
            try connection.execute("DELETE FROM jobs WHERE id = ?", [.integer(job.id)])
            return job.runningRunID
        }
    }

    /// Asks for a run now, without moving the schedule. Runs as soon as a runner is free, even if the
    /// job is paused; a job in flight runs again after its current run.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job.
    @discardableResult
    package func trigger(_ name: String) throws -> JobRecord {
        let now = clock.now()
        return try connection.write {
            let job = try requireJob(name)
            try connection.execute(
                "UPDATE jobs SET trigger_at = coalesce(trigger_at, ?), updated_at = ? WHERE id = ?",
                [.integer(now), .integer(now), .integer(job.id)]
            )
            return try requireJob(name)
        }
    }

    // MARK: Queues

    /// All queues with their limits and in-flight counts.
    package func queues() throws -> [QueueRecord] {
        try connection.all(
            """
            SELECT q.name, q.concurrency, q.paused,
                (SELECT count(*) FROM runs r WHERE r.outcome = 'running' AND r.queue = q.name)
            FROM queues q ORDER BY q.name
            """
        ) { QueueRecord(name: $0.string(0), concurrency: $0.int(1), paused: $0.int64(2) != 0, inFlight: $0.int(3)) }
    }

    /// Pauses or resumes a queue: a paused queue starts no new runs; runs in flight finish.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown queue.
    package func setQueuePaused(_ name: String, _ paused: Bool) throws {
        let now = clock.now()
        try connection.write {
            try connection.execute(
                "UPDATE queues SET paused = ?, updated_at = ? WHERE name = ?",
                [.bool(paused), .integer(now), .text(name)]
            )
            if connection.changes == 0 { throw JobRunnerError.queueNotFound(name) }
        }
    }

    /// Sets a queue's concurrency limit (across all runners). A queue exists once a job uses it;
    /// with `create`, a queue no job uses yet is made (to set its limit before its jobs arrive).
    ///
    /// - Throws: ``JobRunnerError`` for a limit below 1, an invalid name, or an unknown queue
    ///   without `create`.
    package func setQueueConcurrency(_ name: String, _ concurrency: Int, create: Bool = true) throws {
        try JobDefinition.validateName(name, what: "queue name")
        guard (1...100_000).contains(concurrency) else {
            throw JobRunnerError.invalidDefinition("concurrency must be between 1 and 100000, got \(concurrency)")
        }
        let now = clock.now()
        try connection.write {
            if create { try ensureQueue(name, now: now) }
            try connection.execute(
                "UPDATE queues SET concurrency = ?, updated_at = ? WHERE name = ?",
                [.integer(Int64(concurrency)), .integer(now), .text(name)]
            )
            if connection.changes == 0 { throw JobRunnerError.queueNotFound(name) }
        }
    }

    /// Removes a queue that no job uses and no run holds.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown queue, or one still in use.
    package func removeQueue(_ name: String) throws {
        try connection.write {
            guard try connection.scalarInt("SELECT count(*) FROM queues WHERE name = ?", [.text(name)]) == 1 else {
                throw JobRunnerError.queueNotFound(name)
            }
            let jobs = try connection.scalarInt("SELECT count(*) FROM jobs WHERE queue = ?", [.text(name)]) ?? 0
            if jobs > 0 {
                throw JobRunnerError.invalidState(
                    "queue \(JobRunnerError.quoted(name)) is used by \(jobs) job(s); remove them or move them first")
            }
            let running =
                try connection.scalarInt(
                    "SELECT count(*) FROM runs WHERE outcome = 'running' AND queue = ?", [.text(name)]) ?? 0
            if running > 0 {
                throw JobRunnerError.invalidState(
                    "queue \(JobRunnerError.quoted(name)) has \(running) run(s) in flight; remove it when they end")
            }
            try connection.execute("DELETE FROM queues WHERE name = ?", [.text(name)])
        }
    }

    // MARK: Maintenance

    /// Checkpoints the write-ahead log into the database file (`PRAGMA wal_checkpoint(TRUNCATE)`).
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_wal_checkpoint>
    func checkpoint() throws {
        try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Lets SQLite refresh its query-planner statistics (`PRAGMA optimize`).
    ///
    /// Related SQLite documentation: <https://www.sqlite.org/pragma.html#pragma_optimize>
    func optimize() throws {
        try connection.execute("PRAGMA optimize")
    }

    /// Runs `PRAGMA integrity_check` and returns its lines (`["ok"]` for a sound file).
    package func integrityCheck() throws -> [String] {
        try connection.all("PRAGMA integrity_check") { $0.string(0) }
    }
}

extension JobStore {
    /// How to open the database.
    public struct Configuration: Sendable {
        /// How long a call waits for another process's write lock before failing with a
        /// ``JobStoreError`` of kind ``JobStoreError/Kind/busy``.
        public var busyTimeout: Duration
        /// `PRAGMA synchronous`: NORMAL by default, FULL for durability against power loss.
        public var synchronous: SynchronousMode
        /// Whether a missing or empty file becomes a new database (mode 0600). When false, opening
        /// such a file fails and creates nothing: what a read-only tool wants.
        public var createIfMissing: Bool
        /// The size in bytes the write-ahead log (the `-wal` file) is kept under: 64 MiB by default
        /// (``defaultWALSizeLimit``); values below 1 MiB count as 1 MiB.
        ///
        /// Without a reader that holds a snapshot, the log stays under it at every commit, however
        /// slow the disk: should the background checkpoint fall behind, the commit that brings the log
        /// to half the limit (at most 8,000 pages) waits for it, as SQLite's own automatic checkpoint
        /// makes a commit wait. (A checkpoint run by another process on the same file is not waited
        /// for.) A reader that holds a snapshot (a `sqlite3` session left in a transaction, a database
        /// browser) makes the log grow for as long as it holds on, whatever the limit; once it lets
        /// go, the store's background checkpointer copies the backlog and the log is cut back under
        /// the limit within a few seconds (it retries at most every 2 s).
        public var walSizeLimit: Int
        /// The default ``walSizeLimit``: 64 MiB.
        public static let defaultWALSizeLimit: Int64 = 64 << 20
        /// The SQLite VFS the store's connections use, by name; nil for SQLite's default. Tests use
        /// one whose syncs stall.
        var vfs: String?

        /// Creates a configuration.
        public init(
            busyTimeout: Duration = .seconds(5),
            synchronous: SynchronousMode = .normal,
            createIfMissing: Bool = true,
            walSizeLimit: Int = Int(defaultWALSizeLimit)
        ) {
            self.busyTimeout = busyTimeout
            self.synchronous = synchronous
            self.createIfMissing = createIfMissing
            self.walSizeLimit = walSizeLimit
        }
    }

    /// Opens the database at `path`, creating it (mode 0600) and applying pending migrations.
    ///
    /// A file that holds another program's database (tables JobRunner does not own, or a table with
    /// one of its names but another shape) is refused before anything is written to it: it stays
    /// byte for byte as it was, journal mode included. A new database is made only from a missing or
    /// empty file, and only when ``Configuration/createIfMissing`` is true.
    ///
    /// - Throws: ``JobStoreError`` when the database cannot be opened, read or written (locked past
    ///   the busy timeout, read-only, full, damaged); ``JobRunnerError`` (kind
    ///   ``JobRunnerError/Kind/database``) for a file that is not a database, another program's
    ///   database, something other than a regular file or, without `createIfMissing`, a missing or
    ///   empty file; ``MigrationError`` when it was written by a newer schema.
    public static func open(
        path: String,
        configuration: Configuration = Configuration(),
        clock: any JobClock = SystemJobClock()
    ) async throws -> JobStore {
        do {
            return JobStore(
                backend: try await SQLiteJobStore.open(path: path, configuration: configuration, clock: clock))
        } catch {
            throw SQLiteJobStore.publicError(error)
        }
    }
}
