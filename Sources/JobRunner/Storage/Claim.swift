/// A run claimed by a runner: everything it needs to execute it.
package struct Claim: Sendable {
    package var runID: Int64
    package var jobID: Int64
    package var jobName: String
    package var queue: String
    package var attempt: Int
    /// The schedule slot this run stands for.
    package var occurrence: UnixMicros
    /// When it was due (the occurrence plus jitter, or a retry's time, or a trigger's).
    package var scheduledFor: UnixMicros
    /// When the claim was made; the worker sets it to when the run really started.
    package var startedAt: UnixMicros
    package var action: JobAction
    package var payload: String?
    package var timeout: Duration?
    package var triggered: Bool
    /// A command job's own environment variables.
    package var environment: [String: String] = [:]

    package init(
        runID: Int64, jobID: Int64, jobName: String, queue: String, attempt: Int, occurrence: UnixMicros,
        scheduledFor: UnixMicros, startedAt: UnixMicros, action: JobAction, payload: String?, timeout: Duration?,
        triggered: Bool, environment: [String: String] = [:]
    ) {
        self.runID = runID
        self.jobID = jobID
        self.jobName = jobName
        self.queue = queue
        self.attempt = attempt
        self.occurrence = occurrence
        self.scheduledFor = scheduledFor
        self.startedAt = startedAt
        self.action = action
        self.payload = payload
        self.timeout = timeout
        self.triggered = triggered
        self.environment = environment
    }
}

/// The result of one claim transaction.
package struct ClaimBatch: Sendable {
    package var claims: [Claim]
    /// The earliest time at which more work becomes claimable for this runner, if any is scheduled.
    package var nextDue: UnixMicros?
    /// Jobs skipped by their misfire policy in this transaction.
    package var skipped: Int
    /// False when the runner was declared dead by another (it was paused past its lease): nothing was
    /// claimed, and the runner must register again before claiming.
    package var runnerAlive = true

    package init(claims: [Claim], nextDue: UnixMicros?, skipped: Int, runnerAlive: Bool = true) {
        self.claims = claims
        self.nextDue = nextDue
        self.skipped = skipped
        self.runnerAlive = runnerAlive
    }
}

/// What a runner may claim.
package struct ClaimScope: Sendable {
    /// The queues it serves; nil for all.
    package var queues: [String]?
    /// The handler names registered in it: jobs with other handlers are left for other runners.
    package var handlers: [String]
    /// Its free worker slots.
    package var slots: Int
    /// How late an occurrence may start before the misfire policy counts it as missed.
    package var misfireGrace: Int64
    /// How far ahead of its due time (microseconds) a run may be claimed: jobs due up to `now + lead`
    /// are claimed, and the runner starts each at its due time. 0 claims only what is due.
    ///
    /// A store a network away spends milliseconds on a claim; claiming a little ahead takes that
    /// time off the runs' lateness. Triggers and misfire policies still go by `now`.
    package var lead: Int64 = 0
}

/// What happened to a run, as the store records it: the run's identity and schedule slot, and its end.
///
/// It is built from a ``Claim`` by the runner that executed it, or from the history row alone when
/// the runner is not there to say (a run left behind by a dead or stopped runner).
package struct FinishedRun: Sendable {
    package var runID: Int64
    /// The runner that claimed it; the record is fenced (ignored) if the run is no longer its own.
    package var runnerID: Int64
    package var jobID: Int64?
    package var jobName: String
    package var attempt: Int
    /// The schedule slot it stood for; nil for "the job's current slot" (a run recorded by rescue).
    package var occurrence: UnixMicros?
    package var scheduledFor: UnixMicros
    package var startedAt: UnixMicros
    package var triggered: Bool
    package var outcome: RunOutcome
    package var finishedAt: UnixMicros
    package var exitCode: Int?
    package var error: String?
    /// The tail of a command's output, as the bytes it wrote.
    package var output: [UInt8]?

    /// The end of a claimed run, to be filled in by its worker.
    package init(
        _ claim: Claim, runnerID: Int64, outcome: RunOutcome = .ok, finishedAt: UnixMicros = 0, error: String? = nil
    ) {
        self.runID = claim.runID
        self.runnerID = runnerID
        self.jobID = claim.jobID
        self.jobName = claim.jobName
        self.attempt = claim.attempt
        self.occurrence = claim.occurrence
        self.scheduledFor = claim.scheduledFor
        self.startedAt = claim.startedAt
        self.triggered = claim.triggered
        self.outcome = outcome
        self.finishedAt = finishedAt
        self.error = error
    }

    /// The end of a run known only by its history row.
    package init(
        runID: Int64, runnerID: Int64, jobID: Int64?, jobName: String, attempt: Int, scheduledFor: UnixMicros,
        startedAt: UnixMicros, triggered: Bool, outcome: RunOutcome, finishedAt: UnixMicros, error: String?
    ) {
        self.runID = runID
        self.runnerID = runnerID
        self.jobID = jobID
        self.jobName = jobName
        self.attempt = attempt
        self.occurrence = nil
        self.scheduledFor = scheduledFor
        self.startedAt = startedAt
        self.triggered = triggered
        self.outcome = outcome
        self.finishedAt = finishedAt
        self.error = error
    }
}

/// A runner as it registers.
package struct RunnerRegistration: Sendable {
    /// The host it runs on: its name is shown, its identity decides whether its pid can be checked.
    package var host: HostIdentity
    package var pid: Int32
    package var lease: Duration
    /// The queues it serves; nil for all.
    package var queues: [String]?
    package var concurrency: Int
}

/// What a heartbeat learned.
package struct Heartbeat: Sendable {
    /// False when another runner declared this one dead: its claims are void.
    package var alive: Bool
    /// A drain requested by another process, if one was waiting.
    package var drain: DrainOrder?
    /// The runs the database holds as this runner's, in flight. One the runner does not know of was
    /// claimed by a commit whose acknowledgement never reached it (the connection failed at COMMIT):
    /// it must be released, or its job would wait for it until the runner stops.
    package var held: [Int64]

    /// The error recorded for a run released because its runner never learned it had claimed it.
    package static let unknownRunError =
        "not run: the claim was committed, but its acknowledgement never reached the runner (the connection failed)"

    package init(alive: Bool, drain: DrainOrder?, held: [Int64] = []) {
        self.alive = alive
        self.drain = drain
        self.held = held
    }
}

/// A drain asked of one runner by another process (`jobctl drain`).
package struct DrainOrder: Sendable, Equatable {
    /// The grace period it gives, overriding the runner's own; nil for the runner's own.
    package var grace: Duration?

    package init(grace: Duration?) { self.grace = grace }
}

/// What a runner may do about processes left behind on its own host by a dead runner.
package struct LocalProcesses: Sendable {
    /// This host: a runner registered with the same identity shares this PID namespace.
    package var host: HostIdentity
    /// Whether a pid is alive in this PID namespace.
    package var isAlive: @Sendable (Int32) -> Bool
    /// Kills what is left of a run's command: its process group if recorded, else its processes.
    package var killLeftovers: @Sendable (_ runID: Int64, _ pgid: Int32?, _ leaderStart: Int64?) -> Void

    /// The real processes of this host, for a store whose commands get `database` as `JOB_DATABASE`.
    package static func current(host: HostIdentity = .current, database: String) -> LocalProcesses {
        LocalProcesses(
            host: host,
            isAlive: ProcessLiveness.isAlive,
            killLeftovers: { runID, pgid, leaderStart in
                if let pgid {
                    ProcessLiveness.killGroup(pgid, leaderStart: leaderStart)
                } else {
                    ProcessLiveness.killProcesses(ofRun: runID, database: database)
                }
            }
        )
    }
}
