import ArgumentParser
import Foundation
import JobRunner

#if PostgreSQL
    import JobRunnerPostgres
#endif

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The database file.", valueName: "path"))
    var db: String?

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("How long to wait for another process's lock, e.g. 5s.", valueName: "duration"))
    var busyTimeout: String = "5s"

    /// Options that may also be given before the subcommand (`jobctl --db X status`).
    static let globalFlags = ["--db", "--busy-timeout"]

    /// Moves global options written before the subcommand to after it (but before a `--` that starts
    /// a command's argv), where ArgumentParser expects them: `jobctl --db X add j --every 1s -- echo hi`
    /// becomes `add j --every 1s --db X -- echo hi`.
    static func movingGlobalOptions(_ arguments: [String]) -> [String] {
        var globals: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if let flag = globalFlags.first(where: { argument == $0 }) {
                globals.append(flag)
                if index + 1 < arguments.count { globals.append(arguments[index + 1]) }
                index += 2
            } else if globalFlags.contains(where: { argument.hasPrefix($0 + "=") }) {
                globals.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !globals.isEmpty else { return arguments }
        var rest = Array(arguments[index...])
        let insertAt = rest.firstIndex(of: "--") ?? rest.count
        rest.insert(contentsOf: globals, at: insertAt)
        return rest
    }

    static let defaultPathDescription = "$XDG_STATE_HOME/jobrunner/jobs.sqlite (~/.local/state/jobrunner/jobs.sqlite)"

    /// The database path: --db, else $JOBCTL_DB, else the default under the XDG state directory
    /// (whose directory is made only for a command that may create the database).
    func resolvedPath(create: Bool) throws -> String {
        if let db { return db }
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["JOBCTL_DB"], !path.isEmpty { return path }
        let base: String
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            base = state
        } else {
            base = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        }
        let directory = base + "/jobrunner"
        guard create else { return directory + "/jobs.sqlite" }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw RuntimeError(message: "cannot create \(directory): \(error.localizedDescription)")
        }
        return directory + "/jobs.sqlite"
    }

    /// Whether `--db` (or `JOBCTL_DB`) names a PostgreSQL database rather than a file.
    static func isURL(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    func validate() throws {
        if db?.isEmpty == true { throw ValidationError("--db needs a path, not an empty string") }
        _ = try Parse.duration(busyTimeout, flag: "--busy-timeout")
    }

    /// Opens the store. Only commands that define or run jobs (`add`, `run`, `demo`) create a
    /// database; the others fail on a missing or empty file and create nothing.
    ///
    /// A `postgres://` or `postgresql://` URL selects the PostgreSQL store (with the PostgreSQL
    /// trait); its schema is created or migrated on open, whatever the command.
    func openStore(synchronous: SynchronousMode = .normal, create: Bool = false) async throws -> JobStore {
        let timeout = try Parse.duration(busyTimeout, flag: "--busy-timeout")
        // Only the default path is ever made (its directory); --db and JOBCTL_DB come back as given.
        let location = try resolvedPath(create: create)
        if Self.isURL(location) {
            #if PostgreSQL
                do {
                    return try await JobStore.open(url: location)
                } catch let error as PostgresURL.ParseError {
                    throw RuntimeError(message: error.description)
                }
            #else
                throw RuntimeError(
                    message:
                        "this jobctl was built without PostgreSQL support; build it with `swift build --traits PostgreSQL`"
                )
            #endif
        }
        return try await JobStore.open(
            path: location,
            configuration: JobStore.Configuration(
                busyTimeout: timeout, synchronous: synchronous, createIfMissing: create)
        )
    }
}

/// Parsing of flag values into library types, with one-line errors that name the flag.
enum Parse {
    /// A duration flag's value: at most ``JobDefinition/maximumSpan`` (100 years), so that no sum
    /// of it and an instant can overflow.
    static func duration(_ text: String, flag: String, allowZero: Bool = true) throws -> Duration {
        if text.trimmingCharacters(in: .whitespaces).hasPrefix("-") {
            throw ValidationError("\(flag): \(JobRunnerErrorText.quoted(text)) is negative; durations are 0s or more")
        }
        let duration: Duration
        do {
            duration = allowZero ? try DurationFormat.parse(text) : try DurationFormat.parsePositive(text)
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
        if duration > JobDefinition.maximumSpan {
            throw ValidationError(
                "\(flag): \(JobRunnerErrorText.quoted(text)) is too long; the most is \(DurationFormat.format(JobDefinition.maximumSpan)) (100 years)"
            )
        }
        return duration
    }

    /// A `--cron` schedule in the `--tz` zone (UTC without one); each error names its own flag.
    static func cron(_ expression: String, timeZone: String?) throws -> Schedule {
        let zone: TimeZone
        do {
            zone = try TimeZoneName.resolve(timeZone ?? "UTC")
        } catch {
            throw ValidationError("--tz: \(error)")
        }
        do {
            return .cron(try CronExpression(expression), timeZone: zone)
        } catch {
            throw ValidationError("--cron: \(error)")
        }
    }

    /// A count flag's value, refused with a message saying what is wrong when out of range.
    static func count(_ value: Int, flag: String, in range: ClosedRange<Int>) throws -> Int {
        guard range.contains(value) else {
            throw ValidationError(
                "\(flag) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
        return value
    }

    static func instant(_ text: String, flag: String) throws -> UnixMicros {
        let instant: UnixMicros
        do {
            instant = try Timestamp.parseRFC3339(text)
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
        if instant < 0 || instant > JobDefinition.latestInstant {
            throw ValidationError("\(flag): \(JobRunnerErrorText.quoted(text)) is outside 1970 to 9999 (UTC)")
        }
        return instant
    }
}

extension JobStore {
    /// Rescues the runs of dead runners (see ``JobStore/rescueDeadRunners()``). A failure, such as a
    /// read-only database file, only means that they are shown dead without being rescued.
    @discardableResult
    func rescueIfPossible() async -> [Int64] {
        (try? await rescueDeadRunners()) ?? []
    }
}
