import Foundation
import Logging
import Synchronization

/// A run that ended badly, as a runner reports it to ``FailureAlerting``: its job, how it ended, and
/// what it left (exit code, error, the tail of its output).
public struct FailureAlert: Sendable, Hashable {
    /// The job's name.
    public var job: String
    /// The run's id (`jobctl logs ID` shows it).
    public var runID: Int64
    /// ``RunOutcome/failed``, ``RunOutcome/timeout`` or ``RunOutcome/abandoned`` (its runner died).
    public var outcome: RunOutcome
    /// A command's exit status, if it exited.
    public var exitCode: Int?
    /// What went wrong, as the history records it.
    public var error: String?
    /// The tail of a command's output, as the bytes it wrote.
    public var output: [UInt8]?
    /// The schedule slot the run stood for.
    public var scheduledFor: UnixMicros
    /// Its attempt (1 for the first, more for retries).
    public var attempt: Int
    /// True when this failure paused the job as poison: its runs were abandoned too many times in a
    /// row (each time its runner died during the run). It stays paused until resumed.
    public var jobPaused: Bool
    /// How many alerts for this job the rate limit left out since the last one delivered.
    public var suppressed: Int

    /// Creates an alert.
    public init(
        job: String, runID: Int64, outcome: RunOutcome, exitCode: Int? = nil, error: String? = nil,
        output: [UInt8]? = nil, scheduledFor: UnixMicros, attempt: Int, jobPaused: Bool = false, suppressed: Int = 0
    ) {
        self.job = job
        self.runID = runID
        self.outcome = outcome
        self.exitCode = exitCode
        self.error = error
        self.output = output
        self.scheduledFor = scheduledFor
        self.attempt = attempt
        self.jobPaused = jobPaused
        self.suppressed = suppressed
    }

    /// Whether a run that ended so is alerted on.
    static func alerts(on outcome: RunOutcome) -> Bool {
        outcome == .failed || outcome == .timeout || outcome == .abandoned
    }
}

/// What a runner does when a run ends `failed`, `timeout` or `abandoned` (cron's `MAILTO`, systemd's
/// `OnFailure=`): call a hook, start a command, or both.
///
/// Alerts never slow the runner: each is delivered in a task of its own, off the claim loop. They
/// are rate-limited per job (one per ``interval``; the next one says how many were left out), a hook
/// or command that fails is logged and never retried, and one that hangs is cancelled (a command
/// killed) after ``timeout``. The runner that records a failure alerts; for an abandoned run, the
/// runner that rescued it.
///
/// A job may carry a command of its own (``JobDefinition/onFailure``, `jobctl add --on-failure`).
/// Every runner starts it, whether or not it is configured with a policy; the policy's ``interval``
/// and ``timeout`` (or their defaults, 1 minute each) apply to it too. When both exist, both fire,
/// at once and independently: the hook, the job's command and this command (started once if it is
/// the same argv as the job's). See <doc:FailureAlerts>.
public struct FailureAlerting: Sendable {
    /// Called with each alert, in a task of its own.
    public var hook: (@Sendable (FailureAlert) async -> Void)?
    /// A command (argv, no shell) started for each alert, with the alert in its environment:
    /// `JOB_NAME`, `JOB_RUN_ID`, `JOB_OUTCOME`, `JOB_EXIT_CODE` (when the command exited),
    /// `JOB_ERROR`, `JOB_OUTPUT_FILE` (a file holding the output's tail, removed when the command
    /// ends), `JOB_SCHEDULED_FOR`, `JOB_ATTEMPT`, `JOB_PAUSED` (`1` when the job was paused as poison),
    /// `JOB_SUPPRESSED` and `JOB_DATABASE`.
    public var command: [String]?
    /// At most one alert per job in this span; the ones in between are counted, not delivered.
    public var interval: Duration
    /// How long a hook or command may take before it is cancelled (a command gets SIGTERM, then
    /// SIGKILL 5 s later).
    public var timeout: Duration

    /// Creates an alerting policy.
    public init(
        hook: (@Sendable (FailureAlert) async -> Void)? = nil, command: [String]? = nil,
        interval: Duration = .seconds(60), timeout: Duration = .seconds(60)
    ) {
        self.hook = hook
        self.command = command
        self.interval = interval
        self.timeout = timeout
    }

    /// The commands one alert starts: the job's own and the runner's, both, but one argv only once.
    static func commands(job: [String]?, runner: [String]?) -> [(source: String, argv: [String])] {
        var commands: [(source: String, argv: [String])] = []
        if let job { commands.append(("job", job)) }
        if let runner, runner != job { commands.append(("runner", runner)) }
        return commands
    }

    /// The most deliveries in flight at once; more are dropped (and logged): a flood of failures of
    /// many jobs must not pile up processes.
    static let maximumInFlight = 16
}

/// Rate-limits alerts per job and hands them to the delivery loop, without ever blocking the caller.
final class AlertQueue: Sendable {
    private struct State {
        var lastDelivered: [String: UnixMicros] = [:]
        var suppressed: [String: Int] = [:]
        var inFlight = 0
    }

    let interval: Duration
    private let state = Mutex(State())
    let stream: AsyncStream<FailureAlert>
    private let continuation: AsyncStream<FailureAlert>.Continuation

    init(interval: Duration) {
        self.interval = interval
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(1024))
    }

    /// Queues `alert` unless its job had one within the interval before `now` (then it is counted).
    /// - Returns: false if it was left out.
    @discardableResult
    func offer(_ alert: FailureAlert, now: UnixMicros) -> Bool {
        let accepted = state.withLock { s -> FailureAlert? in
            if let last = s.lastDelivered[alert.job], now < last + interval.microseconds {
                s.suppressed[alert.job, default: 0] += 1
                return nil
            }
            s.lastDelivered[alert.job] = now
            var alert = alert
            alert.suppressed = s.suppressed.removeValue(forKey: alert.job) ?? 0
            return alert
        }
        guard let accepted else { return false }
        if case .enqueued = continuation.yield(accepted) { return true }
        return false
    }

    func finish() { continuation.finish() }

    /// Counts a delivery starting; false if ``FailureAlerting/maximumInFlight`` are in flight already.
    func admit() -> Bool {
        state.withLock { s in
            guard s.inFlight < FailureAlerting.maximumInFlight else { return false }
            s.inFlight += 1
            return true
        }
    }

    /// Counts a delivery ended.
    func delivered() {
        state.withLock { $0.inFlight -= 1 }
    }
}

extension JobRunner {
    /// Delivers queued alerts until the queue finishes, each in a task of its own, at most
    /// ``FailureAlerting/maximumInFlight`` at once. `alerting` is the runner's policy, or an empty one
    /// (no hook, no command, default limits) that delivers only jobs' own commands.
    func alertLoop(_ alerting: FailureAlerting, queue: AlertQueue) async {
        await withDiscardingTaskGroup { group in
            for await alert in queue.stream {
                guard queue.admit() else {
                    logger.warning(
                        "too many failure alerts in flight; this one is dropped",
                        metadata: ["job.name": "\(alert.job)", "job.run_id": "\(alert.runID)"])
                    continue
                }
                group.addTask {
                    await self.deliver(alert, alerting)
                    queue.delivered()
                }
            }
        }
    }

    /// Runs the hook, the job's own command and the runner's command for one alert, at once and each
    /// bounded by the timeout (a hanging one never holds up the others); logs failures.
    private func deliver(_ alert: FailureAlert, _ alerting: FailureAlerting) async {
        var metadataLogger = logger
        metadataLogger[metadataKey: "job.name"] = "\(alert.job)"
        metadataLogger[metadataKey: "job.run_id"] = "\(alert.runID)"
        let alertLogger = metadataLogger
        let jobCommand = await jobAlertCommand(alert, logger: alertLogger)
        await withTaskGroup(of: Void.self) { targets in
            if let hook = alerting.hook {
                targets.addTask {
                    await self.runAlertHook(hook, alert: alert, timeout: alerting.timeout, logger: alertLogger)
                }
            }
            for (source, command) in FailureAlerting.commands(job: jobCommand, runner: alerting.command) {
                var sourceLogger = alertLogger
                sourceLogger[metadataKey: "alert.source"] = "\(source)"
                let commandLogger = sourceLogger
                targets.addTask {
                    await self.runAlertCommand(command, alert: alert, timeout: alerting.timeout, logger: commandLogger)
                }
            }
        }
    }

    /// The job's own ``JobDefinition/onFailure`` command, as its definition says now; nil for none, for
    /// a job removed since, or when the store cannot be read (logged: the runner's own targets are
    /// still delivered).
    private func jobAlertCommand(_ alert: FailureAlert, logger: Logger) async -> [String]? {
        do {
            return try await backend.job(named: alert.job)?.definition.onFailure
        } catch {
            logger.warning(
                "could not read the job's own failure alert command; only the runner's alerts are delivered",
                metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func runAlertHook(
        _ hook: @escaping @Sendable (FailureAlert) async -> Void, alert: FailureAlert, timeout: Duration,
        logger: Logger
    ) async {
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await hook(alert)
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished {
            logger.warning(
                "the failure alert hook did not return within its timeout; it was cancelled",
                metadata: ["alert.timeout": "\(DurationFormat.format(timeout))"])
        }
    }

    private func runAlertCommand(_ argv: [String], alert: FailureAlert, timeout: Duration, logger: Logger) async {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(alertEnvironment(alert)) { _, alert in alert }
        var outputFile: String?
        if let output = alert.output {
            let path = NSTemporaryDirectory() + "/jobrunner-alert-\(alert.runID)-\(UUID().uuidString).out"
            if FileManager.default.createFile(
                atPath: path, contents: Data(output), attributes: [.posixPermissions: 0o600])
            {
                outputFile = path
                environment["JOB_OUTPUT_FILE"] = path
            } else {
                logger.warning(
                    "could not write the run's output for the failure alert command", metadata: ["path": "\(path)"])
            }
        }
        defer { if let outputFile { try? FileManager.default.removeItem(atPath: outputFile) } }
        do {
            let result = try await CommandExecutor.run(
                CommandSpec(argv: argv, environment: environment, workingDirectory: nil),
                timeout: timeout, terminationGrace: .seconds(5), outputLimit: 2048)
            if result.timedOut {
                logger.warning(
                    "the failure alert command did not finish within its timeout; it was killed",
                    metadata: ["alert.command": "\(argv.joined(separator: " "))"])
            } else if result.exitCode != 0 {
                logger.warning(
                    "the failure alert command failed; it is not retried",
                    metadata: [
                        "alert.command": "\(argv.joined(separator: " "))",
                        "alert.exit_code": "\(result.exitCode.map(String.init) ?? "none")",
                        "alert.signal": "\(result.terminatingSignal.map(String.init) ?? "none")",
                        "alert.output": "\(result.outputTail.suffix(500))",
                    ])
            }
        } catch {
            logger.warning(
                "the failure alert command could not be started; it is not retried",
                metadata: ["alert.command": "\(argv.joined(separator: " "))", "error": "\(error)"])
        }
    }

    /// The environment a failure alert command gets (the runner's own, plus these).
    func alertEnvironment(_ alert: FailureAlert) -> [String: String] {
        var environment = [
            "JOB_NAME": alert.job,
            "JOB_RUN_ID": String(alert.runID),
            "JOB_OUTCOME": alert.outcome.rawValue,
            "JOB_SCHEDULED_FOR": Timestamp.formatRFC3339UTC(alert.scheduledFor),
            "JOB_ATTEMPT": String(alert.attempt),
            "JOB_PAUSED": alert.jobPaused ? "1" : "0",
            "JOB_SUPPRESSED": String(alert.suppressed),
            "JOB_DATABASE": backend.databaseName,
        ]
        if let exitCode = alert.exitCode { environment["JOB_EXIT_CODE"] = String(exitCode) }
        // An environment value cannot hold NUL; the error is text, bounded like the history's.
        if let error = alert.error {
            environment["JOB_ERROR"] = String(error.replacingOccurrences(of: "\0", with: "").prefix(4096))
        }
        return environment
    }

    /// Alerts on runs this runner recorded (`failed`, `timeout`).
    func alertRecorded(_ run: FinishedRun) {
        guard FailureAlert.alerts(on: run.outcome) else { return }
        alerts.offer(
            FailureAlert(
                job: run.jobName, runID: run.runID, outcome: run.outcome, exitCode: run.exitCode, error: run.error,
                output: run.output, scheduledFor: run.scheduledFor, attempt: run.attempt),
            now: clock.now())
    }

    /// Alerts on runs this runner rescued (`abandoned`), saying whether their job is now paused as poison.
    func alertRescued(_ runIDs: [Int64]) async {
        for id in runIDs {
            do {
                guard let run = try await backend.run(id: id) else { continue }
                let job = try await backend.job(named: run.jobName)
                let paused =
                    job.map { $0.state == .paused && $0.abandonedStreak >= JobTransition.abandonLimit } ?? false
                alerts.offer(
                    FailureAlert(
                        job: run.jobName, runID: run.id, outcome: run.outcome, exitCode: run.exitCode, error: run.error,
                        output: run.outputBytes, scheduledFor: run.scheduledFor, attempt: run.attempt, jobPaused: paused
                    ),
                    now: clock.now())
            } catch {
                logger.warning(
                    "could not read a rescued run to alert on it",
                    metadata: ["job.run_id": "\(id)", "error": "\(error)"])
            }
        }
    }
}
