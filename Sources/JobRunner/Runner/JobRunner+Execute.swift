import Foundation
import Logging

extension JobRunner {
    /// Thrown by the timer of a run that outlasted its timeout.
    struct RunTimedOut: Error {}

    /// Executes one claimed run and hands its completion to the main loop. Never throws.
    ///
    /// `claimedAt` is when the claim committed, on a clock that keeps counting while the process is
    /// stopped (SIGSTOP, a paused VM).
    func execute(_ claimed: Claim, runnerID: Int64, claimedAt: ContinuousClock.Instant) async {
        // A run claimed ahead of its due time (the claim lead) waits for it. Cancelled meanwhile (a
        // drain's grace over, a stop, a self-fence, a recall: its job paused, stopped or removed), it
        // never starts.
        let ahead = Duration.microseconds(max(0, claimed.scheduledFor - clock.now()))
        let waited: Bool
        if ahead > .zero {
            waited = (try? await clock.sleep(until: claimed.scheduledFor)) != nil
        } else {
            waited = true
        }
        guard waited, control.begin(claimed.runID) else {
            var completion = FinishedRun(claimed, runnerID: runnerID, outcome: .interrupted)
            completion.error =
                control.fenceReason(claimed.runID)
                ?? "cancelled by drain or shutdown before its due time: not started"
            completion.finishedAt = clock.now()
            control.complete(completion)
            return
        }
        // The run starts now, which may be a little after the claim (a burst claims many at once):
        // the run's deadline, its log line and the runner's metrics count from this moment, so that
        // they measure what the work really saw. (The history keeps the claim's time, written once.)
        var claim = claimed
        claim.startedAt = max(claimed.startedAt, clock.now())
        metrics.runStarted(queue: claim.queue)
        defer { metrics.runEnded(queue: claim.queue) }
        var runLogger = logger
        runLogger[metadataKey: "job.name"] = "\(claim.jobName)"
        runLogger[metadataKey: "job.run_id"] = "\(claim.runID)"
        runLogger[metadataKey: "job.attempt"] = "\(claim.attempt)"
        var completion = FinishedRun(claim, runnerID: runnerID)
        // A runner stopped between its claim and this point for a good part of its lease may have been
        // declared dead meanwhile, and the run given to another runner: starting it now would run the
        // job twice at once. So after such a gap (beyond the wait for the due time), start only if the
        // run is still this runner's.
        if ContinuousClock.now - claimedAt > configuration.lease / 4 + ahead {
            let stillOurs = (try? await backend.isStillClaimed(runID: claim.runID, runnerID: runnerID)) ?? false
            guard stillOurs else {
                runLogger.warning(
                    "run not started: it was claimed before this runner stopped, and is no longer its own")
                completion.outcome = .interrupted
                completion.error = "not started: the runner was stopped after the claim and lost it"
                completion.finishedAt = clock.now()
                control.complete(completion)
                return
            }
        }
        switch claim.action {
        case .handler(let name):
            await runHandler(name, claim: claim, logger: runLogger, into: &completion)
        case .command(let argv, let directory):
            await runCommand(argv, directory: directory, claim: claim, into: &completion)
        }
        completion.finishedAt = clock.now()
        if completion.outcome == .interrupted, let reason = control.fenceReason(claim.runID) {
            completion.error = reason
        }
        let lateness = Double(claim.startedAt - claim.scheduledFor) / 1000
        var metadata: Logger.Metadata = [
            "run.outcome": "\(completion.outcome.rawValue)",
            "run.duration_ms": "\(Double(completion.finishedAt - claim.startedAt) / 1000)",
            "run.lateness_ms": "\(lateness)",
        ]
        // What went wrong belongs on the line itself: an operator reading the log (or journald, or
        // Loki) should not need the database to see why a run failed.
        if let exitCode = completion.exitCode { metadata["run.exit_code"] = "\(exitCode)" }
        if let error = completion.error { metadata["run.error"] = "\(error.prefix(1000))" }
        let failed = completion.outcome == .failed || completion.outcome == .timeout
        runLogger.log(level: failed ? .warning : .info, "run finished", metadata: metadata)
        control.complete(completion)
    }

    private func runHandler(_ name: String, claim: Claim, logger: Logger, into completion: inout FinishedRun) async {
        guard let handler = registry.handler(named: name) else {
            completion.outcome = .failed
            completion.error = "no handler named \(JobRunnerError.quoted(name)) is registered in this runner"
            return
        }
        let context = JobContext(
            jobName: claim.jobName, runID: claim.runID, scheduledFor: claim.scheduledFor, attempt: claim.attempt,
            payload: claim.payload, logger: logger
        )
        do {
            try await withLogger(logger) { _ in
                if let timeout = claim.timeout {
                    let deadline = claim.startedAt + timeout.microseconds
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await handler(context) }
                        group.addTask {
                            try await self.clock.sleep(until: deadline)
                            throw RunTimedOut()
                        }
                        defer { group.cancelAll() }
                        try await group.next()
                    }
                } else {
                    try await handler(context)
                }
            }
            completion.outcome = .ok
        } catch is RunTimedOut {
            completion.outcome = .timeout
            completion.error = "timed out after \(DurationFormat.format(claim.timeout ?? .zero))"
        } catch {
            if Task.isCancelled {
                completion.outcome = .interrupted
                completion.error = "cancelled by drain or shutdown"
            } else {
                completion.outcome = .failed
                completion.error = String(describing: error).prefix(4096).description
            }
        }
    }

    private func runCommand(_ argv: [String], directory: String?, claim: Claim, into completion: inout FinishedRun)
        async
    {
        // The job's own variables override the inherited ones; the JOB_* ones (names a job cannot
        // use) come last, so that they always say what JobRunner means.
        var environment = claim.environment
        environment.merge([
            "JOB_NAME": claim.jobName,
            "JOB_RUN_ID": String(claim.runID),
            "JOB_SCHEDULED_FOR": Timestamp.formatRFC3339UTC(claim.scheduledFor),
            "JOB_ATTEMPT": String(claim.attempt),
            "JOB_DATABASE": backend.databaseName,
        ]) { _, reserved in reserved }
        if let payload = claim.payload { environment["JOB_PAYLOAD"] = payload }
        let spec = CommandSpec(argv: argv, environment: environment, workingDirectory: directory)
        // The command's process group is recorded as soon as it exists, so that if this runner dies
        // the runner that rescues the run can kill what is left of it before running the job again.
        let (launched, announce) = AsyncStream.makeStream(of: pid_t.self, bufferingPolicy: .bufferingNewest(1))
        let runnerID = completion.runnerID
        async let recorded: Void = {
            for await pid in launched {
                let leaderStart = ProcessLiveness.startTime(pid)
                let recorded = try? await self.backend.recordProcessGroup(
                    runID: claim.runID, runnerID: runnerID, pgid: pid, leaderStart: leaderStart)
                if recorded == false {
                    // The run was rescued by another runner between the check above and the launch:
                    // it is not this runner's to run any more.
                    ProcessLiveness.killGroup(pid, leaderStart: leaderStart)
                }
                return
            }
        }()
        defer { announce.finish() }
        do {
            let result = try await CommandExecutor.run(
                spec,
                timeout: claim.timeout,
                terminationGrace: configuration.terminationGrace,
                outputLimit: configuration.outputLimit,
                interruptionGrace: { self.control.interruptionGrace(default: self.configuration.terminationGrace) },
                onLaunch: { pid in
                    announce.yield(pid)
                    announce.finish()
                }
            )
            announce.finish()
            await recorded
            completion.output = result.outputBytes
            completion.exitCode = result.exitCode.map { Int($0) }
            if result.interrupted {
                completion.outcome = .interrupted
                completion.error = "cancelled by drain or shutdown"
            } else if result.timedOut {
                completion.outcome = .timeout
                completion.error = "timed out after \(DurationFormat.format(claim.timeout ?? .zero))"
            } else if let signal = result.terminatingSignal {
                completion.outcome = .failed
                completion.error = "killed by signal \(signal)"
            } else if result.exitCode == 0 {
                completion.outcome = .ok
            } else {
                completion.outcome = .failed
                completion.error = "exited with status \(result.exitCode ?? -1)"
            }
        } catch {
            completion.outcome = Task.isCancelled ? .interrupted : .failed
            completion.error = String(describing: error)
        }
    }
}
