import Foundation

/// A job as declared by its owner: name, queue, what to run, when, and its policies.
///
/// ```swift
/// let job = try JobDefinition(
///     name: "prune-sessions",
///     handler: "prune-sessions",
///     payload: PruneRequest(olderThan: 3600),
///     schedule: .every(.seconds(300))
/// )
/// try await store.declare(job)   // idempotent: creates, updates a changed definition, keeps history
/// ```
public struct JobDefinition: Sendable, Hashable {
    /// The longest any of a job's durations may be (interval, delay, timeout, backoff, jitter): 100
    /// years, so that every sum of an instant and durations stays a valid instant.
    package static let maximumSpan: Duration = .seconds(36_500 * 86_400)
    /// The latest instant a job may be scheduled for: 9999-12-31T23:59:59.999999Z.
    package static let latestInstant: UnixMicros = 253_402_300_799_999_999
    /// The longest job or queue name, in UTF-8 bytes.
    public static let maximumNameLength = 200
    /// The largest payload, in UTF-8 bytes of JSON.
    public static let maximumPayloadSize = 65_536
    /// The most argv entries of a command job.
    package static let maximumArguments = 1024
    /// The largest argv of a command job, in bytes, all entries together.
    package static let maximumCommandSize = 131_072
    /// The most environment variables of a command job.
    package static let maximumEnvironmentCount = 256
    /// The largest environment of a command job, in bytes: every `NAME=value` and its NUL terminator.
    package static let maximumEnvironmentSize = 65_536
    /// Environment names reserved for the variables JobRunner gives every command (`JOB_NAME`, `JOB_RUN_ID`, …).
    package static let reservedEnvironmentPrefix = "JOB_"

    /// The unique name.
    public var name: String
    /// The worker queue it runs on.
    public var queue: String
    /// A registered handler or a command.
    public var action: JobAction
    /// JSON text handed to the handler (and to a command as `JOB_PAYLOAD`), or nil.
    public var payload: String?
    /// When it runs.
    public var schedule: Schedule
    /// When set, the first run is due this long after the job is added (zero: at once), instead of
    /// one interval later (periodic jobs) or on the first matching cron slot.
    public var initialDelay: Duration?
    /// The longest a run may take before it is cancelled and recorded `timeout`; nil for no limit.
    public var timeout: Duration?
    /// Retries of failed runs.
    public var retry: RetryPolicy
    /// A random delay in `0...jitter` added to each occurrence, to spread load.
    public var jitter: Duration
    /// What to do about missed occurrences.
    public var misfire: MisfirePolicy
    /// Environment variables of a command job, on top of (overriding) the runner's inherited
    /// environment. Names starting with `JOB_` are reserved for the variables JobRunner sets itself.
    /// Must be empty for a handler job.
    public var environment: [String: String]
    /// A command (argv, run without a shell) started when a run of this job ends `failed`, `timeout`
    /// or `abandoned`, or the job is paused as poison; nil for none.
    ///
    /// It gets the same environment and follows the same rules as the runner's own
    /// ``FailureAlerting/command``: at most one alert per job per ``FailureAlerting/interval``,
    /// killed after ``FailureAlerting/timeout``, its failures logged and never retried, never
    /// delaying a claim. Both fire: a runner configured with a command of its own (`jobctl run
    /// --on-failure`) starts that one too, so a job's owner can add a recipient without taking the
    /// runner's (the on-call's) away. See <doc:FailureAlerts>.
    public var onFailure: [String]?

    /// Creates a definition. Nothing is validated until the store sees it.
    public init(
        name: String,
        queue: String = "default",
        action: JobAction,
        payload: String? = nil,
        schedule: Schedule,
        initialDelay: Duration? = nil,
        timeout: Duration? = nil,
        retry: RetryPolicy = .none,
        jitter: Duration = .zero,
        misfire: MisfirePolicy = .coalesce,
        environment: [String: String] = [:],
        onFailure: [String]? = nil
    ) {
        self.name = name
        self.queue = queue
        self.action = action
        self.payload = payload
        self.schedule = schedule
        self.initialDelay = initialDelay
        self.timeout = timeout
        self.retry = retry
        self.jitter = jitter
        self.misfire = misfire
        self.environment = environment
        self.onFailure = onFailure
    }

    /// Creates a handler job with a typed payload, encoded as JSON.
    ///
    /// - Throws: an `EncodingError` if the payload cannot be encoded.
    public init<Payload: Encodable>(
        name: String,
        queue: String = "default",
        handler: String,
        payload: Payload,
        schedule: Schedule,
        initialDelay: Duration? = nil,
        timeout: Duration? = nil,
        retry: RetryPolicy = .none,
        jitter: Duration = .zero,
        misfire: MisfirePolicy = .coalesce,
        onFailure: [String]? = nil
    ) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(payload)
        self.init(
            name: name, queue: queue, action: .handler(handler), payload: String(decoding: data, as: UTF8.self),
            schedule: schedule, initialDelay: initialDelay, timeout: timeout, retry: retry, jitter: jitter,
            misfire: misfire, onFailure: onFailure
        )
    }

    /// Checks every field against the documented limits.
    ///
    /// - Throws: ``JobRunnerError`` naming the first problem.
    public func validate(now: UnixMicros) throws {
        try JobDefinition.validateName(name, what: "job name")
        try JobDefinition.validateName(queue, what: "queue name")
        switch action {
        case .handler(let handler):
            try JobDefinition.validateName(handler, what: "handler name")
        case .command(let argv, let directory):
            guard let first = argv.first, !first.isEmpty else {
                throw JobRunnerError.invalidDefinition("a command job needs a non-empty command")
            }
            try JobDefinition.validateArgv(argv, what: "the command")
            if let directory, !directory.hasPrefix("/") {
                throw JobRunnerError.invalidDefinition("working directory must be an absolute path: \(directory)")
            }
        }
        try JobDefinition.validateEnvironment(environment, action: action)
        if let onFailure { try JobDefinition.validateAlertCommand(onFailure) }
        if let payload { try JobDefinition.validatePayload(payload) }
        if case .handler(let handler) = action { try BuiltinHandlers.validatePayload(payload, handler: handler) }
        do {
            try schedule.validate(now: now)
        } catch let error as ScheduleError {
            throw JobRunnerError.invalidDefinition(error.message)
        }
        if let initialDelay, initialDelay < .zero {
            throw JobRunnerError.invalidDefinition("initial delay must not be negative")
        }
        try validateRanges()
        if let timeout, timeout.microseconds <= 0 {
            throw JobRunnerError.invalidDefinition("timeout must be positive")
        }
        if retry.maxRetries < 0 || retry.maxRetries > 1000 {
            throw JobRunnerError.invalidDefinition("retries must be between 0 and 1000, got \(retry.maxRetries)")
        }
        if retry.backoff < .zero { throw JobRunnerError.invalidDefinition("backoff must not be negative") }
        if jitter < .zero { throw JobRunnerError.invalidDefinition("jitter must not be negative") }
    }

    /// Every duration within ``maximumSpan`` and every instant within ``latestInstant``, so that no
    /// schedule arithmetic can overflow.
    private func validateRanges() throws {
        func check(_ span: Duration?, _ what: String) throws {
            guard let span else { return }
            let (seconds, _) = span.components
            if seconds > JobDefinition.maximumSpan.components.seconds || seconds < 0 {
                throw JobRunnerError.invalidDefinition(
                    "\(what) must be between 0s and \(DurationFormat.format(JobDefinition.maximumSpan)) (100 years), got \(seconds)s"
                )
            }
        }
        switch schedule {
        case .after(let delay): try check(delay, "delay")
        case .every(let interval, _): try check(interval, "interval")
        case .at(let instant):
            if instant < 0 || instant > JobDefinition.latestInstant {
                throw JobRunnerError.invalidDefinition("the instant must be between 1970 and the end of 9999 (UTC)")
            }
            if let initialDelay,
                instant + min(max(initialDelay.microseconds, 0), JobDefinition.maximumSpan.microseconds)
                    > JobDefinition.latestInstant
            {
                throw JobRunnerError.invalidDefinition(
                    "the instant plus the initial delay falls after the end of 9999 (UTC)")
            }
        case .cron: break
        }
        try check(initialDelay, "initial delay")
        try check(timeout, "timeout")
        try check(retry.backoff, "backoff")
        try check(jitter, "jitter")
        if case .every(let interval, _) = schedule, jitter > .zero, jitter >= interval {
            throw JobRunnerError.invalidDefinition(
                "jitter (\(DurationFormat.format(jitter))) must be shorter than the interval (\(DurationFormat.format(interval)))"
            )
        }
    }

    /// Checks a job, queue or handler name against the documented rules.
    package static func validateName(_ name: String, what: String) throws {
        if name.isEmpty { throw JobRunnerError.invalidDefinition("\(what) must not be empty") }
        if name.utf8.count > maximumNameLength {
            throw JobRunnerError.invalidDefinition(
                "\(what) is \(name.utf8.count) bytes long; the limit is \(maximumNameLength)"
            )
        }
        if name.unicodeScalars.contains(where: {
            $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value)
        }) {
            throw JobRunnerError.invalidDefinition("\(what) must not contain control characters")
        }
        // Invisible characters make a name that looks like another (a zero-width space, a Hangul
        // filler), or turn the rest of a line around when printed (U+202E): refused, as control
        // characters are. A variation selector after an emoji (❤️) is what makes it one, and stays.
        let scalars = Array(name.unicodeScalars)
        let hidden = scalars.indices.first { index in
            let scalar = scalars[index]
            switch scalar.properties.generalCategory {
            case .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse: return true
            default: break
            }
            guard scalar.properties.isDefaultIgnorableCodePoint else { return false }
            let selectsEmoji =
                (scalar == "\u{FE0F}" || scalar == "\u{FE0E}") && index > 0 && scalars[index - 1].properties.isEmoji
            return !selectsEmoji
        }.map { scalars[$0] }
        if let hidden {
            throw JobRunnerError.invalidDefinition(
                "\(what) must not contain invisible or direction-changing characters (\(String(format: "U+%04X", hidden.value)))"
            )
        }
        // Two spellings of one look (é, and e + U+0301) would be two jobs that print the same.
        if !name.unicodeScalars.elementsEqual(name.precomposedStringWithCanonicalMapping.unicodeScalars) {
            throw JobRunnerError.invalidDefinition(
                "\(what) must be in composed form (Unicode NFC): write é, not e followed by a combining accent")
        }
        if name.hasPrefix("-") {
            throw JobRunnerError.invalidDefinition("\(what) must not start with '-'")
        }
        if name.trimmingCharacters(in: .whitespaces) != name {
            throw JobRunnerError.invalidDefinition("\(what) must not start or end with spaces")
        }
    }

    /// Checks an argv's size and contents (``maximumArguments``, ``maximumCommandSize``, no NUL).
    private static func validateArgv(_ argv: [String], what: String) throws {
        if argv.count > maximumArguments {
            throw JobRunnerError.invalidDefinition(
                "\(what) has \(argv.count) arguments; the limit is \(maximumArguments)")
        }
        let size = argv.reduce(0) { $0 + $1.utf8.count + 1 }
        if size > maximumCommandSize {
            throw JobRunnerError.invalidDefinition("\(what) is \(size) bytes long; the limit is \(maximumCommandSize)")
        }
        if argv.contains(where: { $0.utf8.contains(0) }) {
            throw JobRunnerError.invalidDefinition("\(what) contains a NUL byte")
        }
    }

    /// Checks a job's ``onFailure`` command: a program name first, then the limits of a command job.
    ///
    /// - Throws: ``JobRunnerError`` naming the problem.
    package static func validateAlertCommand(_ argv: [String]) throws {
        guard let first = argv.first, !first.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw JobRunnerError.invalidDefinition("the on-failure command must not be empty")
        }
        try validateArgv(argv, what: "the on-failure command")
    }

    /// Checks a command job's environment: names non-empty, without `=` and not starting with `JOB_`,
    /// no NUL anywhere, within ``maximumEnvironmentCount`` and ``maximumEnvironmentSize``; none for a handler.
    ///
    /// - Throws: ``JobRunnerError`` naming the first problem.
    package static func validateEnvironment(_ environment: [String: String], action: JobAction) throws {
        guard !environment.isEmpty else { return }
        if case .handler = action {
            throw JobRunnerError.invalidDefinition("environment variables go with a command job, not a handler")
        }
        if environment.count > maximumEnvironmentCount {
            throw JobRunnerError.invalidDefinition(
                "the job has \(environment.count) environment variables; the limit is \(maximumEnvironmentCount)")
        }
        var size = 0
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            let shown = JobRunnerError.quoted(name)
            if name.isEmpty { throw JobRunnerError.invalidDefinition("an environment variable name is empty") }
            if name.utf8.contains(UInt8(ascii: "=")) {
                throw JobRunnerError.invalidDefinition("environment variable name \(shown) contains '='")
            }
            if name.utf8.contains(0) || value.utf8.contains(0) {
                throw JobRunnerError.invalidDefinition("environment variable \(shown) contains a NUL byte")
            }
            if name.hasPrefix(reservedEnvironmentPrefix) {
                throw JobRunnerError.invalidDefinition(
                    "environment variable name \(shown) is reserved: JobRunner sets the JOB_* variables itself")
            }
            size += name.utf8.count + value.utf8.count + 2
        }
        if size > maximumEnvironmentSize {
            throw JobRunnerError.invalidDefinition(
                "the environment is \(size) bytes; the limit is \(maximumEnvironmentSize) bytes")
        }
    }

    static func validatePayload(_ payload: String) throws {
        let size = payload.utf8.count
        if size > maximumPayloadSize {
            throw JobRunnerError.invalidDefinition(
                "payload is \(size) bytes; the limit is \(maximumPayloadSize) bytes"
            )
        }
        do {
            _ = try JSONSerialization.jsonObject(with: Data(payload.utf8), options: [.fragmentsAllowed])
        } catch {
            throw JobRunnerError.invalidDefinition("payload is not valid JSON")
        }
    }
}
