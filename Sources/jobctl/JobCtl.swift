import ArgumentParser
import Foundation
import JobRunner

@main
struct JobCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobctl",
        abstract: "Add, run, inspect and drain durable jobs kept in one SQLite file.",
        discussion: """
            The database is --db PATH, else $JOBCTL_DB, else \(GlobalOptions.defaultPathDescription). \
            Only add, run and demo create it (from a missing or empty file); another program's SQLite \
            file is refused and left as it was.

            Exit status: 0 success; 1 runtime error (unknown job, database locked, read-only or not a \
            database, …); 3 a wait timed out (drain --timeout, stop --wait --timeout); 64 usage error \
            (bad flag, duration, cron expression, time zone, name or payload).
            """,
        version: "0.1.0",
        subcommands: [
            Add.self, List.self, Show.self, Stop.self, Pause.self, Resume.self, Remove.self, Trigger.self,
            Status.self, History.self, Prune.self, Run.self, Drain.self, Queue.self, Demo.self, Bench.self, Next.self,
            Logs.self, Serve.self,
        ]
    )

    /// Exit status for runtime errors.
    static let runtimeFailure: Int32 = 1
    /// Exit status when a wait ran out of time.
    static let timedOut: Int32 = 3
    /// Exit status for usage errors (EX_USAGE), as ArgumentParser uses.
    static let usageFailure: Int32 = 64

    /// Parses, runs, and turns every error into one line on stderr and a documented exit status.
    static func main() async {
        // Not even the program's name: the runtime could not find the arguments (seen under an
        // LD_PRELOAD library that moves `environ`, from which Swift on Linux finds them). Acting on
        // an empty command line would do something the user did not ask for.
        guard CommandLine.argc >= 1 else {
            printError("cannot read the command line: the runtime found no arguments, not even the program's name")
            Foundation.exit(usageFailure)
        }
        // Swift repairs invalid UTF-8 in arguments silently (U+FFFD); refuse it instead of storing
        // something other than what the user typed.
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index], String(validatingCString: raw) != nil else {
                printError("argument \(index) is not valid UTF-8; names, payloads and commands must be UTF-8")
                Foundation.exit(usageFailure)
            }
        }
        let arguments = Array(CommandLine.arguments.dropFirst())
        ProcessTitle.hideCredentials()
        do {
            var command = try parseAsRoot(GlobalOptions.movingGlobalOptions(arguments))
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            Foundation.exit(report(error))
        }
    }

    /// Prints the error as one line (help and version go to stdout in full) and returns the exit status.
    static func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as JobRunnerError:
            printError(error.description)
            return error.kind == .invalidDefinition
                ? usageFailure : (error.kind == .timedOut ? timedOut : runtimeFailure)
        case let error as JobStoreError:
            printError(DatabaseErrorText.describe(error))
            return runtimeFailure
        case let error as MigrationError:
            printError(error.description)
            return runtimeFailure
        case let error as RuntimeError:
            printError(error.message)
            return error.status
        default:
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return 0
            }
            if let exit = error as? ExitCode { return exit.rawValue }
            var message = message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            printError(message + " (see 'jobctl --help')")
            return code.rawValue == 0 ? usageFailure : code.rawValue
        }
    }

    static func printError(_ message: String) {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        StandardError.write("jobctl: error: \(line)\n")
    }
}

/// An error with its own message and exit status.
struct RuntimeError: Error {
    var message: String
    var status: Int32 = JobCtl.runtimeFailure
}

/// Plain words for the database errors users meet.
enum DatabaseErrorText {
    static func describe(_ error: JobStoreError) -> String {
        switch error.kind {
        case .notADatabase:
            return "the file is not a JobRunner database (\(error.backend) says: \(error.message))"
        case .busy:
            // The message already says for how long (see Connection.error): say it once.
            let detail =
                error.message.hasPrefix("database is locked")
                ? String(error.message.dropFirst("database is locked".count)) : " (\(error.message))"
            return "the database is locked by another process\(detail)"
        case .readOnly:
            if error.message.hasPrefix("the database") {
                return error.message
            }
            return "the database is read-only (\(error.message))"
        case .full:
            return "the disk is full (\(error.message))"
        case .unavailable:
            return "cannot open the database: \(error.message)"
        default:
            return error.description
        }
    }
}
