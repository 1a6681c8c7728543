import Foundation
import TestSupport
import Testing

/// Every command of the built jobctl, run as a separate process against a temporary database, with
/// its `--json` output parsed and checked.
@Suite("jobctl commands end to end", .timeLimit(.minutes(2)))
struct EndToEndCommandTests {
    @Test("add with each kind of schedule; list --json shows them with every documented field")
    func addAndList() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let before = nowMicros()
        try await s.succeed(["add", "rate", "--every", "100ms", "--handler", "tick"])
        try await s.succeed(["add", "soon", "--every", "1h", "--delay", "0s", "--handler", "tick"])
        try await s.succeed(["add", "gentle", "--every", "5m", "--fixed-delay", "--handler", "tick"])
        try await s.succeed([
            "add", "rotate", "--cron", "0 3 * * *", "--tz", "Europe/Berlin", "--queue", "reports", "--", "echo",
            "rotated",
        ])
        try await s.succeed(["add", "later", "--in", "1h", "--handler", "tick"])
        try await s.succeed(["add", "newyear", "--at", "2030-01-01T00:00:00Z", "--handler", "tick"])
        try await s.succeed([
            "add", "policies", "--every", "30s", "--timeout", "10s", "--retries", "3", "--backoff", "2s", "--jitter",
            "1s", "--misfire", "skip", "--payload", #"{"olderThan":"30d"}"#, "--handler", "prune-history",
        ])
        let after = nowMicros()

        let list = try await s.jsonArray(["list", "--json"])
        #expect(list.count == 7)
        for job in list {
            let name = job["name"] as? String ?? "?"
            expectKeys(job, JSONFields.job, in: "list --json job \(name)")
            #expect(job["state"] as? String == "active", "\(name)")
            #expect(int(job["runCount"]) == 0, "\(name)")
            #expect(int(job["okCount"]) == 0, "\(name)")
            #expect(int(job["failedCount"]) == 0, "\(name)")
            #expect(isNull(job["lastOutcome"]), "\(name)")
            #expect(rfc3339Micros(job["nextRunAt"]) != nil, "\(name): nextRunAt \(job["nextRunAt"] ?? "nil")")
            #expect(job["schedule"] is String, "\(name)")
        }
        let jobs = Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as? String ?? "", $0) })
        #expect(Set(jobs.keys) == ["rate", "soon", "gentle", "rotate", "later", "newyear", "policies"])

        let rate = try #require(jobs["rate"])
        #expect(rate["schedule"] as? String == "every 100ms")
        #expect(rate["kind"] as? String == "handler")
        #expect(rate["queue"] as? String == "default")
        // The first run of a periodic job is one interval after it is added.
        let rateNext = try #require(rfc3339Micros(rate["nextRunAt"]))
        #expect(rateNext >= before + 100_000 && rateNext <= after + 100_000)

        let soon = try #require(jobs["soon"])
        let soonNext = try #require(rfc3339Micros(soon["nextRunAt"]))
        #expect(soonNext >= before && soonNext <= after, "--delay 0s: due at once")

        let gentle = try #require(jobs["gentle"])
        #expect((gentle["schedule"] as? String)?.contains("5m") == true)
        #expect(gentle["schedule"] as? String != "every 5m", "fixed delay should read differently from fixed rate")

        let rotate = try #require(jobs["rotate"])
        #expect(rotate["kind"] as? String == "command")
        #expect(rotate["queue"] as? String == "reports")
        #expect((rotate["schedule"] as? String)?.contains("0 3 * * *") == true)
        let rotateNext = try #require(rfc3339Micros(rotate["nextRunAt"]))
        var berlin = Calendar(identifier: .gregorian)
        berlin.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let local = berlin.dateComponents(
            [.hour, .minute, .second], from: Date(timeIntervalSince1970: Double(rotateNext) / 1e6))
        #expect(local.hour == 3 && local.minute == 0 && local.second == 0, "next 03:00 in Berlin: \(local)")
        #expect(rotateNext > before && rotateNext <= after + 25 * 3_600_000_000)

        let later = try #require(jobs["later"])
        let laterNext = try #require(rfc3339Micros(later["nextRunAt"]))
        #expect(laterNext >= before + 3_600_000_000 && laterNext <= after + 3_600_000_000)

        let newyear = try #require(jobs["newyear"])
        #expect(rfc3339Micros(newyear["nextRunAt"]) == 1_893_456_000_000_000)

        // --queue filters.
        let reports = try await s.jsonArray(["list", "--queue", "reports", "--json"])
        #expect(reports.map { $0["name"] as? String } == ["rotate"])

        // The human table names every job.
        let table = try await s.succeed(["list"])
        for name in jobs.keys { #expect(table.stdout.contains(name), "\(table)") }
    }

    @Test("show --json: one job in full, its payload and command, and recentRuns")
    func show() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let limit = 64 * 1024
        let payload = "\"" + String(repeating: "p", count: limit - 2) + "\""
        try await s.succeed(["add", "big", "--every", "1h", "--payload", payload, "--handler", "tick"])
        try await s.succeed(["add", "cmd", "--in", "1h", "--", "printf", "%s\n", "two words"])

        let big = try await s.show("big")
        expectKeys(big, JSONFields.job + ["recentRuns"], in: "show --json")
        #expect(big["name"] as? String == "big")
        #expect(big["payload"] as? String == payload, "a payload of exactly 64 KiB is kept whole")
        #expect((big["recentRuns"] as? [Any])?.isEmpty == true)

        let cmd = try await s.show("cmd")
        #expect(cmd["kind"] as? String == "command")
        #expect(cmd["command"] as? [String] == ["printf", "%s\n", "two words"])
        #expect(cmd["schedule"] as? String == "once, 1h after it was added")

        let human = try await s.succeed(["show", "cmd"])
        #expect(human.stdout.contains("cmd: called 0 times so far"), "\(human)")
    }

    @Test("pause, resume, stop, remove and trigger change the job as shown by show --json")
    func lifecycle() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "job", "--every", "1h", "--handler", "tick"])
        try await s.succeed(["add", "other", "--every", "1h", "--handler", "tick"])
        let next = try await s.show("job")["nextRunAt"] as? String

        try await s.succeed(["pause", "job"])
        #expect(try await s.show("job")["state"] as? String == "paused")
        #expect(try await s.show("other")["state"] as? String == "active", "only the named job changes")

        try await s.succeed(["resume", "job"])
        let resumed = try await s.show("job")
        #expect(resumed["state"] as? String == "active")
        #expect(resumed["nextRunAt"] as? String == next, "a paused job keeps its schedule")

        try await s.succeed(["trigger", "job"])
        let triggered = try await s.show("job")
        #expect(triggered["nextRunAt"] as? String == next, "trigger does not move the schedule")
        #expect(triggered["state"] as? String == "active")

        let stopped = try await s.succeed(["stop", "job"])
        #expect(stopped.stdout.contains("job"))
        #expect(try await s.show("job")["state"] as? String == "stopped")

        try await s.succeed(["resume", "job"])
        let restarted = try await s.show("job")
        #expect(restarted["state"] as? String == "active")
        #expect(rfc3339Micros(restarted["nextRunAt"]) != nil, "a resumed stopped job is rescheduled")

        try await s.succeed(["remove", "job"])
        let jobs = try await s.jobs()
        #expect(jobs["job"] == nil)
        #expect(jobs["other"] != nil)
        expectOneLineError(try await s.jobctl(["show", "job"]), status: 1, mentioning: "job")

        // The name is free again.
        try await s.succeed(["add", "job", "--in", "5m", "--handler", "tick"])
        #expect(try await s.show("job")["schedule"] as? String == "once, 5m after it was added")
    }

    @Test("add --replace redefines a job and keeps its state and counters")
    func replace() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "job", "--every", "1h", "--handler", "tick"])
        try await s.succeed(["pause", "job"])
        try await s.succeed(["add", "job", "--every", "2h", "--queue", "other", "--replace", "--handler", "tick"])
        let job = try await s.show("job")
        #expect(job["schedule"] as? String == "every 2h")
        #expect(job["queue"] as? String == "other")
        #expect(job["state"] as? String == "paused")
        #expect(int(job["runCount"]) == 0)
        #expect(try await s.jobs().count == 1)
    }

    @Test("status --json and the human status on a database with no runs")
    func statusWithoutRuns() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "a", "--every", "1h", "--handler", "tick"])
        try await s.succeed(["add", "b", "--every", "1h", "--delay", "0s", "--handler", "tick"])
        try await s.succeed(["add", "c", "--every", "1h", "--handler", "tick"])
        try await s.succeed(["pause", "c"])

        let status = try await s.status()
        expectKeys(status, JSONFields.status, in: "status --json")
        let jobs = try #require(status["jobs"] as? [String: Any])
        #expect(int(jobs["active"]) == 2)
        #expect(int(jobs["paused"]) == 1)
        #expect(int(jobs["stopped"]) == 0)
        #expect(int(jobs["done"]) == 0)
        let runs = try #require(status["runs"] as? [String: Any])
        #expect(int(runs["total"]) == 0)
        #expect((status["runners"] as? [Any])?.isEmpty == true)
        #expect(int(status["inFlight"]) == 0)
        #expect(int(status["due"]) == 1, "b is due at once and nothing runs it")
        let perJob = try #require(status["perJob"] as? [[String: Any]])
        #expect(Set(perJob.compactMap { $0["name"] as? String }) == ["a", "b", "c"])
        for entry in perJob {
            expectKeys(entry, ["name", "runCount"], in: "status perJob")
            #expect(int(entry["runCount"]) == 0)
        }

        let human = try await s.succeed(["status"])
        for name in ["a", "b", "c"] {
            #expect(human.stdout.contains("\(name): called 0 times so far"), "\(human)")
        }
    }

    @Test("history --json is an empty array on a new database; drain --json without runners")
    func emptyHistoryAndDrain() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "a", "--every", "1h", "--handler", "tick"])
        #expect(try await s.history().isEmpty)
        #expect(try await s.history("a").isEmpty)
        #expect(try await s.jsonArray(["history", "--since", "2020-01-01T00:00:00Z", "--json"]).isEmpty)

        let drain = try await s.jsonObject(["drain", "--timeout", "10s", "--json"])
        expectKeys(drain, JSONFields.drain, in: "drain --json")
        #expect((drain["runners"] as? [Any])?.isEmpty == true)
        #expect(int(drain["finished"]) == 0)
        #expect(int(drain["interrupted"]) == 0)

        let pruned = try await s.succeed(["prune", "--older-than", "0s"])
        #expect(pruned.stdout.contains("0"), "\(pruned)")
        #expect(pruned.stdout.contains("returned to the file system"), "\(pruned)")
    }

    @Test("queue set-concurrency, pause, resume and list --json")
    func queues() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "a", "--every", "1h", "--queue", "reports", "--handler", "tick"])
        try await s.succeed(["add", "b", "--every", "1h", "--handler", "tick"])

        try await s.succeed(["queue", "set-concurrency", "reports", "2"])
        try await s.succeed(["queue", "pause", "reports"])
        var queues = try await queueList(s)
        let reports = try #require(queues["reports"], "queues: \(queues.keys.sorted())")
        #expect(int(reports["concurrency"]) == 2)
        #expect(reports["paused"] as? Bool == true)
        if let other = queues["default"] {
            #expect(other["paused"] as? Bool == false, "only the named queue is paused")
        }

        try await s.succeed(["queue", "resume", "reports"])
        queues = try await queueList(s)
        #expect(queues["reports"]?["paused"] as? Bool == false)
        #expect(int(queues["reports"]?["concurrency"]) == 2, "resume keeps the limit")

        try await s.succeed(["queue", "set-concurrency", "reports", "7"])
        #expect(int(try await queueList(s)["reports"]?["concurrency"]) == 7)

        let table = try await s.succeed(["queue", "list"])
        #expect(table.stdout.contains("reports"))
    }

    func queueList(_ s: Sandbox) async throws -> [String: [String: Any]] {
        var byName: [String: [String: Any]] = [:]
        for queue in try await s.jsonArray(["queue", "list", "--json"]) {
            expectKeys(queue, ["name", "concurrency", "paused"], in: "queue list --json")
            if let name = queue["name"] as? String { byName[name] = queue }
        }
        return byName
    }

    @Test("--db, else JOBCTL_DB, else the default under XDG_STATE_HOME; a new database file has mode 0600")
    func databaseLocation() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        // --db
        try await s.succeed(["add", "a", "--every", "1h", "--handler", "tick"])
        let mode = try FileManager.default.attributesOfItem(atPath: s.db)[.posixPermissions] as? Int
        #expect(mode == 0o600, "mode \(String(mode ?? 0, radix: 8))")
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath))

        // JOBCTL_DB
        let fromEnvironment = s.root + "/env.sqlite"
        var environment = s.environment
        environment["JOBCTL_DB"] = fromEnvironment
        let added = try await s.jobctl(
            ["add", "b", "--every", "1h", "--handler", "tick"], db: .omitted, environment: environment)
        #expect(added.status == 0, "\(added)")
        #expect(try await s.jobs(db: .path(fromEnvironment)).keys.sorted() == ["b"])
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath))

        // --db wins over JOBCTL_DB.
        let both = try await s.jobctl(["add", "c", "--every", "1h", "--handler", "tick"], environment: environment)
        #expect(both.status == 0, "\(both)")
        #expect(try await s.jobs().keys.sorted() == ["a", "c"])

        // The default (inside the sandbox: HOME and XDG_STATE_HOME point there).
        let defaulted = try await s.jobctl(["add", "d", "--every", "1h", "--handler", "tick"], db: .omitted)
        #expect(defaulted.status == 0, "\(defaulted)")
        #expect(try await s.jobs(db: .path(s.defaultDatabasePath)).keys.sorted() == ["d"])
    }

    @Test("`--db` given before the subcommand either works or is a usage error; never the default database")
    func databaseBeforeSubcommand() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try await s.jobctl(["--db", s.db, "add", "a", "--every", "1h", "--handler", "tick"], db: .omitted)
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath), "went to the default database")
        if result.status == 0 {
            #expect(try await s.jobs().keys.sorted() == ["a"])
        } else {
            expectOneLineError(result, status: 64, mentioning: "--db")
            #expect(!FileManager.default.fileExists(atPath: s.db))
        }
    }
}

/// `--version` and `--help` everywhere.
@Suite("jobctl help and version", .timeLimit(.minutes(2)))
struct HelpTests {
    @Test("--version prints the version on stdout and exits 0")
    func version() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try await s.jobctl(["--version"], db: .omitted)
        #expect(result.exitedNormally && result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        #expect(result.stdout.split(separator: "\n").count == 1, "\(result)")
        #expect(result.stdout.contains { $0.isNumber }, "\(result)")
    }

    @Test("--help prints the commands on stdout and exits 0")
    func help() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try await s.jobctl(["--help"], db: .omitted)
        #expect(result.exitedNormally && result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        for command in [
            "add", "list", "show", "stop", "pause", "resume", "remove", "trigger", "status", "history",
            "prune", "run", "drain", "queue",
        ] {
            #expect(result.stdout.contains(command), "--help does not mention \(command)")
        }
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath), "--help opened a database")
    }

    @Test(
        "every command's --help exits 0 with an example on stdout",
        arguments: [
            "add", "list", "show", "stop", "pause", "resume", "remove", "trigger", "status", "history", "prune", "run",
            "drain", "queue", "demo", "next", "logs",
        ])
    func commandHelp(command: String) async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try await s.jobctl([command, "--help"], db: .omitted)
        #expect(result.exitedNormally && result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        #expect(result.stdout.contains("jobctl \(command)"), "\(result)")
        #expect(result.stdout.lowercased().contains("example"), "no example in \(command) --help:\n\(result)")
        if command == "add" {
            for flag in ["--every", "--cron", "--in", "--at", "--handler", "--payload", "--replace", "--db"] {
                #expect(result.stdout.contains(flag), "add --help does not mention \(flag)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath), "--help opened a database")
    }
}
