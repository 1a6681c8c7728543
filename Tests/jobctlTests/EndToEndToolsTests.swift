import Foundation
import TestSupport
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
    @Test("logs prints a run's captured output; show its last lines; list --state failing; history --since")
    func logsShowAndSince() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "out", "--in", "0s", "--", "sh", "-c", "printf 'first\\nsecond\\n'; exit 3"])
        try await s.succeed(["add", "quiet", "--in", "0s", "--handler", "tick"])
        let runner = try await s.startRunner()
        let failed = try await s.waitForRun("out", outcome: "failed")
        let ok = try await s.waitForRun("quiet", outcome: "ok")
        _ = try await s.stopCleanly(runner)
        let id = try #require(int(failed["id"]))

        let logs = try await s.succeed(["logs", "\(id)"])
        #expect(logs.stdout == "first\nsecond\n", "\(logs)")
        let json = try await s.jsonObject(["logs", "\(id)", "--json"])
        #expect(json["output"] as? String == "first\nsecond\n")
        #expect(int(json["exitCode"]) == 3)

        let quiet = try await s.succeed(["logs", "\(try #require(int(ok["id"])))"])
        #expect(quiet.stdout.isEmpty && quiet.stderr.contains("no output"), "\(quiet)")

        expectOneLineError(try await s.jobctl(["logs", "987654"]), status: 1, mentioning: "987654")
        expectOneLineError(try await s.jobctl(["logs", "abc"]), status: 64, mentioning: "abc")
        expectOneLineError(try await s.jobctl(["logs", "-3"]), status: 64)

        let show = try await s.succeed(["show", "out"])
        #expect(show.stdout.contains("last output (run \(id)"), "\(show)")
        #expect(show.stdout.contains("  first\n  second\n"), "\(show)")

        // list --state failing keeps the job whose last run failed, and only it.
        let failing = try await s.jsonArray(["list", "--state", "failing", "--json"])
        #expect(failing.map { $0["name"] as? String } == ["out"])
        let done = try await s.jsonArray(["list", "--state", "done", "--json"])
        #expect(Set(done.compactMap { $0["name"] as? String }) == ["out", "quiet"])

        // --since: a duration ago, today's local date, a future date.
        #expect(try await s.jsonArray(["history", "--since", "1h", "--json"]).count == 2)
        // The local date and minute the failed run started in (jobctl gets this process's TZ).
        var seconds = time_t(try #require(rfc3339Micros(failed["startedAt"])) / 1_000_000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        let day = String(
            format: "%04d-%02d-%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        let minute = day + String(format: " %02d:%02d", Int(parts.tm_hour), Int(parts.tm_min))
        let sinceDay = try await s.jsonArray(["history", "--since", day, "--json"])
        #expect(sinceDay.contains { int($0["id"]) == id })
        let sinceMinute = try await s.jsonArray(["history", "--since", minute, "--json"])
        #expect(sinceMinute.contains { int($0["id"]) == id })
        #expect(try await s.jsonArray(["history", "--since", "2999-01-01 00:00", "--json"]).isEmpty)
        expectOneLineError(
            try await s.jobctl(["history", "--since", "2026-02-30"]), status: 64, mentioning: "2026-02-30")
    }

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
        let gate = try HeldCommand(s, name: "slow")
        try await s.succeed(["add", "slow", "--in", "0s", "--"] + gate.command)
        try await s.succeed(["add", "tick", "--every", "1h", "--handler", "tick"])
        let runner = try await s.startRunner()
        try await gate.waitUntilStarted(s)

        let follower = try s.launchJobctl(["history", "--follow"])
        try await waitUntil("the follower printed its header") {
            if follower.hasExited { throw HarnessError("the follower exited:\n\(follower.result())") }
            return follower.stdout.hasPrefix("RUN ")
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
            Set(printedIDs(follower.stdout)) == Set(expected)
        }
        let result = try await s.stopCleanly(follower, signal: SIGINT)
        let printed = printedIDs(result.stdout)
        #expect(printed.count == Set(printed).count, "a run was printed twice:\n\(result.stdout)")
        #expect(Set(printed) == Set(expected))

        // With --json: the backlog, then new runs, one object a line; SIGTERM ends it.
        let json = try s.launchJobctl(["history", "--follow", "--json", "--limit", "2"])
        try await waitUntil("the JSON follower printed its backlog") {
            json.stdout.split(separator: "\n").count == 2
        }
        try await s.succeed(["trigger", "tick"])
        try await waitUntil("the JSON follower printed the new run") {
            json.stdout.split(separator: "\n").count == 3
        }
        let jsonResult = try await s.stopCleanly(json, signal: SIGTERM)
        let lines = jsonResult.stdout.split(separator: "\n")
        for line in lines {
            let run = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            expectKeys(run, JSONFields.run, in: "a followed run")
        }
        _ = try await s.stopCleanly(runner)
    }

    @Test("next: firing times in local time and UTC, across DST changes, for a schedule or a job")
    func next() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        var berlin = s.environment
        berlin["TZ"] = "Europe/Berlin"
        let spring = try await s.jobctl(
            ["next", "--cron", "30 2 * * *", "--tz", "Europe/Berlin", "--count", "3", "--now", "2026-03-27T12:00:00Z"],
            db: .omitted, environment: berlin)
        #expect(spring.status == 0, "\(spring)")
        for line in [
            "Next elapse: Sat 2026-03-28 02:30:00 CET", "(in UTC): Sat 2026-03-28 01:30:00 UTC",
            "Iter. #2: Sun 2026-03-29 03:00:00 CEST", "(in UTC): Sun 2026-03-29 01:00:00 UTC",
            "Iter. #3: Mon 2026-03-30 02:30:00 CEST", "(in UTC): Mon 2026-03-30 00:30:00 UTC",
        ] {
            #expect(spring.stdout.contains(line), "missing \(line):\n\(spring)")
        }
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath), "next --cron opened a database")

        var newYork = s.environment
        newYork["TZ"] = "America/New_York"
        let fall = try await s.jobctl(
            [
                "next", "--cron", "30 1 * * *", "--tz", "America/New_York", "--count", "3", "--now",
                "2026-10-31T12:00:00Z",
                "--json",
            ],
            db: .omitted, environment: newYork)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(fall.stdout.utf8)) as? [String: Any])
        let occurrences = try #require(document["occurrences"] as? [[String: String]])
        #expect(
            occurrences.map { $0["at"] } == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"])
        #expect(
            occurrences.map { $0["local"] } == [
                "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00",
            ])
        #expect(document["timeZone"] as? String == "America/New_York")

        // A stored job: its next run first, then its slots.
        try await s.succeed(["add", "rotate", "--cron", "0 3 * * *", "--tz", "Europe/Berlin", "--handler", "tick"])
        let job = try await s.show("rotate")
        let stored = try await s.jsonObject(["next", "rotate", "--json", "--count", "4"])
        let times = try #require(stored["occurrences"] as? [[String: String]]).compactMap { $0["at"] }
        #expect(times.count == 4)
        #expect(times.first == job["nextRunAt"] as? String)
        #expect(times == times.sorted() && Set(times).count == 4)

        expectOneLineError(try await s.jobctl(["next", "nope"]), status: 1, mentioning: "nope")
        for arguments in [
            ["next"], ["next", "--cron", "99 * * * *"], ["next", "--cron", "@daily", "--tz", "Mars/Olympus"],
            ["next", "--every", "0s"], ["next", "--every", "1m", "--count", "0"], ["next", "rotate", "--every", "1m"],
        ] {
            expectOneLineError(try await s.jobctl(arguments, db: .omitted), status: 64)
        }
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath), "a bad next opened a database")
    }
}
