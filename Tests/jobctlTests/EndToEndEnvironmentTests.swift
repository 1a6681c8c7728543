import Foundation
import TestSupport
import Testing

/// `jobctl add --env`: stored, shown, refused when bad, and given to the command.
@Suite("jobctl add --env end to end", .timeLimit(.minutes(2)))
struct EndToEndEnvironmentTests {
    @Test("add --env reaches the command over the inherited environment; show and list --json show it")
    func environment() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed([
            "add", "env", "--in", "0s", "--env", "GREETING=hello world", "--env", "HOME=/overridden", "--env",
            "EQ=a=b", "--", "sh", "-c", "printf '%s|%s|%s|%s' \"$GREETING\" \"$HOME\" \"$EQ\" \"$JOB_NAME\"",
        ])
        try await s.succeed(["add", "plain", "--every", "1h", "--handler", "tick"])
        let expected = ["GREETING": "hello world", "HOME": "/overridden", "EQ": "a=b"]
        #expect(try await s.show("env")["environment"] as? [String: String] == expected)
        let jobs = try await s.jobs()
        #expect(jobs["env"]?["environment"] as? [String: String] == expected)
        #expect(jobs["plain"]?["environment"] as? [String: String] == [:])
        let shown = try await s.succeed(["show", "env"])
        #expect(shown.stdout.contains("env:") && shown.stdout.contains("GREETING=hello world"), "\(shown)")

        // Bad --env is a usage error naming the flag, and changes nothing.
        let before = try await s.dump()
        for arguments in [
            ["add", "bad", "--every", "1m", "--env", "JOB_NAME=x", "--", "true"],
            ["add", "bad", "--every", "1m", "--env", "A=1", "--handler", "tick"],
            ["add", "bad", "--every", "1m", "--env", "NOEQUALS", "--", "true"],
            ["add", "bad", "--every", "1m", "--env", "=x", "--", "true"],
            ["add", "env", "--in", "0s", "--replace", "--env", "JOB_RUN_ID=1", "--", "true"],
        ] {
            expectOneLineError(try await s.jobctl(arguments), status: 64, mentioning: "--env")
        }
        #expect(try await s.dump() == before)

        let runner = try await s.startRunner()
        let run = try await s.waitForRun("env", outcome: "ok")
        _ = try await s.stopCleanly(runner)
        #expect(run["output"] as? String == "hello world|/overridden|a=b|env")
    }
}
