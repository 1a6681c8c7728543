/// The durable home of jobs, their schedule and their history.
///
/// Today that is one SQLite file (``open(path:configuration:clock:)``); the store is a facade over a
/// storage backend, so the same calls will serve other databases. Open one store per database per
/// process; any number of processes may open the same database.
///
/// Every call is one transaction: when it returns, its change has committed. Failures of the
/// database itself are thrown as ``JobStoreError``; invalid requests as ``JobRunnerError``.
///
/// ```swift
/// let store = try await JobStore.open(path: "/var/lib/myservice/jobs.sqlite")
/// try await store.declare(JobDefinition(name: "tick", action: .handler("tick"), schedule: .every(.seconds(1))))
/// ```
public final class JobStore: Sendable {
    /// What ``declare(_:)`` did.
    public enum DeclareResult: String, Sendable {
        /// The job did not exist and was created.
        case created
        /// The job existed with another definition, which was replaced; history and counters were kept.
        case updated
        /// The job existed with this definition; nothing changed.
        case unchanged
    }

    /// Runs deleted per transaction by ``prune(finishedBefore:batchSize:)``: a batch of 50 takes
    /// about 0.1 ms on SQLite (a claim about 0.05 ms), so a runner sharing the database waits about
    /// as long for one as it would for another runner's claim.
    public static let defaultPruneBatchSize = 50

    package let backend: any JobStoreBackend

    package init(backend: any JobStoreBackend) {
        self.backend = backend
    }

    /// The clock used for timestamps of API calls (`add`, `pause`, …), and by runners on this store
    /// unless they are given their own.
    public var clock: any JobClock { backend.clock }

    /// The database, as messages name it and as commands see it in `JOB_DATABASE` (for SQLite, the
    /// file's canonical path).
    package var databaseName: String { backend.databaseName }

    /// Runs one backend call, showing its failure as a ``JobStoreError`` (or ``JobRunnerError``).
    private func call<T: Sendable>(_ body: (any JobStoreBackend) async throws -> T) async throws -> T {
        do {
            return try await body(backend)
        } catch {
            throw backend.publicError(error)
        }
    }

    /// The schema version of the database.
    package func schemaVersion() async throws -> Int {
        try await call { try await $0.schemaVersion() }
    }

    // MARK: Jobs

    /// Adds a job. Fails if a job with that name exists, unless `replace` is true, in which case
    /// its definition is replaced (keeping history, counters and state).
    ///
    /// - Throws: ``JobRunnerError`` for an invalid definition or an existing name.
    @discardableResult
    public func add(_ definition: JobDefinition, replace: Bool = false) async throws -> JobRecord {
        try await call { try await $0.add(definition, replace: replace) }
    }

    /// Adds many jobs in one transaction: all of them or none.
    ///
    /// - Throws: ``JobRunnerError`` for the first invalid definition or existing name (unless `replace`).
    public func addMany(_ definitions: [JobDefinition], replace: Bool = false) async throws {
        try await call { try await $0.addMany(definitions, replace: replace) }
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
    public func declare(_ definition: JobDefinition) async throws -> DeclareResult {
        try await call { try await $0.declare(definition) }
    }

    /// The job with this name, or nil.
    public func job(named name: String) async throws -> JobRecord? {
        try await call { try await $0.job(named: name) }
    }

    /// All jobs, optionally of one queue, by name.
    public func jobs(queue: String? = nil) async throws -> [JobRecord] {
        try await call { try await $0.jobs(queue: queue) }
    }

    /// Pauses a job: it keeps its schedule but does not run until resumed. A run in flight finishes.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job or one that is stopped or done.
    @discardableResult
    public func pause(_ name: String) async throws -> JobRecord {
        try await call { try await $0.pause(name) }
    }

    /// Resumes a paused or stopped job. A paused job keeps its schedule (missed occurrences follow its
    /// misfire policy); a stopped job is rescheduled from now.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job or one that is done.
    @discardableResult
    public func resume(_ name: String) async throws -> JobRecord {
        try await call { try await $0.resume(name) }
    }

    /// Stops a job: no further runs. A run in flight finishes.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job.
    @discardableResult
    public func stop(_ name: String) async throws -> JobRecord {
        try await call { try await $0.stop(name) }
    }

    /// Removes a job. Its history stays (with the job's name). A run in flight is not stopped: it goes
    /// on to its end, is recorded in the history, and holds its slot in the queue until then.
    ///
    /// - Returns: the id of the job's run in flight, if it had one.
    /// - Throws: ``JobRunnerError`` for an unknown job.
    @discardableResult
    public func remove(_ name: String) async throws -> Int64? {
        try await call { try await $0.remove(name) }
    }

    /// Asks for a run now, without moving the schedule. Runs as soon as a runner is free, even if the
    /// job is paused; a job in flight runs again after its current run.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown job.
    @discardableResult
    public func trigger(_ name: String) async throws -> JobRecord {
        try await call { try await $0.trigger(name) }
    }

    // MARK: Queues

    /// All queues with their limits and in-flight counts.
    public func queues() async throws -> [QueueRecord] {
        try await call { try await $0.queues() }
    }

    /// Pauses or resumes a queue: a paused queue starts no new runs; runs in flight finish.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown queue.
    public func setQueuePaused(_ name: String, _ paused: Bool) async throws {
        try await call { try await $0.setQueuePaused(name, paused) }
    }

    /// Sets a queue's concurrency limit (across all runners). A queue exists once a job uses it;
    /// with `create`, a queue no job uses yet is made (to set its limit before its jobs arrive).
    ///
    /// - Throws: ``JobRunnerError`` for a limit below 1, an invalid name, or an unknown queue
    ///   without `create`.
    public func setQueueConcurrency(_ name: String, _ concurrency: Int, create: Bool = true) async throws {
        try await call { try await $0.setQueueConcurrency(name, concurrency, create: create) }
    }

    /// Removes a queue that no job uses and no run holds.
    ///
    /// - Throws: ``JobRunnerError`` for an unknown queue, or one still in use.
    public func removeQueue(_ name: String) async throws {
        try await call { try await $0.removeQueue(name) }
    }

    // MARK: History and status

    /// Run history, newest first.
    ///
    /// ```swift
    /// let failures = try await store.history(HistoryQuery(job: "prune", outcome: .failed, limit: 10))
    /// ```
    ///
    /// - Throws: ``JobRunnerError`` when `query.job` names no job and no history.
    public func history(_ query: HistoryQuery = HistoryQuery()) async throws -> [RunRecord] {
        try await call { try await $0.history(query) }
    }

    /// One run by id.
    public func run(id: Int64) async throws -> RunRecord? {
        try await call { try await $0.run(id: id) }
    }

    /// Counts over the whole database: jobs by state, runs by outcome, live runners, in-flight and due work.
    ///
    /// - Parameter perJobLimit: list at most this many jobs (by name) in ``StoreStatus/perJob``; nil for all.
    public func status(perJobLimit: Int? = nil) async throws -> StoreStatus {
        try await call { try await $0.status(perJobLimit: perJobLimit) }
    }

    /// How many jobs are due at `now` but not yet claimed, counting at most `limit`.
    package func dueCount(now: UnixMicros, limit: Int = 100_000) async throws -> Int {
        try await call { try await $0.dueCount(now: now, limit: limit) }
    }

    /// Runners that are running or draining.
    package func liveRunners() async throws -> [RunnerRecord] {
        try await call { try await $0.liveRunners() }
    }

    /// All runners ever registered, newest first.
    package func runners(limit: Int = 100) async throws -> [RunnerRecord] {
        try await call { try await $0.runners(limit: limit) }
    }

    /// A cursor at the present: every run that finishes from now on (including those in flight now)
    /// will be reported by ``finishedRuns(after:limit:)``.
    package func runCursor(job: String? = nil) async throws -> RunCursor {
        try await call { try await $0.runCursor(job: job) }
    }

    /// The runs that finished since `cursor` (each once, in the order they finished) and the cursor
    /// to pass next time. Reads at most `limit` new runs per call; the rest come next time.
    package func finishedRuns(after cursor: RunCursor, limit: Int = 1000) async throws -> (
        runs: [RunRecord], cursor: RunCursor
    ) {
        try await call { try await $0.finishedRuns(after: cursor, limit: limit) }
    }

    // MARK: Drains and dead runners

    /// Asks every live runner of this database to drain, with an optional grace period that overrides
    /// each runner's own. Returns the runners asked and when.
    ///
    /// The runners notice the request within their change-detection interval (40 ms by default).
    package func requestDrain(grace: Duration? = nil) async throws -> DrainRequest {
        try await call { try await $0.requestDrain(grace: grace) }
    }

    /// The state of the given runners and what their runs that ended since `since` came to, for following a drain.
    package func drainProgress(runnerIDs: [Int64], since: UnixMicros) async throws -> DrainProgress {
        try await call { try await $0.drainProgress(runnerIDs: runnerIDs, since: since) }
    }

    /// Records the runs of dead runners `abandoned` and reschedules their jobs, as a live runner
    /// does at each heartbeat; what is left of their commands on this host is killed first. Any
    /// process may call it (`jobctl status`, `drain` and `stop --wait` do), so that a runner killed
    /// with `kill -9` is seen dead and never waited for, even when no other runner is alive.
    ///
    /// A runner is dead once its heartbeat lease has expired, or at once when it ran on this host
    /// (the same boot and PID namespace, see ``HostIdentity``) and its process is gone.
    ///
    /// - Returns: the ids of the runs recorded `abandoned`.
    @discardableResult
    package func rescueDeadRunners() async throws -> [Int64] {
        let local = LocalProcesses.current(database: databaseName)
        let now = clock.now()
        return try await call { try await $0.rescueOrphans(selfID: nil, now: now, local: local) }
    }

    // MARK: History size

    /// Deletes history of runs that finished before `cutoff`, then returns the space it took to the
    /// file system, a few pages per transaction (see <doc:TheDatabase>). Counters are kept; a run in
    /// flight is never deleted.
    ///
    /// The work is done in short transactions of `batchSize` runs; between them, other callers of
    /// this store (a runner in the same process) and other processes get their turn.
    ///
    /// - Returns: the number of runs deleted.
    @discardableResult
    public func prune(finishedBefore cutoff: UnixMicros, batchSize: Int = defaultPruneBatchSize) async throws -> Int {
        try await call { try await $0.prune(finishedBefore: cutoff, batchSize: batchSize) }
    }

    /// Applies a history retention at `now`: deletes finished runs older than its age and, per job,
    /// all but the newest runs beyond its cap, then returns the space to the file system. Counters
    /// are kept; a run in flight is never deleted.
    ///
    /// Like ``prune(finishedBefore:batchSize:)`` it works in short transactions and lets other
    /// callers of the store run between them; cancelling the calling task stops it between two.
    public func applyRetention(
        _ retention: HistoryRetention,
        now: UnixMicros,
        batchSize: Int = defaultPruneBatchSize
    ) async throws -> PruneResult {
        try await call { try await $0.applyRetention(retention, now: now, batchSize: batchSize) }
    }

    /// The size of the database and how much of it is free.
    package func storageSize() async throws -> StorageSize {
        try await call { try await $0.storageSize() }
    }

    /// Returns free space to the file system, a little at a time; returns the bytes given back.
    @discardableResult
    package func reclaimSpace() async throws -> Int64 {
        try await call { try await $0.reclaimSpace() }
    }
}
