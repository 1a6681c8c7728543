import ArgumentParser
import Foundation
import JobRunner

struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Define a job.",
        discussion: """
            Exactly one schedule (--every, --cron, --in, --at) and one action (--handler NAME, or a command \
            after --, run without a shell; use `sh -c '…'` to ask for one).

            --on-failure COMMAND (one string, split into words as a shell would, without a shell) is the \
            job's own failure alert: every runner starts it after a run of this job ends failed, timeout or \
            abandoned, or the job is paused as poison, with the run in its environment (JOB_NAME, \
            JOB_RUN_ID, JOB_OUTCOME, JOB_EXIT_CODE, JOB_ERROR, JOB_OUTPUT_FILE, …, as for `jobctl run \
            --on-failure`). A runner started with --on-failure starts its own command too: both fire. At \
            most one alert per job per the runner's --alert-interval (1m by default); a command that fails \
            is logged, never retried, and one that runs past 1 minute is killed.

            Examples:
              jobctl add heartbeat --every 100ms --handler tick
              jobctl add rotate --cron '0 3 * * *' --tz Europe/Berlin -- /usr/sbin/logrotate /etc/logrotate.conf
              jobctl add webhook-retry --in 30s --retries 5 -- curl -fsS https://example.com/hook
              jobctl add report --every 1h --fixed-delay --delay 0s --timeout 10m -- ./report.sh
              jobctl add backup --cron @daily --env BACKUP_DIR=/srv/backup --env LANG=C -- /usr/local/bin/backup
              jobctl add nightly --cron @daily --on-failure '/usr/local/bin/notify --team data' -- ./nightly.sh
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's unique name.")
    var name: String

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Run periodically at this interval, e.g. 100ms, 5m, 1h30m.", valueName: "duration"))
    var every: String?

    @Flag(help: "With --every: the next run is due one interval after the last run ends (not anchored).")
    var fixedDelay = false

    @Option(help: ArgumentHelp("Run on a cron expression (5 or 6 fields, or @hourly, @daily, …).", valueName: "expr"))
    var cron: String?

    @Option(help: ArgumentHelp("With --cron: the IANA time zone, e.g. Europe/Berlin (default UTC).", valueName: "zone"))
    var tz: String?

    @Option(
        name: .customLong("in"), parsing: .unconditional,
        help: ArgumentHelp("Run once, this long from now (0s: now).", valueName: "duration"))
    var after: String?

    @Option(
        help: ArgumentHelp(
            "Run once at this RFC 3339 instant in the future, e.g. 2026-12-01T03:00:00Z.", valueName: "time"))
    var at: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("With --every: delay before the first run (0s: at once).", valueName: "duration"))
    var delay: String?

    @Option(help: "The worker queue.")
    var queue: String = "default"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Cancel a run that takes longer (recorded as timeout).", valueName: "duration"))
    var timeout: String?

    @Option(parsing: .unconditional, help: "Retry a failed run up to N times (0 to 1000), with exponential backoff.")
    var retries: Int = 0

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Delay before the first retry (doubles each time, at most 1h).", valueName: "duration"))
    var backoff: String = "1s"

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Add a random delay of up to this much to each run (shorter than --every).", valueName: "duration"))
    var jitter: String = "0s"

    @Option(help: ArgumentHelp("What to do about missed runs: coalesce, skip or catch-up.", valueName: "policy"))
    var misfire: String = "coalesce"

    @Option(help: ArgumentHelp("A JSON payload for the handler (JOB_PAYLOAD for a command).", valueName: "json"))
    var payload: String?

    @Option(
        help: ArgumentHelp(
            "A registered handler to run (built-ins: tick, prune-history, wal-checkpoint, optimize).", valueName: "name"
        ))
    var handler: String?

    @Option(help: ArgumentHelp("Working directory for a command (default: the current directory).", valueName: "dir"))
    var cwd: String?

    @Option(
        name: .customLong("env"),
        help: ArgumentHelp(
            "Set an environment variable for the command (repeatable); it overrides the inherited one. JOB_* names are reserved.",
            valueName: "key=value"))
    var environment: [String] = []

    @Option(
        help: ArgumentHelp(
            "A command (one string, split into words without a shell) started when a run of this job fails, times out or is abandoned.",
            valueName: "command"))
    var onFailure: String?

    @Flag(help: "Redefine the job if it exists (history, counters and state are kept).")
    var replace = false

    @Argument(
        parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func validate() throws {
        _ = try definition(now: 0)
    }

    /// Builds the definition from the flags; every problem is a `ValidationError` naming the flag.
    func definition(now: UnixMicros) throws -> JobDefinition {
        let schedules = [every, cron, after, at].compactMap { $0 }
        if schedules.count != 1 {
            throw ValidationError(
                schedules.isEmpty
                    ? "a schedule is required: --every, --cron, --in or --at"
                    : "give only one of --every, --cron, --in and --at"
            )
        }
        if fixedDelay && every == nil { throw ValidationError("--fixed-delay goes with --every") }
        if tz != nil && cron == nil { throw ValidationError("--tz goes with --cron") }
        if delay != nil && every == nil {
            throw ValidationError(
                "--delay goes with --every (a --cron job starts at its first slot; for a one-shot, put the delay in --in or --at)"
            )
        }
        let schedule: Schedule
        if let every {
            schedule = .every(try Parse.duration(every, flag: "--every", allowZero: false), fixedDelay: fixedDelay)
        } else if let cron {
            schedule = try Parse.cron(cron, timeZone: tz)
        } else if let after {
            schedule = .after(try Parse.duration(after, flag: "--in"))
        } else {
            let instant = try Parse.instant(at ?? "", flag: "--at")
            // now is 0 while validating flags alone; run() checks again against the real time.
            if now > 0 && instant < now {
                throw ValidationError(
                    "--at: \(JobRunnerErrorText.quoted(at ?? "")) is in the past; use --in 0s to run it now")
            }
            schedule = .at(instant)
        }
        let action: JobAction
        switch (handler, command.isEmpty) {
        case (let handler?, true): action = .handler(handler)
        case (nil, false):
            let directory = cwd.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            action = .command(command, workingDirectory: directory ?? FileManager.default.currentDirectoryPath)
        case (.some, false): throw ValidationError("give either --handler or a command after --, not both")
        case (nil, true): throw ValidationError("an action is required: --handler NAME, or a command after --")
        }
        if cwd != nil && handler != nil { throw ValidationError("--cwd goes with a command") }
        if let cwd {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: cwd, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--cwd: \(JobRunnerErrorText.quoted(cwd)) is not an existing directory")
            }
        }
        if !environment.isEmpty && handler != nil {
            throw ValidationError("--env goes with a command after --, not with --handler")
        }
        guard let policy = MisfirePolicy(rawValue: misfire) else {
            throw ValidationError(
                "--misfire must be coalesce, skip or catch-up, not \(JobRunnerErrorText.quoted(misfire))")
        }
        _ = try Parse.count(retries, flag: "--retries", in: 0...1000)
        let definition = JobDefinition(
            name: name,
            queue: queue,
            action: action,
            payload: payload,
            schedule: schedule,
            initialDelay: try delay.map { try Parse.duration($0, flag: "--delay") },
            timeout: try timeout.map { try Parse.duration($0, flag: "--timeout", allowZero: false) },
            retry: RetryPolicy(maxRetries: retries, backoff: try Parse.duration(backoff, flag: "--backoff")),
            jitter: try Parse.duration(jitter, flag: "--jitter"),
            misfire: policy,
            environment: try Add.environment(environment, action: action),
            onFailure: try onFailure.map(Add.alertCommand)
        )
        do {
            try definition.validate(now: now)
        } catch let error as JobRunnerError {
            throw ValidationError(error.message)
        }
        return definition
    }

    /// `--env KEY=VALUE` flags as a dictionary: the key is what comes before the first `=`; a key
    /// given twice is refused. The library checks the rest (reserved names, NUL, limits).
    static func environment(_ assignments: [String], action: JobAction) throws -> [String: String] {
        var result: [String: String] = [:]
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "=") else {
                throw ValidationError("--env takes KEY=VALUE, not \(JobRunnerErrorText.quoted(assignment))")
            }
            let key = String(assignment[..<equals])
            if key.isEmpty { throw ValidationError("--env: the variable name before '=' is empty") }
            if result[key] != nil { throw ValidationError("--env: \(JobRunnerErrorText.quoted(key)) is given twice") }
            result[key] = String(assignment[assignment.index(after: equals)...])
        }
        do {
            try JobDefinition.validateEnvironment(result, action: action)
        } catch let error as JobRunnerError {
            throw ValidationError("--env: \(error.message)")
        }
        return result
    }

    /// `--on-failure COMMAND` as an argv; the library checks the rest (limits).
    static func alertCommand(_ text: String) throws -> [String] {
        let argv: [String]
        do {
            argv = try CommandWords.split(text)
        } catch {
            throw ValidationError("--on-failure: \(error) in \(JobRunnerErrorText.quoted(text))")
        }
        do {
            try JobDefinition.validateAlertCommand(argv)
        } catch let error as JobRunnerError {
            throw ValidationError("--on-failure: \(error.message)")
        }
        return argv
    }

    func run() async throws {
        let store = try await global.openStore(create: true)
        let definition = try definition(now: store.clock.now())
        let job = try await store.add(definition, replace: replace)
        let now = store.clock.now()
        print(
            "\(replace ? "defined" : "added") \(Output.cell(job.definition.name, limit: 80)): \(job.definition.schedule.description), next run \(Output.time(job.nextRunAt, now: now))"
        )
        // A handler jobctl's own runner does not have: fine for a service that registers it, a typo
        // otherwise. Said once, here, rather than left to wait silently as "due".
        if let handler, !JobRegistry.builtinNames.contains(handler) {
            StandardError.write(
                "jobctl: note: \(JobRunnerErrorText.quoted(handler)) is not a built-in handler (\(JobRegistry.builtinNames.joined(separator: ", "))); the job runs only in a service that registers it\n"
            )
        }
    }
}

/// Quoting for messages, the same way the library quotes names.
enum JobRunnerErrorText {
    static func quoted(_ text: String) -> String {
        "\"" + Output.cell(text, limit: 80) + "\""
    }
}
