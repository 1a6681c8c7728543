import ArgumentParser
import Foundation
import JobRunner
import Testing

@testable import jobctl

/// `add --env`, in process.
@Suite("jobctl add --env", .timeLimit(.minutes(2)))
struct EnvironmentParsingTests: CommandLineParsing {
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
