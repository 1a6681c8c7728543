import ArgumentParser
import Foundation
import JobRunner
import Testing

@testable import jobctl

/// Argument parsing, in process: what each command line turns into, and which ones are usage errors.
@Suite("jobctl argument parsing", .timeLimit(.minutes(2)))
struct ParsingTests: CommandLineParsing {
    @Test("add --every builds a fixed-rate schedule with the defaults")
    func addEvery() throws {
        let add = try parse(["add", "heartbeat", "--every", "100ms", "--handler", "tick"], as: Add.self)
        #expect(add.name == "heartbeat")
        #expect(add.global.db == nil)
        let definition = try add.definition(now: 0)
        #expect(definition.name == "heartbeat")
        #expect(definition.queue == "default")
        #expect(definition.schedule == .every(.milliseconds(100), fixedDelay: false))
        #expect(definition.schedule.description == "every 100ms")
        #expect(definition.action == .handler("tick"))
        #expect(definition.payload == nil)
        #expect(definition.initialDelay == nil)
        #expect(definition.timeout == nil)
        #expect(definition.retry.maxRetries == 0)
        #expect(definition.misfire == .coalesce)
    }

    @Test("add takes every policy flag")
    func addWithPolicies() throws {
        let add = try parse(
            [
                "add", "report", "--every", "1h30m", "--fixed-delay", "--delay", "0s", "--queue", "reports",
                "--timeout", "10m", "--retries", "5", "--backoff", "2s", "--jitter", "250ms", "--misfire",
                "catch-up", "--payload", #"{"a":[1,2]}"#, "--replace", "--db", "/tmp/x.sqlite", "--handler", "tick",
            ],
            as: Add.self)
        #expect(add.global.db == "/tmp/x.sqlite")
        #expect(add.replace)
        let definition = try add.definition(now: 0)
        #expect(definition.schedule == .every(.seconds(5400), fixedDelay: true))
        #expect(definition.initialDelay == .zero)
        #expect(definition.queue == "reports")
        #expect(definition.timeout == .seconds(600))
        #expect(definition.retry == RetryPolicy(maxRetries: 5, backoff: .seconds(2)))
        #expect(definition.jitter == .milliseconds(250))
        #expect(definition.misfire == .catchUp)
        #expect(definition.payload == #"{"a":[1,2]}"#)
    }

    @Test("add -- takes the command verbatim, flags and all, without a shell")
    func addCommand() throws {
        let add = try parse(
            [
                "add", "rotate", "--cron", "0 3 * * *", "--tz", "Europe/Berlin", "--", "logrotate", "-f", "--verbose",
                "a b",
            ],
            as: Add.self)
        let definition = try add.definition(now: 0)
        guard case .command(let argv, let directory) = definition.action else {
            Issue.record("expected a command action, got \(definition.action)")
            return
        }
        #expect(argv == ["logrotate", "-f", "--verbose", "a b"])
        #expect(directory?.hasPrefix("/") == true)
        #expect(definition.schedule.description.contains("0 3 * * *"))
        #expect(definition.schedule.description.contains("Europe/Berlin"))
    }

    @Test("add --in and --at are one-shot schedules")
    func addOnce() throws {
        let later = try parse(["add", "once", "--in", "30s", "--handler", "tick"], as: Add.self)
        #expect(try later.definition(now: 0).schedule == .after(.seconds(30)))
        let at = try parse(["add", "once", "--at", "2030-01-01T00:00:00Z", "--handler", "tick"], as: Add.self)
        #expect(try at.definition(now: 0).schedule == .at(1_893_456_000_000_000))
    }

    @Test(
        "add refuses bad input as a usage error naming it",
        arguments: [
            (["add", "x", "--every", "banana", "--handler", "tick"], "banana"),
            (["add", "x", "--every=-5s", "--handler", "tick"], "-5s"),
            (["add", "x", "--every", "0s", "--handler", "tick"], "0s"),
            (["add", "x", "--cron", "61 * * * *", "--handler", "tick"], "61"),
            (["add", "x", "--cron", "0 0 30 2 *", "--handler", "tick"], "cron"),
            (["add", "x", "--cron", "0 0 * * *", "--tz", "Mars/Olympus", "--handler", "tick"], "Mars/Olympus"),
            (["add", "x", "--every", "1s", "--in", "5s", "--handler", "tick"], "--in"),
            (["add", "x", "--handler", "tick"], "schedule"),
            (["add", "x", "--every", "1s"], "--handler"),
            (["add", "x", "--every", "1s", "--handler", "tick", "--", "echo"], "--handler"),
            (["add", "x", "--every", "1s", "--payload", "{bad", "--handler", "tick"], "payload"),
            (["add", "x", "--in", "1s", "--fixed-delay", "--handler", "tick"], "--fixed-delay"),
            (["add", "x", "--every", "1s", "--tz", "UTC", "--handler", "tick"], "--tz"),
            (["add", "x", "--every", "1s", "--misfire", "sometimes", "--handler", "tick"], "sometimes"),
            (["add", "x", "--every", "1s", "--retries", "-1", "--handler", "tick"], "--retries"),
            (["add", "x", "--at", "tomorrow", "--handler", "tick"], "tomorrow"),
            (["add", "-x", "--every", "1s", "--handler", "tick"], "name"),
            (["add", "x", "--every", "1s", "--timeout", "0s", "--handler", "tick"], "timeout"),
            (["add", "x", "--every", "1s", "--busy-timeout", "soon", "--handler", "tick"], "soon"),
        ] as [([String], String)])
    func addRefuses(arguments: [String], mentioning: String) {
        expectUsageError(arguments, mentioning: mentioning)
    }

    @Test("a payload over 64 KiB is refused, one of exactly 64 KiB is accepted")
    func payloadLimit() throws {
        let limit = 64 * 1024
        let atLimit = "\"" + String(repeating: "a", count: limit - 2) + "\""
        let add = try parse(["add", "x", "--every", "1s", "--payload", atLimit, "--handler", "tick"], as: Add.self)
        #expect(try add.definition(now: 0).payload?.utf8.count == limit)
        let over = "\"" + String(repeating: "a", count: limit - 1) + "\""
        expectUsageError(["add", "x", "--every", "1s", "--payload", over, "--handler", "tick"], mentioning: "payload")
    }

    @Test("listing commands take --json and their filters")
    func listings() throws {
        let list = try parse(["list", "--queue", "reports", "--json"], as: List.self)
        #expect(list.queue == "reports")
        #expect(list.json)
        let show = try parse(["show", "rotate", "--json"], as: Show.self)
        #expect(show.name == "rotate")
        #expect(show.json)
        let status = try parse(["status", "--json"], as: Status.self)
        #expect(status.json)
        let history = try parse(
            ["history", "rotate", "--since", "2026-11-25T00:00:00Z", "--status", "failed", "--limit", "20", "--json"],
            as: History.self)
        #expect(history.name == "rotate")
        #expect(history.status == "failed")
        #expect(history.limit == 20)
        #expect(history.json)
        let all = try parse(["history"], as: History.self)
        #expect(all.name == nil)
        #expect(!all.json)
    }

    @Test("history refuses an unknown outcome, a bad instant and a negative limit")
    func historyRefuses() {
        expectUsageError(["history", "--status", "great"], mentioning: "great")
        expectUsageError(["history", "--since", "yesterday"], mentioning: "yesterday")
        expectUsageError(["history", "--limit", "-1"], mentioning: "--limit")
    }

    @Test("job commands take one name")
    func jobCommands() throws {
        #expect(try parse(["pause", "a"], as: Pause.self).name == "a")
        #expect(try parse(["resume", "a"], as: Resume.self).name == "a")
        #expect(try parse(["remove", "a"], as: Remove.self).name == "a")
        #expect(try parse(["trigger", "a"], as: Trigger.self).name == "a")
        let stop = try parse(["stop", "a", "--wait", "--timeout", "1m"], as: Stop.self)
        #expect(stop.name == "a")
        #expect(stop.wait)
        #expect(!(try parse(["stop", "a"], as: Stop.self).wait))
        expectUsageError(["pause"], mentioning: "name")
        expectUsageError(["stop", "a", "--wait", "--timeout", "forever"], mentioning: "forever")
    }

    @Test("run takes repeated queues, a concurrency and a grace period")
    func run() throws {
        let run = try parse(
            ["run", "--queue", "a", "--queue", "b", "--concurrency", "8", "--grace", "10s"], as: Run.self)
        #expect(run.queues == ["a", "b"])
        #expect(run.concurrency == 8)
        #expect(run.grace == "10s")
        let defaults = try parse(["run"], as: Run.self)
        #expect(defaults.queues.isEmpty)
        expectUsageError(["run", "--concurrency", "0"], mentioning: "--concurrency")
        expectUsageError(["run", "--grace", "banana"], mentioning: "banana")
    }

    @Test("run keeps 30 days and 10,000 runs per job by default; --keep-history, --keep-runs change or switch it off")
    func runHistoryRetention() throws {
        let standard = try parse(["run"], as: Run.self).historyRetention()
        #expect(standard == HistoryRetention(maxAge: .seconds(30 * 86_400), maxRunsPerJob: 10_000))
        #expect(try parse(["run", "--keep-history", "off"], as: Run.self).historyRetention() == nil)
        #expect(
            try parse(["run", "--keep-history", "off", "--keep-runs", "off"], as: Run.self).historyRetention() == nil)
        #expect(
            try parse(["run", "--keep-history", "7d", "--keep-runs", "500"], as: Run.self).historyRetention()
                == HistoryRetention(maxAge: .seconds(7 * 86_400), maxRunsPerJob: 500))
        #expect(
            try parse(["run", "--keep-history", "off", "--keep-runs", "500"], as: Run.self).historyRetention()
                == HistoryRetention(maxAge: nil, maxRunsPerJob: 500))
        #expect(
            try parse(["run", "--keep-runs", "off"], as: Run.self).historyRetention()
                == HistoryRetention(maxAge: .seconds(30 * 86_400), maxRunsPerJob: nil))
        expectUsageError(["run", "--keep-history", "forever"], mentioning: "--keep-history")
        expectUsageError(["run", "--keep-history", "0s"], mentioning: "--keep-history")
        expectUsageError(["run", "--keep-runs", "0"], mentioning: "--keep-runs")
        expectUsageError(["run", "--keep-runs", "many"], mentioning: "--keep-runs")
    }

    @Test("run's lease is 10s and its heartbeat 2s by default; a lease must span 3 heartbeats")
    func runLease() throws {
        let defaults = try parse(["run"], as: Run.self).leaseAndHeartbeat()
        #expect(defaults.lease == .seconds(10))
        #expect(defaults.heartbeat == .seconds(2))
        let short = try parse(["run", "--lease", "3s", "--heartbeat", "500ms"], as: Run.self).leaseAndHeartbeat()
        #expect(short.lease == .seconds(3))
        #expect(short.heartbeat == .milliseconds(500))
        expectUsageError(["run", "--lease", "1s", "--heartbeat", "500ms"], mentioning: "3 heartbeats")
        expectUsageError(["run", "--lease", "5s"], mentioning: "--lease")
        expectUsageError(["run", "--lease", "0s"], mentioning: "--lease")
        expectUsageError(["run", "--heartbeat", "5ms"], mentioning: "--heartbeat")
        expectUsageError(["run", "--heartbeat", "soon"], mentioning: "--heartbeat")
    }

    @Test("run --claim-lead: the store's default unless given; at most 1s and an eighth of the lease")
    func runClaimLead() throws {
        #expect(try parse(["run"], as: Run.self).claimLeadDuration() == nil)
        #expect(try parse(["run", "--claim-lead", "50ms"], as: Run.self).claimLeadDuration() == .milliseconds(50))
        #expect(try parse(["run", "--claim-lead", "0s"], as: Run.self).claimLeadDuration() == .zero)
        #expect(
            try parse(["run", "--claim-lead", "1s", "--lease", "8s"], as: Run.self).claimLeadDuration() == .seconds(1))
        expectUsageError(["run", "--claim-lead", "2s", "--lease", "60s"], mentioning: "at most 1s")
        expectUsageError(["run", "--claim-lead", "1s", "--lease", "6s"], mentioning: "an eighth of --lease")
        expectUsageError(["run", "--claim-lead", "soon"], mentioning: "--claim-lead")
        expectUsageError(["run", "--claim-lead", "-5ms"], mentioning: "--claim-lead")
    }

    @Test("bench --claim-lead: the runners' own default unless given; at most 1s")
    func benchClaimLead() throws {
        #expect(try parse(["bench"], as: Bench.self).claimLeadDuration() == nil)
        #expect(
            try parse(["bench", "--claim-lead", "500ms"], as: Bench.self).claimLeadDuration() == .milliseconds(500))
        expectUsageError(["bench", "--claim-lead", "2s"], mentioning: "at most 1s")
        expectUsageError(["bench", "--claim-lead", "soon"], mentioning: "--claim-lead")
    }

    @Test("run --on-failure is one string split into words without a shell; a bad one is a usage error")
    func runOnFailure() throws {
        // Without a command of its own, the runner still rate-limits jobs' own commands at --alert-interval.
        let plain = try parse(["run", "--alert-interval", "5m"], as: Run.self).failureAlerting()
        #expect(plain.command == nil && plain.hook == nil)
        #expect(plain.interval == .seconds(300))
        let alerting = try parse(
            ["run", "--on-failure", "page --team 'on call' \"a \\\"b\\\"\" c\\ d", "--alert-interval", "10m"],
            as: Run.self
        )
        .failureAlerting()
        #expect(alerting.command == ["page", "--team", "on call", "a \"b\"", "c d"])
        #expect(alerting.interval == .seconds(600))
        expectUsageError(["run", "--on-failure", "page 'unterminated"], mentioning: "--on-failure")
        expectUsageError(["run", "--on-failure", "   "], mentioning: "--on-failure")
        expectUsageError(["run", "--on-failure", "page", "--alert-interval", "often"], mentioning: "--alert-interval")
    }

    @Test("a command string splits as a shell would split it, with nothing expanded")
    func commandWords() throws {
        #expect(try CommandWords.split("a  b\tc") == ["a", "b", "c"])
        #expect(try CommandWords.split("'$HOME' \"$HOME\" \\$HOME") == ["$HOME", "$HOME", "$HOME"])
        #expect(try CommandWords.split("x'y'\"z\"") == ["xyz"])
        #expect(try CommandWords.split("'' \"\"") == ["", ""])
        #expect(try CommandWords.split("\"a\\nb\"") == ["a\\nb"])
        #expect(try CommandWords.split("; | && *") == [";", "|", "&&", "*"])
        #expect(throws: CommandWords.SplitError.self) { try CommandWords.split("\"open") }
        #expect(throws: CommandWords.SplitError.self) { try CommandWords.split("trailing\\") }
    }

    @Test("drain and prune take durations")
    func drainAndPrune() throws {
        let drain = try parse(["drain", "--timeout", "1m", "--json"], as: Drain.self)
        #expect(drain.timeout == "1m")
        #expect(drain.json)
        expectUsageError(["drain", "--timeout", "banana"], mentioning: "banana")
        _ = try parse(["prune", "--older-than", "30d"], as: Prune.self)
        expectUsageError(["prune", "--older-than", "old"], mentioning: "old")
        expectUsageError(["prune"], mentioning: "--older-than")
        #expect(
            [0, 1023, 1024, 30_093_312, 5 << 30].map(Prune.size) == ["0 B", "1023 B", "1.0 KiB", "28.7 MiB", "5.0 GiB"])
    }

    @Test("queue subcommands")
    func queue() throws {
        let set = try parse(["queue", "set-concurrency", "reports", "2"], as: Queue.SetConcurrency.self)
        #expect(set.name == "reports")
        #expect(set.concurrency == 2)
        #expect(try parse(["queue", "pause", "reports"], as: Queue.PauseQueue.self).name == "reports")
        #expect(try parse(["queue", "resume", "reports"], as: Queue.ResumeQueue.self).name == "reports")
        #expect(try parse(["queue", "list", "--json"], as: Queue.ListQueues.self).json)
        expectUsageError(["queue", "set-concurrency", "reports", "0"], mentioning: "concurrency")
        expectUsageError(["queue", "set-concurrency", "reports", "many"], mentioning: "many")
    }

    @Test("an unknown command or flag is a usage error")
    func unknown() {
        expectUsageError(["frobnicate"], mentioning: "frobnicate")
        expectUsageError(["list", "--colour"], mentioning: "--colour")
    }
}
