import ArgumentParser
import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the captured output tail of one run.",
        discussion: """
            Prints what the run's command wrote to stdout and stderr (its last part, as the runner kept it), \
            as it was written. On a terminal, control characters other than newline and tab are shown as \
            ^X so that stored output cannot drive the terminal. A handler run, or a run still in flight, \
            has no captured output: a note says so on stderr and the exit status is 0.

            Example: jobctl logs 42
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The run's id, as `jobctl history` shows it.", valueName: "run"))
    var run: String

    @Flag(help: "Print one JSON document (the run, with its output).")
    var json = false

    func validate() throws {
        _ = try Logs.runID(run)
    }

    /// A run id: a positive decimal integer.
    static func runID(_ text: String) throws -> Int64 {
        guard let id = Int64(text), id > 0, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ValidationError(
                "RUN must be a positive run id (see jobctl history), not \(JobRunnerErrorText.quoted(text))")
        }
        return id
    }

    func run() async throws {
        let id = try Logs.runID(run)
        let store = try await global.openStore()
        guard let record = try await store.run(id: id) else {
            throw RuntimeError(message: "no run with id \(id)")
        }
        if json {
            try Output.json(RunJSON(record))
            return
        }
        guard let output = record.output, !output.isEmpty else {
            let why =
                record.finishedAt == nil
                ? "it is still running"
                : (record.output == nil ? "no output was captured" : "the command printed nothing")
            FileHandle.standardError.write(Data("jobctl: run \(id) of \(record.jobName) has no output: \(why)\n".utf8))
            return
        }
        var text = isatty(STDOUT_FILENO) == 1 ? Output.terminalSafe(output) : output
        if !text.hasSuffix("\n") { text += "\n" }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
