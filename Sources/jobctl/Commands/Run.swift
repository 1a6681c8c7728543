import ArgumentParser
import Foundation
import JobRunner
import Logging
import ServiceLifecycle
import UnixSignals

#if PostgreSQL
    import JobRunnerPostgres
#endif

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a runner in the foreground, logging each run to stderr.",
        discussion: """
            SIGTERM, SIGINT or SIGHUP (the terminal closing) drains it: no new claims, runs in flight get \
            --grace to finish, the rest are cancelled and recorded as interrupted; then it exits 0. A \
            second signal stops at once, still recording what it interrupted. `jobctl drain` from another \
            terminal does the same.

            Each finished run is logged to stderr with its job, outcome, duration and lateness; a failed \
            or timed-out run is logged as a warning with its exit code or error (run.exit_code, run.error). \
            --log-format json writes one JSON object a line (time, level, message, label and the metadata \
            as fields), for journald, Loki or jq.

            History retention: every 5 minutes (the first time at its first heartbeat) the runner deletes \
            finished runs older than --keep-history (default 30d) and, per job, all but the newest \
            --keep-runs (default 10000), in short transactions between its claims, and returns the space \
            to the file system. Runs in flight are never deleted; counters (runs, ok, failed per job, \
            totals by outcome) are never touched. `--keep-history off` keeps every run (or, with \
            --keep-runs N, applies only the cap); `--keep-runs off` applies only the age.

            Lease: the runner renews its lease every --heartbeat (2s); others declare it dead once its \
            last heartbeat is older than --lease (10s), and run its jobs again. A runner that cannot renew \
            (the database unreachable from its host) stops its own runs two heartbeats before the lease \
            runs out (commands get SIGTERM, then SIGKILL within half the time left), and claims nothing \
            until a heartbeat succeeds. After failing to reach the database it declares nobody dead for one \
            lease, so that an outage does not make every runner declare every other dead.

            Failure alerts: --on-failure COMMAND is started (without a shell; the string is split into \
            words as a shell would, quotes included) after a run ends failed, timeout or abandoned, with \
            JOB_NAME, JOB_RUN_ID, JOB_OUTCOME, JOB_EXIT_CODE, JOB_ERROR, JOB_OUTPUT_FILE (the output's \
            tail), JOB_SCHEDULED_FOR, JOB_ATTEMPT, JOB_PAUSED (1 when the job was paused as poison), \
            JOB_SUPPRESSED and JOB_DATABASE in its environment. At most one per job per --alert-interval \
            (the next says how many were left out); a command that fails is logged, never retried, and \
            one that runs past 1 minute is killed. Alerts never delay claims.

            Metrics: --metrics-listen HOST:PORT serves the runner's own instruments at /metrics in \
            Prometheus text format (jobrunner_runs_total by outcome, jobrunner_run_duration_seconds and \
            jobrunner_run_lateness_seconds histograms, jobrunner_due_waiting). It needs a jobctl built \
            with the Dashboard trait (swift build --traits Dashboard). --metrics-per-job adds series \
            labelled with each job's name (runs by outcome, duration, lateness): one set per job, so \
            only where the jobs are few and their names known.

            Examples:
              jobctl run --queue default --concurrency 8 --grace 30s --keep-history 7d
              jobctl run --on-failure '/usr/local/bin/page-oncall --team ops' --alert-interval 10m
              jobctl run --log-format json 2>> /var/log/jobrunner.jsonl
              jobctl run --metrics-listen 127.0.0.1:9464
              jobctl run --metrics-listen 127.0.0.1:9464 --metrics-per-job
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("queue"), help: "Serve only this queue (repeatable; default: all).")
    var queues: [String] = []

    @Option(parsing: .unconditional, help: "Worker slots: the most runs at once (1 to 10000).")
    var concurrency: Int = 4

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("How long a drain lets runs in flight finish.", valueName: "duration"))
    var grace: String = "30s"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("After cancelling: time between SIGTERM and SIGKILL for commands.", valueName: "duration"))
    var killAfter: String = "5s"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "How long after its last heartbeat this runner is presumed dead and its runs rescued (at least 3 heartbeats).",
            valueName: "duration"))
    var lease: String = "10s"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("How often this runner renews its lease and looks for dead runners.", valueName: "duration"))
    var heartbeat: String = "2s"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Claim runs this long before they are due, and start each at its due time (default: none on SQLite, 100ms on PostgreSQL; at most 1s and an eighth of --lease).",
            valueName: "duration"))
    var claimLead: String?

    @Option(
        help: ArgumentHelp(
            "A command (one string, split into words without a shell) started when a run fails, times out or is abandoned; jobs' own --on-failure commands (jobctl add) fire too.",
            valueName: "command"))
    var onFailure: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "At most one failure alert per job this often, to this command and the job's own (default 1m).",
            valueName: "duration"))
    var alertInterval: String = "1m"

    @Option(
        help: ArgumentHelp(
            "Serve this runner's metrics in Prometheus format at http://HOST:PORT/metrics (needs the Dashboard trait).",
            valueName: "host:port"))
    var metricsListen: String?

    @Flag(
        help: ArgumentHelp(
            "With --metrics-listen: per-job series too (jobrunner_job_runs_total{job,outcome}, jobrunner_job_run_duration_seconds{job}, jobrunner_job_run_lateness_seconds{job}), one per job name: for a bounded set of jobs."
        ))
    var metricsPerJob = false

    @Option(
        help: ArgumentHelp("SQLite synchronous mode: normal, or full for power-loss durability.", valueName: "mode"))
    var synchronous: String = "normal"

    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel: String = "info"

    @Option(
        help: ArgumentHelp(
            "Log lines as text (the default) or json: one object a line with time, level, message and metadata.",
            valueName: "format"))
    var logFormat: String = "text"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Delete runs that finished longer ago than this (default 30d); off: keep every run.",
            valueName: "duration|off"))
    var keepHistory: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Keep at most this many runs per job, the newest (default 10000); off: no cap.", valueName: "n|off"))
    var keepRuns: String?

    func validate() throws {
        _ = try Parse.count(concurrency, flag: "--concurrency", in: 1...10_000)
        for queue in queues { try Queue.validate(queue) }
        _ = try Parse.duration(grace, flag: "--grace")
        _ = try Parse.duration(killAfter, flag: "--kill-after")
        _ = try leaseAndHeartbeat()
        _ = try claimLeadDuration()
        _ = try failureAlerting()
        if SynchronousMode(rawValue: synchronous.uppercased()) == nil {
            throw ValidationError("--synchronous must be normal or full")
        }
        if RunLogHandler.Format(rawValue: logFormat) == nil {
            throw ValidationError("--log-format must be text or json, not \(JobRunnerErrorText.quoted(logFormat))")
        }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        _ = try historyRetention()
        if let metricsListen { _ = try ListenAddress(parsing: metricsListen, flag: "--metrics-listen") }
        if metricsPerJob && metricsListen == nil {
            throw ValidationError(
                "--metrics-per-job needs --metrics-listen HOST:PORT (it adds series to that endpoint)")
        }
    }

    /// The lease and the heartbeat interval the flags ask for. The lease must span at least three
    /// heartbeats: the runner fences itself two heartbeats before it would run out (never before
    /// half of it), and needs a beat or two of room to renew before that.
    func leaseAndHeartbeat() throws -> (lease: Duration, heartbeat: Duration) {
        let lease = try Parse.duration(self.lease, flag: "--lease", allowZero: false)
        let heartbeat = try Parse.duration(self.heartbeat, flag: "--heartbeat", allowZero: false)
        guard heartbeat >= .milliseconds(10) else {
            throw ValidationError("--heartbeat must be at least 10ms; got \(self.heartbeat)")
        }
        guard lease >= heartbeat * 3 else {
            throw ValidationError(
                "--lease must be at least 3 heartbeats (--heartbeat \(self.heartbeat) needs a lease of at least \(DurationFormat.format(heartbeat * 3))); got \(self.lease)"
            )
        }
        return (lease, heartbeat)
    }

    /// The claim lead `--claim-lead` asks for; nil for the store's default. Refused rather than
    /// clamped beyond the bounds the runner applies, so that what runs is what was asked for.
    func claimLeadDuration() throws -> Duration? {
        guard let claimLead else { return nil }
        let lead = try Parse.claimLead(claimLead)
        let lease = try leaseAndHeartbeat().lease
        guard lead <= lease / 8 else {
            throw ValidationError(
                "--claim-lead must be at most an eighth of --lease (\(DurationFormat.format(lease / 8)) with --lease \(self.lease)); got \(claimLead)"
            )
        }
        return lead
    }

    /// The failure alerts `--on-failure` and `--alert-interval` ask for; nil without `--on-failure`.
    func failureAlerting() throws -> FailureAlerting {
        let interval = try Parse.duration(alertInterval, flag: "--alert-interval")
        // Without a command of its own the runner still starts jobs' own commands, at this interval.
        guard let onFailure else { return FailureAlerting(interval: interval) }
        let argv: [String]
        do {
            argv = try CommandWords.split(onFailure)
        } catch {
            throw ValidationError("--on-failure: \(error) in \(JobRunnerErrorText.quoted(onFailure))")
        }
        guard let program = argv.first, !program.isEmpty else {
            throw ValidationError("--on-failure needs a command")
        }
        if argv.contains(where: { $0.utf8.contains(0) }) {
            throw ValidationError("--on-failure: a command cannot contain a NUL byte")
        }
        return FailureAlerting(command: argv, interval: interval)
    }

    /// The retention the flags ask for; nil when both are off (or `--keep-history off` alone).
    func historyRetention() throws -> HistoryRetention? {
        var retention = HistoryRetention.standard
        switch keepHistory {
        case nil: break
        case "off"?:
            // Keep every run, unless a cap is asked for explicitly.
            retention.maxAge = nil
            if keepRuns == nil { return nil }
        case let text?: retention.maxAge = try Parse.duration(text, flag: "--keep-history", allowZero: false)
        }
        switch keepRuns {
        case nil: break
        case "off"?: retention.maxRunsPerJob = nil
        case let text?:
            guard let count = Int(text), (1...1_000_000_000).contains(count) else {
                throw ValidationError(
                    "--keep-runs must be a number of runs between 1 and 1000000000, or off; got \(text)")
            }
            retention.maxRunsPerJob = count
        }
        return retention.maxAge == nil && retention.maxRunsPerJob == nil ? nil : retention
    }

    func run() async throws {
        #if !Dashboard
            if metricsListen != nil { throw RuntimeError(message: "--metrics-listen: " + Serve.notBuiltMessage) }
        #endif
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = RunLogHandler.Format(rawValue: logFormat) ?? .text
        LoggingSystem.bootstrap { label in
            var handler = RunLogHandler()
            handler.label = label
            handler.logLevel = level
            handler.format = format
            return handler
        }
        let logger = Logger(label: "jobctl")
        // The metrics system is bootstrapped before the runner makes its instruments.
        var metricsServices: [ServiceGroupConfiguration.ServiceConfiguration] = []
        #if Dashboard
            if let metricsListen {
                let address = try ListenAddress(parsing: metricsListen, flag: "--metrics-listen")
                metricsServices.append(
                    .init(service: RunnerMetricsEndpoint.bootstrap(address: address, logger: logger)))
            }
        #endif
        let store = try await global.openStore(
            synchronous: SynchronousMode(rawValue: synchronous.uppercased()) ?? .normal, create: true)
        #if PostgreSQL
            // On PostgreSQL every time comes from the server's clock: how well this host reads it bounds
            // how late its runs start and how two hosts' recorded times compare.
            if let clock = store.clock as? DatabaseClock, let within = clock.uncertaintyMicroseconds {
                logger.info(
                    "measured the database server's clock",
                    metadata: ["clock.offset_us": "\(clock.offsetMicroseconds)", "clock.within_us": "\(within)"])
            }
        #endif
        let leaseAndHeartbeat = try leaseAndHeartbeat()
        let runner = JobRunner(
            store: store,
            configuration: JobRunnerConfiguration(
                concurrency: concurrency,
                queues: queues.isEmpty ? nil : queues,
                drainTimeout: try Parse.duration(grace, flag: "--grace"),
                terminationGrace: try Parse.duration(killAfter, flag: "--kill-after"),
                heartbeatInterval: leaseAndHeartbeat.heartbeat,
                lease: leaseAndHeartbeat.lease,
                claimLead: try claimLeadDuration(),
                historyRetention: try historyRetention(),
                onFailure: try failureAlerting(),
                perJobMetrics: metricsPerJob
            ),
            logger: logger
        )
        // The runner returns on its own after a `jobctl drain`: that is a clean end, not a failure.
        let service = ServiceGroupConfiguration.ServiceConfiguration(
            service: runner,
            successTerminationBehavior: .gracefullyShutdownGroup
        )
        let group = ServiceGroup(
            // A group shuts its services down last first: the metrics endpoint outlives the drain.
            configuration: ServiceGroupConfiguration(services: metricsServices + [service], logger: logger))
        // The first SIGTERM/SIGINT/SIGHUP drains; a second one cancels the group, which stops the
        // runner at once (still recording what it interrupted). ServiceGroup cannot use one signal for
        // both. SIGHUP is the terminal closing: its runs must not be orphaned. A closed terminal or
        // log pipe must not kill the runner mid-run either: writes to it fail instead (SIGPIPE ignored).
        signal(SIGPIPE, SIG_IGN)
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint, .sighup)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var count = 0
                for await signal in signals {
                    count += 1
                    if count == 1 {
                        logger.info(
                            "signal received; draining (send it again to stop at once)",
                            metadata: ["signal": "\(signal)"])
                        await group.triggerGracefulShutdown()
                    } else {
                        logger.info("second signal received; stopping now", metadata: ["signal": "\(signal)"])
                        return
                    }
                }
            }
            // Whichever ends first (the group after a drain, or the second signal), end the other.
            try await tasks.next()
            tasks.cancelAll()
            try await tasks.waitForAll()
        }
    }
}
