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
}
