import Foundation
import JobRunner
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `jobctl run` as a separate process, fed by `jobctl add` from other processes, stopped by
/// `jobctl drain` from a third process or by signals.
@Suite("jobctl run, drain and signals end to end", .timeLimit(.minutes(2)))
struct EndToEndRunnerTests {
    /// Starts `jobctl run` and waits until `status --json` shows it alive.
    func startRunner(_ s: Sandbox, _ options: [String] = []) async throws -> (ChildProcess, runnerID: Int) {
        // Create the database first. (Opening a database while a runner is still creating it can fail
        // with "database is locked" while switching the journal to WAL, after the whole busy timeout: a race
        // reported separately, kept out of these tests so that they test what they name.)
        if !FileManager.default.fileExists(atPath: s.db) {
            _ = try await JobStore.open(path: s.db)
        }
        let runner = try s.launchJobctl(["run"] + options)
        var id: Int?
        try await waitUntil("the runner (pid \(runner.pid)) is registered") {
            if runner.hasExited { throw HarnessError("the runner exited early:\n\(runner.result())") }
            let runners = try await s.status()["runners"] as? [[String: Any]] ?? []
            guard let mine = runners.first(where: { int($0["pid"]) == Int(runner.pid) }) else { return false }
            id = int(mine["id"])
            return mine["state"] as? String == "running"
        }
        return (runner, try #require(id))
    }

    /// Waits until `name` has at least `count` finished runs with outcome `outcome`.
    func waitForRuns(_ s: Sandbox, _ name: String, outcome: String = "ok", count: Int = 1) async throws {
        try await waitUntil("\(name) has \(count) \(outcome) run(s)") {
            try await s.history(name, status: outcome).count >= count
        }
    }

    /// Waits until `name` has a run in flight, and returns it.
    func waitForRunInFlight(_ s: Sandbox, _ name: String) async throws -> [String: Any] {
        var found: [String: Any]?
        try await waitUntil("\(name) has a run in flight") {
            found = try await s.history(name, status: "running").first
            return found != nil
        }
        return try #require(found)
    }

    /// Adds a one-shot command that writes its pid and sleeps, waits until it runs, and returns its pid
    /// (adopted by the sandbox, so that it is killed at clean-up whatever happens).
    func startLongCommand(_ s: Sandbox, _ name: String, seconds: Int) async throws -> pid_t {
        let pidFile = s.root + "/\(name).pid"
        try await s.succeed([
            "add", name, "--in", "0s", "--", "sh", "-c", "echo $$ > \(pidFile); exec sleep \(seconds)",
        ])
        _ = try await waitForRunInFlight(s, name)
        try await waitUntil("the command wrote its pid") {
            ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").hasSuffix("\n")
        }
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        s.adoptStray(pid)
        return pid
    }

    /// Waits for the runner process to exit on its own.
    func waitForExit(_ runner: ChildProcess, within timeout: Duration = .seconds(60)) async throws
        -> ProcessResult
    {
        guard await runner.waitForExit(timeout: timeout) else {
            runner.killAndReap()
            throw HarnessError("the runner did not exit within \(timeout):\n\(runner.result())")
        }
        return runner.result()
    }

    /// Once no runner is alive: every job's counters agree with its history, nothing is left running,
    /// and status agrees with both.
    func expectCountersMatchHistory(_ s: Sandbox, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let jobs = try await s.jobs()
        let all = try await s.history()
        #expect(
            !all.contains { $0["outcome"] as? String == "running" }, "a run was left running",
            sourceLocation: sourceLocation)
        #expect(try await s.history(status: "running").isEmpty, sourceLocation: sourceLocation)
        for (name, job) in jobs {
            let runs = try await s.history(name)
            func count(_ outcomes: Set<String>) -> Int {
                runs.filter { outcomes.contains($0["outcome"] as? String ?? "") }.count
            }
            #expect(int(job["runCount"]) == runs.count, "\(name): runCount vs history", sourceLocation: sourceLocation)
            #expect(int(job["okCount"]) == count(["ok"]), "\(name): okCount", sourceLocation: sourceLocation)
            #expect(
                int(job["failedCount"]) == count(["failed", "timeout"]), "\(name): failedCount",
                sourceLocation: sourceLocation)
            if let newest = runs.first {
                #expect(
                    job["lastOutcome"] as? String == newest["outcome"] as? String, "\(name): lastOutcome",
                    sourceLocation: sourceLocation)
            } else {
                #expect(isNull(job["lastOutcome"]), "\(name): lastOutcome", sourceLocation: sourceLocation)
            }
            #expect(job["running"] as? Bool != true, "\(name) still marked running", sourceLocation: sourceLocation)
        }
        let status = try await s.status()
        #expect(
            (status["runners"] as? [Any])?.isEmpty == true, "a runner is still alive", sourceLocation: sourceLocation)
        #expect(int(status["inFlight"]) == 0, sourceLocation: sourceLocation)
        let runs = status["runs"] as? [String: Any] ?? [:]
        #expect(int(runs["total"]) == all.count, "status runs.total vs history", sourceLocation: sourceLocation)
        for outcome in ["ok", "failed", "interrupted"] {
            let rows = all.filter { $0["outcome"] as? String == outcome }.count
            #expect(int(runs[outcome]) ?? 0 == rows, "status runs.\(outcome)", sourceLocation: sourceLocation)
        }
        for entry in status["perJob"] as? [[String: Any]] ?? [] {
            let name = entry["name"] as? String ?? "?"
            #expect(
                int(entry["runCount"]) == int(jobs[name]?["runCount"]), "perJob \(name)",
                sourceLocation: sourceLocation)
        }
    }

    func expectRunFields(_ run: [String: Any], job: String, sourceLocation: SourceLocation = #_sourceLocation) {
        expectKeys(run, JSONFields.run, in: "run of \(job)", sourceLocation: sourceLocation)
        #expect(run["job"] as? String == job, sourceLocation: sourceLocation)
        #expect(int(run["id"]) != nil, sourceLocation: sourceLocation)
        #expect((int(run["attempt"]) ?? 0) >= 1, sourceLocation: sourceLocation)
        #expect(
            JSONFields.outcomes.contains(run["outcome"] as? String ?? ""), "outcome \(run["outcome"] ?? "nil")",
            sourceLocation: sourceLocation)
        let scheduled = rfc3339Micros(run["scheduledFor"])
        let started = rfc3339Micros(run["startedAt"])
        #expect(scheduled != nil && started != nil, "times: \(run)", sourceLocation: sourceLocation)
        if run["outcome"] as? String == "running" {
            #expect(isNull(run["finishedAt"]), sourceLocation: sourceLocation)
        } else {
            if let finished = rfc3339Micros(run["finishedAt"]), let started {
                #expect(finished >= started, "finishedAt: \(run)", sourceLocation: sourceLocation)
            } else {
                Issue.record("a finished run without finishedAt: \(run)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("a runner picks up jobs added by other processes; drain from a third process; counters match history")
    func pickUpAndDrain() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, runnerID) = try await startRunner(s, ["--concurrency", "2", "--grace", "20s"])

        let status = try await s.status()
        let runners = try #require(status["runners"] as? [[String: Any]])
        #expect(runners.count == 1)
        if let entry = runners.first {
            expectKeys(entry, JSONFields.runner, in: "status runner")
            #expect(int(entry["pid"]) == Int(runner.pid))
            #expect((entry["host"] as? String)?.isEmpty == false)
            #expect(entry["state"] as? String == "running")
            #expect(rfc3339Micros(entry["startedAt"]) != nil)
            #expect(rfc3339Micros(entry["heartbeatAt"]) != nil)
        }

        try await s.succeed(["add", "ticker", "--every", "100ms", "--delay", "0s", "--handler", "tick"])
        try await s.succeed([
            "add", "echoer", "--every", "250ms", "--delay", "0s", "--", "sh", "-c", "echo \"$JOB_NAME\"",
        ])
        try await s.succeed(["add", "failer", "--in", "0s", "--", "sh", "-c", "echo oops; exit 3"])
        try await s.succeed(["add", "oneshot", "--in", "0s", "--handler", "tick"])
        try await s.succeed(["add", "hourly", "--every", "1h", "--handler", "tick"])
        let hourlyNext = try await s.show("hourly")["nextRunAt"] as? String
        try await s.succeed(["trigger", "hourly"])

        try await waitForRuns(s, "ticker", count: 5)
        try await waitForRuns(s, "echoer", count: 2)
        try await waitForRuns(s, "failer", outcome: "failed")
        try await waitForRuns(s, "oneshot")
        try await waitForRuns(s, "hourly")

        // What the runs recorded.
        let echoes = try await s.history("echoer", status: "ok")
        for run in echoes {
            expectRunFields(run, job: "echoer")
            #expect(int(run["exitCode"]) == 0)
            #expect((run["output"] as? String)?.contains("echoer") == true, "JOB_NAME reaches the command: \(run)")
            #expect(int(run["runner"]) == runnerID)
        }
        let failure = try #require(try await s.history("failer").first)
        expectRunFields(failure, job: "failer")
        #expect(failure["outcome"] as? String == "failed")
        #expect(int(failure["exitCode"]) == 3)
        #expect((failure["output"] as? String)?.contains("oops") == true, "\(failure)")
        let oneshot = try await s.show("oneshot")
        #expect(oneshot["state"] as? String == "done")
        #expect(isNull(oneshot["nextRunAt"]))
        let hourly = try await s.show("hourly")
        #expect(hourly["nextRunAt"] as? String == hourlyNext, "trigger ran it without moving its schedule")

        // The ticker: never before its time, newest first.
        let ticks = try await s.history("ticker")
        var previousStart: Int64?
        var previousID: Int?
        for run in ticks {
            expectRunFields(run, job: "ticker")
            guard run["outcome"] as? String != "running",
                let scheduled = rfc3339Micros(run["scheduledFor"]), let started = rfc3339Micros(run["startedAt"]),
                let finished = rfc3339Micros(run["finishedAt"]), let id = int(run["id"])
            else { continue }
            #expect(started >= scheduled, "ran before its time: \(run)")
            #expect(finished >= started)
            if let previousStart, let previousID {
                #expect(id < previousID, "history is not newest first")
                #expect(started <= previousStart, "history of one job is not newest first")
            }
            previousStart = started
            previousID = id
        }

        // show --json carries the recent runs; status counts them.
        let ticker = try await s.show("ticker")
        let recent = try #require(ticker["recentRuns"] as? [[String: Any]])
        #expect(!recent.isEmpty)
        for run in recent { expectRunFields(run, job: "ticker") }
        #expect((int(ticker["runCount"]) ?? 0) >= 5)
        let live = try await s.status()
        let perJob = live["perJob"] as? [[String: Any]] ?? []
        #expect((int(perJob.first { $0["name"] as? String == "ticker" }?["runCount"]) ?? 0) >= 5)
        let human = try await s.succeed(["status"])
        #expect(human.stdout.range(of: #"ticker: called \d+ times so far"#, options: .regularExpression) != nil)

        // Drain from a third process.
        let drain = try await s.jobctl(["drain", "--timeout", "60s", "--json"])
        #expect(drain.exitedNormally && drain.status == 0, "\(drain)")
        let report = try JSONSerialization.jsonObject(with: Data(drain.stdout.utf8)) as? [String: Any] ?? [:]
        expectKeys(report, JSONFields.drain, in: "drain --json")
        let drained = report["runners"] as? [[String: Any]] ?? []
        #expect(drained.compactMap { int($0["id"]) } == [runnerID], "\(drain)")
        #expect((int(report["finished"]) ?? -1) >= 0)
        #expect(int(report["interrupted"]) == 0, "short runs finish within the grace period: \(drain)")

        let exited = try await waitForExit(runner)
        #expect(exited.exitedNormally, "the runner died by a signal: \(exited)")
        // (Its exit status is checked by `runnerExitsZeroAfterDrain`.)

        try await expectCountersMatchHistory(s)
        let jobs = try await s.jobs()
        for name in ["ticker", "echoer", "hourly"] {
            #expect(jobs[name]?["state"] as? String == "active")
            #expect(rfc3339Micros(jobs[name]?["nextRunAt"]) != nil, "\(name): the next run was not persisted")
        }
        // One log line per run on the runner's stderr.
        let tickLines = exited.stderr.split(separator: "\n").filter { $0.contains("ticker") }.count
        #expect(tickLines >= int(jobs["ticker"]?["runCount"]) ?? 0, "runner log:\n\(exited.stderr)")
        let tickCount = int(jobs["ticker"]?["runCount"]) ?? -1
        let finalStatus = try await s.succeed(["status"])
        #expect(finalStatus.stdout.contains("ticker: called \(tickCount) times so far"), "\(finalStatus)")

        // history: newest first across jobs, and its filters.
        let everything = try await s.history()
        let ids = everything.compactMap { int($0["id"]) }
        #expect(ids == ids.sorted(by: >), "history is not newest first")
        let tickerRuns = try await s.history("ticker")
        let limited = try await s.jsonArray(["history", "ticker", "--limit", "2", "--json"])
        #expect(limited.compactMap { int($0["id"]) } == tickerRuns.prefix(2).compactMap { int($0["id"]) })
        let failedOnly = try await s.jsonArray(["history", "--status", "failed", "--json"])
        #expect(failedOnly.map { $0["job"] as? String } == ["failer"])
        if tickerRuns.count >= 3, let since = tickerRuns[2]["startedAt"] as? String {
            let recent = try await s.jsonArray(["history", "ticker", "--since", since, "--limit", "100000", "--json"])
            #expect(
                recent.compactMap { int($0["id"]) } == tickerRuns.prefix(3).compactMap { int($0["id"]) },
                "--since \(since)")
        }
        #expect(try await s.jsonArray(["history", "--since", "2100-01-01T00:00:00Z", "--json"]).isEmpty)
        let table = try await s.succeed(["history", "ticker", "--limit", "3"])
        #expect(table.stdout.split(separator: "\n").filter { $0.contains("ticker") }.count == 3, "\(table)")

        // prune deletes history and keeps the counters.
        let total = try await s.history().count
        let young = try await s.succeed(["prune", "--older-than", "1h"])
        #expect(young.stdout.contains("0"), "\(young)")
        #expect(try await s.history().count == total)
        let pruned = try await s.succeed(["prune", "--older-than", "0s"])
        #expect(pruned.stdout.contains("\(total)"), "\(pruned)")
        #expect(try await s.history().isEmpty)
        let afterPrune = try await s.jobs()
        for (name, job) in jobs {
            #expect(int(afterPrune[name]?["runCount"]) == int(job["runCount"]), "\(name): counters kept")
            #expect(int(afterPrune[name]?["okCount"]) == int(job["okCount"]), "\(name): counters kept")
        }
        let runsAfterPrune = try await s.status()["runs"] as? [String: Any]
        #expect(int(runsAfterPrune?["total"]) == total, "status totals survive pruning")
    }

    @Test(
        "the runner started with `jobctl run` exits 0 after `jobctl drain` from another process")
    func runnerExitsZeroAfterDrain() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, _) = try await startRunner(s)
        try await s.succeed(["add", "ticker", "--every", "100ms", "--delay", "0s", "--handler", "tick"])
        try await waitForRuns(s, "ticker", count: 2)
        let drain = try await s.jobctl(["drain", "--timeout", "60s"])
        #expect(drain.status == 0, "\(drain)")
        let exited = try await waitForExit(runner)
        #expect(exited.exitedNormally && exited.status == 0, "\(exited)")
        #expect(!exited.stderr.contains("error"), "\(exited)")
    }

    @Test("jobctl drain waits for the command in flight, which finishes ok, and reports it")
    func drainWaitsForRunInFlight() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, _) = try await startRunner(s)
        let gate = try HeldCommand(s, name: "slow")
        try await s.succeed(["add", "slow", "--in", "0s", "--"] + gate.command)
        try await gate.waitUntilStarted(s)
        _ = try await waitForRunInFlight(s, "slow")

        let drain = try s.launchJobctl(["drain", "--timeout", "60s", "--json"])
        try await waitUntil("the runner is draining") {
            let runners = try await s.status()["runners"] as? [[String: Any]] ?? []
            return runners.first?["state"] as? String == "draining"
        }
        #expect(!drain.hasExited, "drain returned with a run in flight: \(drain.result())")
        #expect(!runner.hasExited, "the runner quit with a run in flight: \(runner.result())")
        try gate.release()

        guard await drain.waitForExit(timeout: .seconds(60)) else {
            Issue.record("jobctl drain did not return")
            return
        }
        let result = drain.result()
        #expect(result.exitedNormally && result.status == 0, "\(result)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        expectKeys(report, JSONFields.drain, in: "drain --json")
        #expect(int(report["finished"]) == 1, "\(result)")
        #expect(int(report["interrupted"]) == 0, "\(result)")
        _ = try await waitForExit(runner)
        let run = try #require(try await s.history("slow").first)
        #expect(run["outcome"] as? String == "ok", "\(run)")
        #expect(int(run["exitCode"]) == 0)
        try await expectCountersMatchHistory(s)
    }

    @Test("drain --timeout that passes first exits 3 with one line on stderr")
    func drainTimeout() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, runnerID) = try await startRunner(s, ["--grace", "60s"])
        let pidFile = s.root + "/sleep.pid"
        try await s.succeed(["add", "long", "--in", "0s", "--", "sh", "-c", "echo $$ > \(pidFile); exec sleep 30"])
        _ = try await waitForRunInFlight(s, "long")
        try await waitUntil("the command wrote its pid") {
            ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").hasSuffix("\n")
        }
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        s.adoptStray(try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))))

        let drain = try await s.jobctl(["drain", "--timeout", "300ms", "--json"])
        #expect(drain.exitedNormally && drain.status == 3, "\(drain)")
        #expect(drain.stderrLines.count == 1 && drain.stderr.hasPrefix("jobctl: error: "), "\(drain)")
        let report = try JSONSerialization.jsonObject(with: Data(drain.stdout.utf8)) as? [String: Any] ?? [:]
        expectKeys(report, JSONFields.drain, in: "drain --json")
        #expect((report["runners"] as? [[String: Any]])?.compactMap { int($0["id"]) } == [runnerID])
        #expect(!runner.hasExited, "the runner is still draining its 30 s run")
        let status = try await s.status()
        let state = (status["runners"] as? [[String: Any]])?.first?["state"] as? String
        #expect(state == "draining", "\(status)")
    }

    @Test("SIGTERM drains: the command in flight finishes, is recorded ok, and the runner exits 0")
    func sigtermDrains() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, runnerID) = try await startRunner(s)
        let gate = try HeldCommand(s, name: "short")
        try await s.succeed(["add", "short", "--in", "0s", "--"] + gate.command)
        try await gate.waitUntilStarted(s)
        let inFlight = try await waitForRunInFlight(s, "short")
        expectRunFields(inFlight, job: "short")
        #expect(int(inFlight["runner"]) == runnerID)
        let live = try await s.status()
        #expect(int(live["inFlight"]) == 1, "\(live)")
        #expect((try await s.show("short"))["running"] as? Bool == true)

        runner.signal(SIGTERM)
        try await waitUntil("the runner is draining") {
            if runner.hasExited { return true }
            let runners = try await s.status()["runners"] as? [[String: Any]] ?? []
            return runners.first?["state"] as? String == "draining"
        }
        #expect(!runner.hasExited, "the runner did not wait for its run in flight: \(runner.result())")
        try gate.release()
        let exited = try await waitForExit(runner, within: .seconds(30))
        #expect(exited.exitedNormally && exited.status == 0, "\(exited)")

        let runs = try await s.history("short")
        #expect(runs.count == 1)
        let run = try #require(runs.first)
        expectRunFields(run, job: "short")
        #expect(run["outcome"] as? String == "ok", "\(run)")
        #expect(int(run["exitCode"]) == 0)
        #expect(try await s.show("short")["state"] as? String == "done")
        try await expectCountersMatchHistory(s)
    }

    @Test("a second SIGTERM stops at once; the long run is recorded interrupted and its command killed")
    func secondSigtermStopsAtOnce() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, _) = try await startRunner(s)
        let sleepPID = try await startLongCommand(s, "long", seconds: 30)

        runner.signal(SIGTERM)
        try await waitUntil("the runner is draining") {
            if runner.hasExited { throw HarnessError("the runner exited on the first signal:\n\(runner.result())") }
            let runners = try await s.status()["runners"] as? [[String: Any]] ?? []
            return runners.first?["state"] as? String == "draining"
        }
        let signalled = ContinuousClock.now
        runner.signal(SIGTERM)
        let exited = try await waitForExit(runner, within: .seconds(30))
        let took = ContinuousClock.now - signalled
        #expect(exited.exitedNormally, "the runner was killed by the signal instead of handling it: \(exited)")
        #expect(took < .seconds(10), "the second signal took \(took) to stop the runner")

        let run = try #require(try await s.history("long").first)
        expectRunFields(run, job: "long")
        #expect(run["outcome"] as? String == "interrupted", "\(run)")
        try await waitUntil("the interrupted command is gone", timeout: .seconds(10)) {
            !ProcessTable.isLiving(sleepPID)
        }
        let job = try await s.show("long")
        #expect(job["lastOutcome"] as? String == "interrupted")
        #expect(job["state"] as? String == "active", "an interrupted run is rescheduled: \(job)")
        #expect(rfc3339Micros(job["nextRunAt"]) != nil, "an interrupted run is rescheduled: \(job)")
        try await expectCountersMatchHistory(s)
    }

    @Test("run --on-failure starts the command after a failed run, with the run in its environment, once per interval")
    func onFailureCommand() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let alertLog = s.root + "/alerts.log"
        let (runner, _) = try await startRunner(
            s,
            ["--on-failure", "sh -c 'echo \"$JOB_NAME $JOB_OUTCOME $JOB_EXIT_CODE $JOB_SUPPRESSED\" >> \(alertLog)'"])
        defer { runner.killAndReap() }
        try await s.succeed(["add", "broken", "--every", "1s", "--", "sh", "-c", "exit 7"])
        try await waitForRuns(s, "broken", outcome: "failed", count: 3)
        try await waitUntil("the alert command ran") {
            ((try? String(contentsOfFile: alertLog, encoding: .utf8)) ?? "").contains("\n")
        }
        _ = try await s.stopCleanly(runner)
        // Three failures or more within the default interval of a minute: one alert.
        let lines = try String(contentsOfFile: alertLog, encoding: .utf8).split(separator: "\n")
        #expect(lines == ["broken failed 7 0"])
    }

    @Test("SIGHUP (the terminal closing) drains like SIGTERM: a log line, the command interrupted and gone, exit 0")
    func sighupDrains() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, _) = try await startRunner(s, ["--grace", "1s", "--kill-after", "1s"])
        let sleepPID = try await startLongCommand(s, "long", seconds: 60)

        runner.signal(SIGHUP)
        let exited = try await waitForExit(runner, within: .seconds(30))
        #expect(exited.exitedNormally && exited.status == 0, "SIGHUP killed the runner: \(exited)")
        #expect(exited.stderr.contains("draining"), "no drain was logged: \(exited.stderr)")
        try await waitUntil("the command is gone with its runner", timeout: .seconds(10)) {
            !ProcessTable.isLiving(sleepPID)
        }
        let run = try #require(try await s.history("long").first)
        #expect(run["outcome"] as? String == "interrupted", "\(run)")
        try await expectCountersMatchHistory(s)
    }

    @Test(
        "after kill -9 of a runner, status shows it dead, drain and stop --wait do not wait for it, its run is abandoned"
    )
    func killedRunnerIsSeenDead() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, _) = try await startRunner(s)
        let sleepPID = try await startLongCommand(s, "long", seconds: 60)
        runner.signal(SIGKILL)
        _ = try await waitForExit(runner)

        // Whichever process looks first, jobctl included, sees it dead and rescues its run.
        let status = try await s.status()
        #expect((status["runners"] as? [Any])?.isEmpty == true, "a dead runner is shown alive: \(status)")
        #expect(int(status["inFlight"]) == 0, "\(status)")
        let run = try #require(try await s.history("long").first)
        #expect(run["outcome"] as? String == "abandoned", "\(run)")
        try await waitUntil("the dead runner's command is killed", timeout: .seconds(10)) {
            !ProcessTable.isLiving(sleepPID)
        }

        let started = ContinuousClock.now
        let drained = try await s.jobctl(["drain", "--timeout", "20s"])
        #expect(drained.status == 0, "\(drained)")
        let stopped = try await s.jobctl(["stop", "long", "--wait", "--timeout", "20s"])
        #expect(stopped.status == 0, "\(stopped)")
        #expect(ContinuousClock.now - started < .seconds(15), "drain or stop --wait waited for a dead runner")
    }

    @Test("a command's output keeps every byte: after a NUL, the tail is still there")
    func outputAfterNUL() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, _) = try await startRunner(s)
        try await s.succeed(["add", "nul", "--in", "0s", "--", "sh", "-c", #"echo a; printf 'x\0y\377'; echo LAST"#])
        try await waitForRuns(s, "nul")
        let run = try #require(try await s.history("nul").first)
        #expect(run["output"] as? String == "a\nx\\x00y\\xFFLAST\n", "\(run)")
        runner.signal(SIGTERM)
        _ = try await waitForExit(runner)
    }

    @Test("stop --wait waits for the run in flight; pause stops a schedule; resume restarts it")
    func stopWaitPauseResume() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (runner, _) = try await startRunner(s, ["--concurrency", "4"])
        let gate = try HeldCommand(s, name: "slow")
        try await s.succeed(["add", "slow", "--every", "1h", "--delay", "0s", "--"] + gate.command)
        try await s.succeed(["add", "pulse", "--every", "100ms", "--delay", "0s", "--handler", "tick"])
        try await s.succeed(["add", "paced", "--every", "100ms", "--delay", "0s", "--handler", "tick"])

        try await gate.waitUntilStarted(s)
        _ = try await waitForRunInFlight(s, "slow")
        // A wait that runs out first: exit 3, one line on stderr; the job is stopped all the same.
        let impatient = try await s.jobctl(["stop", "slow", "--wait", "--timeout", "300ms"])
        #expect(impatient.exitedNormally && impatient.status == 3, "\(impatient)")
        #expect(impatient.stderrLines.count == 1 && impatient.stderr.hasPrefix("jobctl: error: "), "\(impatient)")
        #expect(try await s.show("slow")["state"] as? String == "stopped")

        let stop = try s.launchJobctl(["stop", "slow", "--wait", "--timeout", "60s"])
        // Let the runner do other work meanwhile; stop --wait must still be waiting afterwards.
        let pulses = try await s.history("pulse").count
        try await waitUntil("pulse ran 3 more times") { try await s.history("pulse").count >= pulses + 3 }
        #expect(!stop.hasExited, "stop --wait returned with the run in flight: \(stop.result())")
        try gate.release()
        guard await stop.waitForExit(timeout: .seconds(60)) else {
            Issue.record("stop --wait did not return")
            return
        }
        #expect(stop.result().exitedNormally && stop.result().status == 0, "\(stop.result())")
        let slow = try await s.show("slow")
        #expect(slow["state"] as? String == "stopped")
        #expect(slow["running"] as? Bool != true)
        let slowRuns = try await s.history("slow")
        #expect(slowRuns.first?["outcome"] as? String == "ok", "\(slowRuns)")

        try await waitForRuns(s, "paced", count: 2)
        try await s.succeed(["pause", "paced"])
        #expect(try await s.show("paced")["state"] as? String == "paused")
        // At most the run in flight when it was paused may still finish.
        let atPause = try await s.history("paced").count
        let pulseAtPause = try await s.history("pulse").count
        try await waitUntil("pulse ran 5 more times") { try await s.history("pulse").count >= pulseAtPause + 5 }
        let whilePaused = try await s.history("paced").count
        #expect(whilePaused <= atPause + 1, "a paused job kept running: \(atPause) -> \(whilePaused)")

        try await s.succeed(["resume", "paced"])
        try await waitUntil("paced runs again") { try await s.history("paced").count >= whilePaused + 2 }

        runner.signal(SIGTERM)
        let exited = try await waitForExit(runner)
        #expect(exited.exitedNormally && exited.status == 0, "\(exited)")
        try await expectCountersMatchHistory(s)
        #expect(try await s.history("slow").count == 1, "a stopped job ran again")
    }

    @Test("two runners on one database: each occurrence runs once, never twice at once; one drain stops both")
    func twoRunners() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let (first, firstID) = try await startRunner(s, ["--concurrency", "2"])
        let (second, secondID) = try await startRunner(s, ["--concurrency", "2"])
        try await s.succeed(["add", "ticker", "--every", "50ms", "--delay", "0s", "--handler", "tick"])
        // The command itself detects a second copy of itself running (mkdir is atomic) and fails if so.
        let lock = s.root + "/cmd.lock"
        try await s.succeed([
            "add", "cmd", "--every", "50ms", "--delay", "0s", "--", "sh", "-c",
            "mkdir '\(lock)' || { echo overlap; exit 9; }; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; rmdir '\(lock)'",
        ])
        try await waitForRuns(s, "ticker", count: 20)
        try await waitForRuns(s, "cmd", count: 10)

        let drain = try await s.jobctl(["drain", "--timeout", "60s", "--json"])
        #expect(drain.exitedNormally && drain.status == 0, "\(drain)")
        let report = try JSONSerialization.jsonObject(with: Data(drain.stdout.utf8)) as? [String: Any] ?? [:]
        let drained = Set((report["runners"] as? [[String: Any]] ?? []).compactMap { int($0["id"]) })
        #expect(drained == [firstID, secondID], "\(drain)")
        for runner in [first, second] {
            let exited = try await waitForExit(runner)
            #expect(exited.exitedNormally, "\(exited)")
        }

        for name in ["ticker", "cmd"] {
            let runs = try await s.history(name)
            let slots = runs.compactMap { $0["scheduledFor"] as? String }
            #expect(Set(slots).count == slots.count, "\(name): an occurrence ran twice")
            for run in runs {
                #expect([firstID, secondID].contains(int(run["runner"]) ?? -1), "\(run)")
            }
        }
        let cmdRuns = try await s.history("cmd")
        #expect(
            cmdRuns.allSatisfy { $0["outcome"] as? String == "ok" },
            "the command ran twice at once: \(cmdRuns.filter { $0["outcome"] as? String != "ok" })")
        try await expectCountersMatchHistory(s)
    }

    @Test("demo runs the tick job and a command, drains, and the counters carry on from run to run")
    func demo() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        func called(_ result: ProcessResult, _ name: String) -> Int? {
            guard let line = result.stdout.split(separator: "\n").first(where: { $0.hasPrefix("\(name): called ") })
            else { return nil }
            return Int(line.dropFirst("\(name): called ".count).prefix { $0.isNumber })
        }
        let first = try await s.succeed(["demo", "--for", "1s"])
        let ticks = try #require(called(first, "demo-tick"), "\(first)")
        #expect(ticks >= 1, "\(first)")
        #expect(called(first, "demo-echo") != nil, "\(first)")
        #expect(int(try await s.jobs()["demo-tick"]?["runCount"]) == ticks)

        let second = try await s.succeed(["demo", "--for", "500ms"])
        let more = try #require(called(second, "demo-tick"), "\(second)")
        #expect(more > ticks, "the counter did not carry on: \(ticks) then \(more)")
        try await expectCountersMatchHistory(s)
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath))
    }

    @Test(
        "the command demo suggests at the end (`try: jobctl --db PATH status`) works")
    func demoSuggestionWorks() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let demo = try await s.succeed(["demo", "--for", "200ms"])
        let line = try #require(
            demo.stdout.split(separator: "\n").first { $0.hasPrefix("try: jobctl ") }, "\(demo)")
        let words = line.dropFirst("try: jobctl ".count).split(separator: " ").map(String.init)
        let result = try await s.jobctl(words, db: .omitted)
        #expect(result.exitedNormally && result.status == 0, "\(result)")
        #expect(result.stdout.contains("demo-tick: called"), "\(result)")
    }
}
