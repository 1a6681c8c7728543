/// What the store-neutral scenarios read from the store, outside the product's code: the jobs, runs
/// and runners as stored, and the counts they poll while runners keep writing. Each store answers with
/// its own query language (SQLite: `SQLite/DatabaseProbe+StoreProbe.swift`); the scenarios ask only
/// these questions, so that they run unchanged on any store that answers them.
///
/// States and outcomes are the strings the store holds (`"done"`, `"abandoned"`…), read as they are:
/// a probe checks the product, so it does not decode through the product's types.
protocol StoreProbe {
    /// Every job, by name.
    func jobs() throws -> [StoredJob]

    /// The job named `name`, if there is one.
    func job(named name: String) throws -> StoredJob?

    /// How many jobs there are in `state`, or in all if `state` is nil.
    func jobCount(state: String?) throws -> Int64

    /// The runs after the run `runID` (every run for `.min`), oldest first.
    func runs(after runID: Int64) throws -> [StoredRun]

    /// The run `id`, if the history has it.
    func run(id: Int64) throws -> StoredRun?

    /// The runs of `job` still in flight under `runner`.
    func runningRuns(of job: String, runner: Int64) throws -> [StoredRun]

    /// How many runs match every criterion `criteria` gives (all runs if it gives none).
    func runCount(_ criteria: RunCriteria) throws -> Int64

    /// How many runs claimed by a runner other than `runner` have not ended yet.
    func runsInFlight(notOf runner: Int64) throws -> Int64

    /// The highest run id in the history (0 if it is empty).
    func lastRunID() throws -> Int64

    /// Every runner that ever registered, oldest first.
    func runners() throws -> [StoredRunner]

    /// How many of the store's tables named `names` exist (a name written into a job must not drop one).
    func tableCount(named names: [String]) throws -> Int64

    /// True if another connection holds the store's write lock, so that every writer waits for it.
    func isWriteLocked() throws -> Bool
}

/// Which runs ``StoreProbe/runCount(_:)`` counts: those that match every field that is not nil.
struct RunCriteria: Sendable, Hashable {
    /// Runs of this job (by name).
    var job: String?
    /// Runs that ended so (or, for `running`, have not ended yet).
    var outcome: String?
    /// Runs claimed by this runner.
    var runner: Int64?
    /// Runs later than this run.
    var after: Int64?
}

/// A job as stored.
struct StoredJob: Sendable, Hashable {
    var id: Int64
    var name: String
    /// `once`, `every` or `cron`.
    var scheduleKind: String
    var handler: String?
    /// The command's argv as JSON text.
    var command: String?
    var payload: String?
    /// `active`, `paused`, `stopped` or `done`.
    var state: String
    var stateReason: String?
    var nextRunAt: Int64?
    /// The run in flight, if any.
    var runningRunID: Int64?
    /// The job's own count of its runs.
    var runCount: Int64
}

/// A run as the history holds it.
struct StoredRun: Sendable, Hashable {
    var id: Int64
    /// Nil once the job was removed.
    var jobID: Int64?
    var job: String
    var scheduledFor: Int64
    var startedAt: Int64
    var finishedAt: Int64?
    var runnerID: Int64?
    var outcome: String
    var error: String?
    /// The command's output tail, its bytes read as UTF-8.
    var output: String?
    var triggered: Bool

    /// How the run ended, as recorded: what a late completion must not overwrite.
    var ending: Ending { Ending(outcome: outcome, finishedAt: finishedAt, error: error, runnerID: runnerID) }

    struct Ending: Sendable, Hashable {
        var outcome: String
        var finishedAt: Int64?
        var error: String?
        var runnerID: Int64?
    }
}

/// A runner's registration.
struct StoredRunner: Sendable, Hashable {
    var id: Int64
    var pid: Int64
    /// `running`, `draining`, `stopped` or `dead`.
    var state: String
    var stoppedAt: Int64?
    /// Its last heartbeat (wall clock, Unix microseconds): its lease runs until then + the lease.
    var heartbeatAt: Int64
}

extension StoreProbe {
    /// Every run, oldest first.
    func runs() throws -> [StoredRun] { try runs(after: .min) }

    func jobCount() throws -> Int64 { try jobCount(state: nil) }

    func runCount(
        job: String? = nil, outcome: String? = nil, runner: Int64? = nil, after: Int64? = nil
    ) throws -> Int64 {
        try runCount(RunCriteria(job: job, outcome: outcome, runner: runner, after: after))
    }

    /// The runner registered as `id`, if any.
    func runner(id: Int64) throws -> StoredRunner? { try runners().first { $0.id == id } }

    /// The runs `runner` started after it was declared dead (none while it is not dead).
    func runsClaimedAfterDeath(of runner: Int64) throws -> [StoredRun] {
        guard let dead = try self.runner(id: runner), dead.state == "dead", let stoppedAt = dead.stoppedAt else {
            return []
        }
        return try runs().filter { $0.runnerID == runner && $0.startedAt > stoppedAt }
    }

    /// Each job's own count of its runs, by name.
    func runCounts() throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try jobs().map { ($0.name, $0.runCount) })
    }
}
