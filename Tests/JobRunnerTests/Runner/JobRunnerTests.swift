import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import JobRunner

/// Runs `runner` in a child task while `body` drives it, then drains it and waits for `run()` to return.
func withRunner(
    _ runner: JobRunner,
    _ body: (EventLog) async throws -> Void
) async throws {
    let events = EventLog(runner)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await runner.run() }
        _ = await events.next { if case .registered = $0 { true } else { false } }
        try await body(events)
        runner.drain()
        try await group.waitForAll()
    }
}

@Suite("JobRunner", .timeLimit(.minutes(1)))
struct JobRunnerTests {
    @Test("a periodic job runs once per tick on the injected clock; counters equal history")
    func periodicTicks() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "tick", action: .handler("tick"), schedule: .every(.seconds(1))))
            let runner = JobRunner(
                store: store, configuration: manualRunnerConfiguration(), clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                for tick in 1...5 {
                    await clock.waitUntilSleeping(count: 2)
                    #expect(clock.earliestDeadline == newYear2026 + Int64(tick) * 1_000_000)
                    clock.advance(by: .seconds(1))
                    let finished = await events.finished(1)
                    #expect(finished.first?.outcome == .ok)
                }
            }
            let job = try #require(try await store.job(named: "tick"))
            let history = try await store.history(HistoryQuery(job: "tick", limit: 100))
            #expect(job.runCount == 5)
            #expect(history.count == 5)
            #expect(history.map(\.scheduledFor).sorted() == (1...5).map { newYear2026 + Int64($0) * 1_000_000 })
            #expect(history.allSatisfy { $0.startedAt >= $0.scheduledFor })
            #expect(job.nextRunAt == newYear2026 + 6_000_000)
        }
    }

    @Test("nothing runs before its time")
    func nothingRunsEarly() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(JobDefinition(name: "later", action: .handler("tick"), schedule: .after(.seconds(10))))
            let runner = JobRunner(
                store: store, configuration: manualRunnerConfiguration(), clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                await clock.waitUntilSleeping(count: 2)
                clock.advance(by: .microseconds(9_999_999))
                await clock.waitUntilSleeping(count: 2)
                let runsSoFar = try await store.job(named: "later")?.runCount
                #expect(runsSoFar == 0)
                clock.advance(by: .microseconds(1))
                #expect(await events.finished(1).first?.outcome == .ok)
            }
            let job = try #require(try await store.job(named: "later"))
            #expect(job.state == .done)
            #expect(job.nextRunAt == nil)
            let run = try #require(try await store.history(HistoryQuery(job: "later")).first)
            #expect(run.startedAt == newYear2026 + 10_000_000)
        }
    }

    @Test("a failed run is retried with exponential backoff, then the job moves on")
    func retriesWithBackoff() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let failures = Mutex(0)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            var registry = JobRegistry()
            registry.register("flaky") { _ in
                let n = failures.withLock { n in
                    n += 1
                    return n
                }
                if n <= 2 { throw RuntimeFailure(message: "failure \(n)") }
            }
            try await store.add(
                JobDefinition(
                    name: "flaky", action: .handler("flaky"), schedule: .after(.seconds(1)),
                    retry: RetryPolicy(maxRetries: 3, backoff: .seconds(2))
                )
            )
            let runner = JobRunner(
                store: store, registry: registry, configuration: manualRunnerConfiguration(), clock: clock,
                logger: quietLogger)
            try await withRunner(runner) { events in
                await clock.waitUntilSleeping(count: 2)
                clock.advance(by: .seconds(1))
                #expect(await events.finished(1).first?.outcome == .failed)
                await clock.waitUntilSleeping(count: 2)
                #expect(clock.earliestDeadline == newYear2026 + 3_000_000)  // 1 s + 2 s backoff
                clock.advance(by: .seconds(2))
                #expect(await events.finished(1).first?.outcome == .failed)
                await clock.waitUntilSleeping(count: 2)
                #expect(clock.earliestDeadline == newYear2026 + 7_000_000)  // then 4 s
                clock.advance(by: .seconds(4))
                #expect(await events.finished(1).first?.outcome == .ok)
            }
            let runs = try await store.history(HistoryQuery(job: "flaky")).reversed().map { ($0.attempt, $0.outcome) }
            #expect(runs.map(\.0) == [1, 2, 3])
            #expect(runs.map(\.1) == [.failed, .failed, .ok])
            let job = try #require(try await store.job(named: "flaky"))
            #expect(job.failedCount == 2)
            #expect(job.okCount == 1)
            #expect(job.state == .done)
            #expect(
                try await store.history(HistoryQuery(job: "flaky")).last?.error
                    == "RuntimeFailure(message: \"failure 1\")")
        }
    }

    @Test("a handler that outlasts its timeout is cancelled and recorded as timeout")
    func handlerTimeout() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let gate = HandlerGate()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            var registry = JobRegistry()
            registry.register("slow") { _ in try await gate.wait() }
            try await store.add(
                JobDefinition(name: "slow", action: .handler("slow"), schedule: .after(.zero), timeout: .seconds(5))
            )
            let runner = JobRunner(
                store: store, registry: registry, configuration: manualRunnerConfiguration(), clock: clock,
                logger: quietLogger)
            try await withRunner(runner) { events in
                await gate.waitForEntry()
                await clock.waitUntilSleeping(count: 2)  // heartbeat + the run's timer (the main loop waits on a wake)
                clock.advance(by: .seconds(5))
                #expect(await events.finished(1).first?.outcome == .timeout)
            }
            let run = try #require(try await store.history(HistoryQuery(job: "slow")).first)
            #expect(run.outcome == .timeout)
            #expect(run.error == "timed out after 5s")
        }
    }

    @Test("drain with a run in flight lets it finish, records it, and persists the next occurrence")
    func drainFinishesInFlight() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let gate = HandlerGate()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            var registry = JobRegistry()
            registry.register("work") { _ in try await gate.wait() }
            try await store.add(
                JobDefinition(
                    name: "work", action: .handler("work"), schedule: .every(.seconds(60)), initialDelay: .zero))
            let runner = JobRunner(
                store: store, registry: registry, configuration: manualRunnerConfiguration(), clock: clock,
                logger: quietLogger)
            let events = EventLog(runner)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await runner.run() }
                await gate.waitForEntry()
                runner.drain()
                await events.next { $0 == .drainBegan }
                let state = try await store.liveRunners().first?.state
                #expect(state == .draining)
                gate.open()
                try await group.waitForAll()
            }
            let job = try #require(try await store.job(named: "work"))
            #expect(job.runCount == 1)
            #expect(job.lastOutcome == .ok)
            #expect(job.nextRunAt == newYear2026 + 60_000_000)
            #expect(job.runningRunID == nil)
            #expect(try await store.liveRunners().isEmpty)
        }
    }

    @Test("drain past the grace period cancels the run, records it interrupted and reschedules the occurrence")
    func drainPastGraceInterrupts() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let gate = HandlerGate()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            var registry = JobRegistry()
            registry.register("stuck") { _ in try await gate.wait() }
            try await store.add(
                JobDefinition(
                    name: "stuck", action: .handler("stuck"), schedule: .every(.seconds(60)), initialDelay: .zero))
            let runner = JobRunner(
                store: store, registry: registry, configuration: manualRunnerConfiguration(drainTimeout: .seconds(5)),
                clock: clock,
                logger: quietLogger
            )
            let events = EventLog(runner)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await runner.run() }
                await gate.waitForEntry()
                runner.drain()
                await events.next { $0 == .drainBegan }
                await clock.waitUntilSleeping(count: 2)
                clock.advance(by: .seconds(5))
                try await group.waitForAll()
            }
            let run = try #require(try await store.history(HistoryQuery(job: "stuck")).first)
            #expect(run.outcome == .interrupted)
            let job = try #require(try await store.job(named: "stuck"))
            #expect(job.failedCount == 0)
            #expect(job.lastOutcome == .interrupted)
            #expect(job.attempt == 1)
            // The interrupted occurrence runs again at the next start.
            #expect(job.nextRunAt == newYear2026)
            #expect(job.state == .active)
        }
    }

    @Test("a runner whose lease expired has its run marked abandoned; the job continues; its late result is fenced")
    func rescueAndFence() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(
                JobDefinition(
                    name: "job", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero))
            // A runner on another host claims the job, then stops heartbeating.
            let dead = try await store.registerRunner(
                host: "elsewhere", pid: 1, lease: .seconds(10), queues: nil, concurrency: 1, now: newYear2026)
            let batch = try await store.claim(
                runnerID: dead, now: newYear2026,
                scope: ClaimScope(queues: nil, handlers: ["tick"], slots: 1, misfireGrace: 1_000_000)
            )
            let claim = try #require(batch.claims.first)
            clock.advance(by: .seconds(11))
            let runner = JobRunner(
                store: store, configuration: manualRunnerConfiguration(), clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                #expect(await events.finished(1).first?.outcome == .ok)
            }
            let runs = try await store.history(HistoryQuery(job: "job")).reversed().map { ($0.outcome, $0.attempt) }
            #expect(runs.map(\.0) == [.abandoned, .ok])
            #expect(runs.map(\.1) == [1, 2])
            // The dead runner comes back and reports its run: fenced, nothing changes.
            let before = try #require(try await store.job(named: "job"))
            let accepted = try await store.finish([
                FinishedRun(claim, runnerID: dead, outcome: .ok, finishedAt: clock.now())
            ])
            #expect(accepted == [false])
            let after = try #require(try await store.job(named: "job"))
            #expect(after.runCount == before.runCount)
            #expect(after.nextRunAt == before.nextRunAt)
            #expect(try await store.run(id: claim.runID)?.outcome == .abandoned)
        }
    }

    @Test("a job whose runs keep killing the runner is paused with the reason recorded")
    func abandonStreakPauses() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(
                JobDefinition(
                    name: "poison", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero))
            for _ in 0..<JobTransition.abandonLimit {
                let runner = try await store.registerRunner(
                    host: "elsewhere", pid: 1, lease: .seconds(1), queues: nil, concurrency: 1, now: clock.now()
                )
                let batch = try await store.claim(
                    runnerID: runner, now: clock.now(),
                    scope: ClaimScope(queues: nil, handlers: ["tick"], slots: 1, misfireGrace: 1_000_000)
                )
                #expect(batch.claims.count == 1)
                clock.advance(by: .seconds(5))
                let rescued = try await store.rescueOrphans(
                    selfID: nil, host: "here", now: clock.now(), isProcessAlive: { _ in true })
                #expect(rescued.count == 1)
            }
            let job = try #require(try await store.job(named: "poison"))
            #expect(job.state == .paused)
            #expect(job.stateReason?.contains("abandoned") == true)
            #expect(job.runCount == 3)
        }
    }

    @Test("a runner kept busy still lets other calls on its store through")
    func busyRunnerDoesNotStarveTheStore() async throws {
        try await withTemporaryDatabase { store, _ in
            let count = 4000
            try await store.addMany(
                (0..<count).map { JobDefinition(name: "once-\($0)", action: .handler("tick"), schedule: .after(.zero)) }
            )
            let runner = JobRunner(
                store: store, configuration: manualRunnerConfiguration(concurrency: 64), logger: quietLogger)
            try await withRunner(runner) { events in
                _ = await events.finished(1)
                // Queued behind the main loop on the store's executor: answered while work remains,
                // not only once the runner has run out of it.
                let left = try await store.status().jobsByState[.active] ?? 0
                #expect(left > 0, "the store answered only after all \(count) runs")
            }
        }
    }

    @Test("a run rescued from a stopped runner is no longer that runner's to start or to own a process group")
    func rescuedRunIsNoLongerOwned() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(
                JobDefinition(
                    name: "job", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero))
            let stopped = try await store.registerRunner(
                host: "elsewhere", pid: 1, lease: .seconds(1), queues: nil, concurrency: 1, now: clock.now())
            let batch = try await store.claim(
                runnerID: stopped, now: clock.now(),
                scope: ClaimScope(queues: nil, handlers: ["tick"], slots: 1, misfireGrace: 1_000_000))
            let claim = try #require(batch.claims.first)
            #expect(try await store.isStillClaimed(runID: claim.runID, runnerID: stopped))
            #expect(
                try await store.recordProcessGroup(runID: claim.runID, runnerID: stopped, pgid: 4242, leaderStart: 1))
            clock.advance(by: .seconds(5))
            let rescued = try await store.rescueOrphans(
                selfID: nil, host: "here", now: clock.now(), isProcessAlive: { _ in true })
            #expect(rescued == [claim.runID])
            #expect(try await store.isStillClaimed(runID: claim.runID, runnerID: stopped) == false)
            #expect(
                try await store.recordProcessGroup(runID: claim.runID, runnerID: stopped, pgid: 4243, leaderStart: 1)
                    == false)
            #expect(try await store.isStillClaimed(runID: claim.runID, runnerID: stopped + 1) == false)
        }
    }

    @Test("a dead runner on the same host is rescued at once, before its lease expires")
    func sameHostDeadPidIsRescuedAtOnce() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(
                JobDefinition(
                    name: "job", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero))
            let other = try await store.registerRunner(
                host: "test-host", pid: 424_242, lease: .seconds(3600), queues: nil, concurrency: 1, now: clock.now())
            _ = try await store.claim(
                runnerID: other, now: clock.now(),
                scope: ClaimScope(queues: nil, handlers: ["tick"], slots: 1, misfireGrace: 0))
            let alive = try await store.rescueOrphans(
                selfID: nil, host: "test-host", now: clock.now(), isProcessAlive: { _ in true })
            #expect(alive.isEmpty)
            let gone = try await store.rescueOrphans(
                selfID: nil, host: "test-host", now: clock.now(), isProcessAlive: { _ in false })
            #expect(gone.count == 1)
        }
    }

    @Test("two runners on one file never claim one occurrence twice, and a job never runs twice at once")
    func twoRunnersNoDoubleClaims() async throws {
        try await withTemporaryDatabase { store, path in
            let count = 300
            for index in 0..<count {
                try await store.add(
                    JobDefinition(name: "once-\(index)", action: .handler("tick"), schedule: .after(.zero)))
            }
            for index in 0..<4 {
                try await store.add(
                    JobDefinition(
                        name: "periodic-\(index)", action: .handler("tick"), schedule: .every(.milliseconds(5))))
            }
            let second = try await JobStore.open(path: path)
            var config = JobRunnerConfiguration(concurrency: 4, changePollInterval: .milliseconds(5), host: "test-host")
            config.heartbeatInterval = .seconds(1)
            let a = JobRunner(store: store, configuration: config, logger: quietLogger)
            let b = JobRunner(store: second, configuration: config, logger: quietLogger)
            let eventsA = EventLog(a)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await a.run() }
                group.addTask { try await b.run() }
                // Wait (on events, no sleeping) until every one-shot job is done.
                while try await store.status().jobsByState[.done, default: 0] < count {
                    await eventsA.next { if case .finished = $0 { true } else { false } }
                }
                a.drain()
                b.drain()
                try await group.waitForAll()
            }
            let history = try await store.history(HistoryQuery(limit: 1_000_000))
            #expect(history.allSatisfy { $0.outcome == .ok })
            var perJob: [String: [RunRecord]] = [:]
            for run in history { perJob[run.jobName, default: []].append(run) }
            for index in 0..<count {
                #expect(
                    perJob["once-\(index)"]?.count == 1,
                    "once-\(index) ran \(perJob["once-\(index)"]?.count ?? 0) times")
            }
            for (name, runs) in perJob {
                let sorted = runs.sorted { $0.startedAt < $1.startedAt }
                #expect(
                    Set(sorted.map(\.scheduledFor)).count == sorted.count, "\(name): an occurrence was claimed twice")
                for (earlier, later) in zip(sorted, sorted.dropFirst()) {
                    #expect(later.startedAt >= (earlier.finishedAt ?? .max), "\(name) ran twice at once")
                }
                let job = try #require(try await store.job(named: name))
                #expect(job.runCount == Int64(runs.count))
            }
            let runners = Set(history.compactMap(\.runnerID))
            #expect(runners.count == 2, "both runners should have done work")
        }
    }

    @Test("a trigger while the job is in flight waits for the run to end, then runs once; no busy loop meanwhile")
    func triggerWhileRunning() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let gate = HandlerGate()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            var registry = JobRegistry()
            registry.register("work") { context in
                if !(try await context.isTriggeredRun(store)) { try await gate.wait() }
            }
            try await store.add(
                JobDefinition(
                    name: "work", action: .handler("work"), schedule: .every(.seconds(60)), initialDelay: .zero)
            )
            let runner = JobRunner(
                store: store, registry: registry, configuration: manualRunnerConfiguration(), clock: clock,
                logger: quietLogger
            )
            try await withRunner(runner) { events in
                await gate.waitForEntry()
                try await store.trigger("work")
                runner.control.wake()
                // The runner goes idle (once before the trigger, once after the wake-up) with nothing
                // claimable: the trigger waits for the run in flight instead of making the loop spin.
                for _ in 0..<2 {
                    let idle = await events.next { if case .idle = $0 { true } else { false } }
                    if case .idle(let nextDue)? = idle {
                        #expect(
                            nextDue == nil || nextDue! > clock.now(),
                            "the runner would spin on a trigger it cannot take")
                    }
                }
                gate.open()
                let finished = await events.finished(2)
                #expect(finished.map(\.outcome) == [.ok, .ok])
            }
            let runs = try await store.history(HistoryQuery(job: "work"))
            #expect(runs.map(\.triggered) == [true, false])
            #expect(try await store.job(named: "work")?.nextRunAt == newYear2026 + 60_000_000)
        }
    }

    @Test("a command job runs without a shell and sees its environment")
    func commandJob() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(
                JobDefinition(
                    name: "cmd",
                    action: .command(
                        ["sh", "-c", "printf '%s|%s|%s' \"$JOB_NAME\" \"$JOB_ATTEMPT\" \"$1\"", "sh", "$(id);*"],
                        workingDirectory: "/"),
                    schedule: .after(.zero)
                )
            )
            try await store.add(
                JobDefinition(
                    name: "fail", action: .command(["sh", "-c", "exit 3"], workingDirectory: nil),
                    schedule: .after(.zero)))
            try await store.add(
                JobDefinition(
                    name: "missing", action: .command(["no-such-command-xyz"], workingDirectory: nil),
                    schedule: .after(.zero)))
            let runner = JobRunner(
                store: store, configuration: manualRunnerConfiguration(), clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                _ = await events.finished(3)
            }
            let ok = try #require(try await store.history(HistoryQuery(job: "cmd")).first)
            #expect(ok.outcome == .ok)
            #expect(ok.output == "cmd|1|$(id);*")
            let failed = try #require(try await store.history(HistoryQuery(job: "fail")).first)
            #expect(failed.outcome == .failed)
            #expect(failed.exitCode == 3)
            let missing = try #require(try await store.history(HistoryQuery(job: "missing")).first)
            #expect(missing.outcome == .failed)
            #expect(missing.error?.contains("not found") == true)
        }
    }
}

extension JobContext {
    /// True when this run was started by a manual trigger.
    func isTriggeredRun(_ store: JobStore) async throws -> Bool {
        try await store.run(id: runID)?.triggered ?? false
    }
}

struct RuntimeFailure: Error {
    var message: String
}
