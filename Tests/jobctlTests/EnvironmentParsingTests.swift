import ArgumentParser
import Foundation
import JobRunner
import Testing

@testable import jobctl

/// `add --env`, in process.
@Suite("jobctl add --env", .timeLimit(.minutes(2)))
struct EnvironmentParsingTests {
    func parse<T>(_ arguments: [String], as _: T.Type = T.self, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> T
    {
        let command = try JobCtl.parseAsRoot(arguments)
        return try #require(command as? T, "parsed as \(type(of: command))", sourceLocation: sourceLocation)
    }

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

    @Test("add --env: KEY=VALUE, split at the first '='; refused without a command or with a bad key")
    func addEnvironment() throws {
        let add = try parse(
            ["add", "b", "--every", "1m", "--env", "A=1", "--env", "URL=x?a=b", "--env", "EMPTY=", "--", "true"],
            as: Add.self)
        #expect(try add.definition(now: 0).environment == ["A": "1", "URL": "x?a=b", "EMPTY": ""])
        expectUsageError(["add", "b", "--every", "1m", "--env", "A=1", "--handler", "tick"], mentioning: "--env")
        expectUsageError(["add", "b", "--every", "1m", "--env", "A", "--", "true"], mentioning: "KEY=VALUE")
        expectUsageError(["add", "b", "--every", "1m", "--env", "=1", "--", "true"], mentioning: "empty")
        expectUsageError(
            ["add", "b", "--every", "1m", "--env", "A=1", "--env", "A=2", "--", "true"], mentioning: "twice")
        expectUsageError(["add", "b", "--every", "1m", "--env", "JOB_RUN_ID=1", "--", "true"], mentioning: "reserved")
    }
}
