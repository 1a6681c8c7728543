import ArgumentParser
import Foundation
import JobRunner
import Testing

@testable import jobctl

/// Parsing and formatting behind logs, list --state, history --since/--follow, next, add --env and
/// run --log-format, in process.
@Suite("jobctl tools: parsing and formatting", .timeLimit(.minutes(2)))
struct ToolsParsingTests: CommandLineParsing {
    @Test("--since: durations ago, local dates and times, RFC 3339")
    func since() throws {
        let now = try Timestamp.parseRFC3339("2026-11-30T12:00:00Z")
        #expect(try Parse.since("1h", flag: "--since", now: now) == now - 3_600_000_000)
        #expect(try Parse.since("1h30m ago", flag: "--since", now: now) == now - 5_400_000_000)
        #expect(try Parse.since("2d", flag: "--since", now: now) == now - 172_800_000_000)
        #expect(try Parse.since("2026-11-30T10:00:00Z", flag: "--since", now: now) == now - 7_200_000_000)
        #expect(try Parse.since("2026-11-30T11:00:00+01:00", flag: "--since", now: now) == now - 7_200_000_000)
        // Local forms: whatever this machine's zone is, they read back as the same wall time.
        for (text, wall) in [
            ("2026-11-30", "2026-11-30 00:00:00"), ("2026-11-30 10:00", "2026-11-30 10:00:00"),
            ("2026-11-30T10:00", "2026-11-30 10:00:00"), ("2026-07-01 23:59:59", "2026-07-01 23:59:59"),
        ] {
            let instant = try Parse.since(text, flag: "--since", now: now)
            #expect(Output.localTime(instant) == wall, "\(text)")
        }
    }

    @Test("--since refuses what it cannot place, naming the flag and the text")
    func sinceRefuses() {
        for text in ["yesterday", "2026-02-30", "2026-11-30 25:00", "2026-13-01", "1x", "", "2026-11-3", "-1h"] {
            #expect(throws: ValidationError.self, "\(text)") { try Parse.since(text, flag: "--since", now: 0) }
        }
        expectUsageError(["history", "--since", "2026-02-30"], mentioning: "2026-02-30")
        expectUsageError(["history", "--since", "soon"], mentioning: "--since")
    }

    @Test("history --follow parses with the other filters")
    func follow() throws {
        let history = try parse(
            ["history", "tick", "--follow", "--status", "failed", "--since", "1h"], as: History.self)
        #expect(history.follow)
        #expect(history.name == "tick")
        expectUsageError(["history", "--follow", "--status", "running"], mentioning: "--status running")
    }

    @Test("logs takes a positive run id; anything else is a usage error")
    func logs() throws {
        #expect(try parse(["logs", "42"], as: Logs.self).run == "42")
        #expect(try Logs.runID("42") == 42)
        for bad in ["0", "-1", "x", "1.5", "+3", " 4", "99999999999999999999"] {
            #expect(throws: ValidationError.self, "\(bad)") { try Logs.runID(bad) }
        }
        expectUsageError(["logs", "abc"], mentioning: "abc")
        expectUsageError(["logs"], mentioning: "run")
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

    @Test("LEFT: the time left, overdue, running or paused")
    func left() {
        let now: UnixMicros = 1_000_000_000
        #expect(List.left(next: now + 250_000_000, state: .active, running: false, now: now) == "4m 10s")
        #expect(List.left(next: now - 2_000_000, state: .active, running: false, now: now) == "overdue 2s")
        #expect(List.left(next: now - 2_000_000, state: .active, running: true, now: now) == "running")
        #expect(List.left(next: now + 1, state: .paused, running: false, now: now) == "paused")
        #expect(List.left(next: nil, state: .stopped, running: false, now: now) == "-")
        #expect(List.passed(now - 45_000_000, now: now) == "45s ago")
        #expect(List.passed(nil, now: now) == "-")
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

    @Test("next takes exactly one of NAME, --cron and --every, and checks each")
    func next() throws {
        let cron = try parse(["next", "--cron", "30 2 * * *", "--tz", "Europe/Berlin", "--count", "3"], as: Next.self)
        #expect(try cron.schedule() == (try Schedule.cron("30 2 * * *", timeZone: "Europe/Berlin")))
        #expect(try parse(["next", "--every", "90m"], as: Next.self).count == 5)
        #expect(try parse(["next", "rotate"], as: Next.self).name == "rotate")
        expectUsageError(["next"], mentioning: "--cron")
        expectUsageError(["next", "rotate", "--every", "1m"], mentioning: "only one")
        expectUsageError(["next", "--cron", "61 * * * *"], mentioning: "minute")
        expectUsageError(["next", "--cron", "@daily", "--tz", "Mars/Olympus"], mentioning: "Mars/Olympus")
        expectUsageError(["next", "--every", "0s"], mentioning: "--every")
        expectUsageError(["next", "--every", "1m", "--tz", "UTC"], mentioning: "--tz")
        expectUsageError(["next", "--every", "1m", "--count", "0"], mentioning: "--count")
        expectUsageError(["next", "--every", "1m", "--now", "noon"], mentioning: "--now")
    }

    @Test("terminal-safe output shows control characters in caret notation")
    func terminalSafe() {
        #expect(Output.terminalSafe("a\u{1B}[31mb\n\tc\u{0}\u{7F}") == "a^[[31mb\n\tc^@^?")
    }
}
