import ArgumentParser
import Foundation
import JobRunner
import Testing

@testable import jobctl

/// Parsing and formatting behind logs, list --state, history --since/--follow, next, add --env and
/// run --log-format, in process.
@Suite("jobctl tools: parsing and formatting", .timeLimit(.minutes(2)))
struct ToolsParsingTests {
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

    @Test("list --state takes the job states and failing")
    func listState() throws {
        for state in ["active", "paused", "stopped", "done", "failing"] {
            #expect(try parse(["list", "--state", state], as: List.self).state == state)
        }
        expectUsageError(["list", "--state", "broken"], mentioning: "broken")
    }
    @Test("list --state failing: the last outcome failed, timed out or was abandoned")
    func failingFilter() throws {
        for outcome in [RunOutcome.failed, .timeout, .abandoned] {
            #expect(List.matches(state: .active, lastOutcome: outcome, filter: "failing"))
        }
        for outcome in [RunOutcome.ok, .interrupted, nil] {
            #expect(!List.matches(state: .active, lastOutcome: outcome, filter: "failing"))
        }
        #expect(List.matches(state: .paused, lastOutcome: nil, filter: "paused"))
        #expect(!List.matches(state: .paused, lastOutcome: nil, filter: "active"))
        #expect(List.matches(state: .done, lastOutcome: .ok, filter: nil))
    }
    @Test("spans for LEFT and PASSED have at most two units")
    func spans() {
        #expect(Output.span(micros: 250_000) == "0.25s")
        #expect(Output.span(micros: 45_000_000) == "45s")
        #expect(Output.span(micros: 250_000_000) == "4m 10s")
        #expect(Output.span(micros: 3_600_000_000) == "1h")
        #expect(Output.span(micros: 7_500_000_000) == "2h 5m")
        #expect(Output.span(micros: 273_600_000_000) == "3d 4h")
        #expect(Output.span(micros: -45_000_000) == "45s")
    }
    @Test("zoned times name the weekday and the zone, on both sides of a DST change")
    func zonedTimes() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        #expect(
            Output.zonedTime(try Timestamp.parseRFC3339("2026-03-29T00:30:00Z"), zone: berlin)
                == "Sun 2026-03-29 01:30:00 +01:00")
        #expect(
            Output.zonedTime(try Timestamp.parseRFC3339("2026-03-29T01:00:00Z"), zone: berlin)
                == "Sun 2026-03-29 03:00:00 +02:00")
        #expect(Output.utcTime(try Timestamp.parseRFC3339("2026-11-30T09:05:07Z")) == "Mon 2026-11-30 09:05:07 UTC")
    }
}
