import ArgumentParser
import Foundation
import JobRunner
import Testing

@testable import jobctl

/// `add --on-failure`, in process.
@Suite("jobctl add --on-failure", .timeLimit(.minutes(2)))
struct JobAlertParsingTests: CommandLineParsing {
    @Test("add --on-failure is one string split into words without a shell; a bad one is a usage error")
    func addOnFailure() throws {
        let add = try parse(
            ["add", "b", "--every", "1m", "--on-failure", "page --team 'on call' c\\ d", "--handler", "tick"],
            as: Add.self)
        #expect(try add.definition(now: 0).onFailure == ["page", "--team", "on call", "c d"])
        let plain = try parse(["add", "b", "--every", "1m", "--", "true"], as: Add.self)
        #expect(try plain.definition(now: 0).onFailure == nil)
        expectUsageError(["add", "b", "--every", "1m", "--on-failure", "", "--", "true"], mentioning: "empty")
        expectUsageError(["add", "b", "--every", "1m", "--on-failure", " ", "--", "true"], mentioning: "--on-failure")
        expectUsageError(["add", "b", "--every", "1m", "--on-failure", "'' x", "--", "true"], mentioning: "empty")
        expectUsageError(
            ["add", "b", "--every", "1m", "--on-failure", "page 'open", "--", "true"], mentioning: "unterminated")
    }
}
