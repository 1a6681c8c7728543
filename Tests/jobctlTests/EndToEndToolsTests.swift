import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The everyday tools, driving the built jobctl: logs, show's output tail, list like list-timers with
/// --state, history --since and --follow, and next.
@Suite("jobctl everyday tools end to end", .timeLimit(.minutes(3)))
struct EndToEndToolsTests {
    @Test("list: NEXT/LEFT/LAST/PASSED columns, --state filters, --json keeps its fields")
    func listStates() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "active", "--every", "1h", "--handler", "tick"])
        try await s.succeed(["add", "paused", "--every", "2h", "--handler", "tick"])
        try await s.succeed(["add", "stopped", "--cron", "@daily", "--", "true"])
        try await s.succeed(["pause", "paused"])
        try await s.succeed(["stop", "stopped"])

        let table = try await s.succeed(["list"])
        let header = try #require(table.stdout.split(separator: "\n").first)
        for column in ["NEXT", "LEFT", "LAST", "PASSED", "OUTCOME", "NAME", "STATE"] {
            #expect(header.contains(column), "\(table)")
        }
        // Soonest first; a stopped job (nothing scheduled) last.
        let names = table.stdout.split(separator: "\n").dropFirst().map { line in
            ["active", "paused", "stopped"].first { line.contains(" \($0) ") } ?? "?"
        }
        #expect(names == ["active", "paused", "stopped"], "\(table)")

        for state in ["active", "paused", "stopped"] {
            let jobs = try await s.jsonArray(["list", "--state", state, "--json"])
            #expect(jobs.map { $0["name"] as? String } == [state])
            for job in jobs { expectKeys(job, JSONFields.job, in: "list --json") }
        }
        #expect(try await s.jsonArray(["list", "--state", "failing", "--json"]).isEmpty)
        #expect(try await s.succeed(["list", "--state", "done"]).stdout == "no done jobs\n")
        expectOneLineError(try await s.jobctl(["list", "--state", "sleeping"]), status: 64, mentioning: "sleeping")
    }
    @Test("history --follow prints each finished run once, including one in flight when it started; signals end it")
    func follow() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let gate = try Gate(s, name: "slow")
        try await s.succeed(["add", "slow", "--in", "0s", "--"] + gate.command)
        try await s.succeed(["add", "tick", "--every", "1h", "--handler", "tick"])
        let runner = try await s.startRunner()
        try await gate.waitUntilStarted(s)

        let follower = try s.launchJobctl(["history", "--follow"])
        try await waitUntil("the follower printed its header") {
            if follower.hasExited { throw HarnessError("the follower exited:\n\(follower.result())") }
            return follower.currentStdout.hasPrefix("RUN ")
        }
        var expected: [Int] = []
        for _ in 0..<3 {
            let before = try await s.history("tick").count
            try await s.succeed(["trigger", "tick"])
            try await waitUntil("the trigger ran") { try await s.history("tick", status: "ok").count > before }
        }
        try gate.release()
        let slow = try await s.waitForRun("slow", outcome: "ok")
        expected = try await s.history().compactMap { int($0["id"]) }
        #expect(expected.contains(try #require(int(slow["id"]))))

        func printedIDs(_ text: String) -> [Int] {
            text.split(separator: "\n").dropFirst().compactMap { Int($0.split(separator: " ").first ?? "") }
        }
        try await waitUntil("the follower printed every run") {
            Set(printedIDs(follower.currentStdout)) == Set(expected)
        }
        let result = try await s.stopCleanly(follower, signal: SIGINT)
        let printed = printedIDs(result.stdout)
        #expect(printed.count == Set(printed).count, "a run was printed twice:\n\(result.stdout)")
        #expect(Set(printed) == Set(expected))

        // With --json: the backlog, then new runs, one object a line; SIGTERM ends it.
        let json = try s.launchJobctl(["history", "--follow", "--json", "--limit", "2"])
        try await waitUntil("the JSON follower printed its backlog") {
            json.currentStdout.split(separator: "\n").count == 2
        }
        try await s.succeed(["trigger", "tick"])
        try await waitUntil("the JSON follower printed the new run") {
            json.currentStdout.split(separator: "\n").count == 3
        }
        let jsonResult = try await s.stopCleanly(json, signal: SIGTERM)
        let lines = jsonResult.stdout.split(separator: "\n")
        for line in lines {
            let run = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            expectKeys(run, JSONFields.run, in: "a followed run")
        }
        _ = try await s.stopCleanly(runner)
    }
}
