import ArgumentParser
import Testing

@testable import jobctl

/// In-process parsing of jobctl command lines, for the suites that test what a line turns into.
protocol CommandLineParsing {}

extension CommandLineParsing {
    /// Parses a command line as jobctl would, requiring a command of type `T`.
    func parse<T>(_ arguments: [String], as _: T.Type = T.self, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> T
    {
        let command = try JobCtl.parseAsRoot(arguments)
        return try #require(command as? T, "parsed as \(type(of: command))", sourceLocation: sourceLocation)
    }

    /// Requires the command line to be refused as a usage error (exit 64) whose message mentions `text`.
    func expectUsageError(
        _ arguments: [String], mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            let command = try JobCtl.parseAsRoot(arguments)
            Issue.record("expected a usage error, parsed \(type(of: command))", sourceLocation: sourceLocation)
        } catch {
            #expect(JobCtl.exitCode(for: error).rawValue == 64, "\(error)", sourceLocation: sourceLocation)
            let message = JobCtl.message(for: error)
            #expect(
                message.lowercased().contains(text.lowercased()), "message: \(message)",
                sourceLocation: sourceLocation)
        }
    }
}
