import Testing

@testable import JobRunner

extension BackendConformance {
    /// A runner paused past its lease and declared dead by another: it claims nothing, its run is no
    /// longer its own, and its late result is discarded without changing anything.
    static func fencing(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("tick", initialDelay: .zero))
            let other = try await h.open()
            let frozen = try await h.register(host: host("host-a", boot: "boot-a"), pid: 10, lease: .seconds(30))
            let claim = try await h.claimOne(frozen)
            #expect(try await h.backend.isStillClaimed(runID: claim.runID, runnerID: frozen))
            #expect(
                try await h.backend.recordProcessGroup(runID: claim.runID, runnerID: frozen, pgid: 500, leaderStart: 7))

            // Another runner, on another host and instance, outlives the frozen runner's lease.
            h.advance(to: start + s(31))
            let rescuer = try await h.register(on: other, host: host("host-b", boot: "boot-b"), pid: 20)
            #expect(try await h.rescue(selfID: rescuer, on: other) == [claim.runID])
            let jobAfterRescue = try await h.job("tick")
            let statusAfterRescue = try await h.backend.status(perJobLimit: nil)
            #expect(statusAfterRescue.runsByOutcome == [.abandoned: 1])

            // The frozen runner wakes up: everything it tries is refused.
            h.advance(by: .seconds(1))
            let batch = try await h.claim(frozen)
            #expect(!batch.runnerAlive, "a runner declared dead is told so at its claim")
            #expect(batch.claims.isEmpty)
            #expect(try await h.backend.isStillClaimed(runID: claim.runID, runnerID: frozen) == false)
            #expect(
                try await h.backend.recordProcessGroup(runID: claim.runID, runnerID: frozen, pgid: 501, leaderStart: 8)
                    == false)
            #expect(try await h.backend.heartbeat(runnerID: frozen, now: h.now).alive == false)
            #expect(try await h.finish(claim, runner: frozen) == false, "a late finish is fenced")
            let abandoned = try await h.run(claim.runID)
            #expect(abandoned.outcome == .abandoned, "the late result did not overwrite the rescue")
            #expect(abandoned.finishedAt == start + s(31))
            #expect(try await h.job("tick") == jobAfterRescue, "a fenced finish changes nothing")
            #expect(try await h.backend.status(perJobLimit: nil) == statusAfterRescue)

            // The rescued job runs again under the live runner; the frozen one cannot touch that run.
            let again = try await h.claimOne(rescuer, on: other)
            #expect(again.jobName == "tick")
            #expect(again.occurrence == claim.occurrence, "an abandoned occurrence runs again")
            #expect(again.attempt == 2)
            #expect(try await h.finish(claim, runner: frozen) == false)
            let stolen = FinishedRun(again, runnerID: frozen, outcome: .failed, finishedAt: h.now)
            #expect(try await h.backend.finish([stolen]) == [false], "only the claiming runner records a run")
            #expect(try await h.backend.isStillClaimed(runID: again.runID, runnerID: frozen) == false)
            #expect(try await h.backend.isStillClaimed(runID: again.runID, runnerID: rescuer))
            #expect(try await h.run(again.runID).outcome == .running)
            #expect(try await h.job("tick").runningRunID == again.runID)
            #expect(try await h.finish(again, runner: rescuer, on: other))
            #expect(try await h.job("tick").okCount == 1)
        }
    }

    /// A claim whose acknowledgement never reached its runner: the heartbeat lists the run as held,
    /// the runner releases it, and it is recorded `interrupted` (its job goes on); a release of a run
    /// that ended, or that is another runner's, changes nothing.
    static func releaseUnknownRuns(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("lost", initialDelay: .zero))
            try await h.add(job("known", initialDelay: .zero))
            let runner = try await h.register(host: host("host-a", boot: "boot-a"), pid: 10, lease: .seconds(30))
            let other = try await h.register(host: host("host-b", boot: "boot-b"), pid: 20, lease: .seconds(30))
            let batch = try await h.claim(runner)
            #expect(batch.claims.count == 2)
            let lost = try #require(batch.claims.first { $0.jobName == "lost" })
            let known = try #require(batch.claims.first { $0.jobName == "known" })
            h.advance(by: .seconds(1))
            let beat = try await h.backend.heartbeat(runnerID: runner, now: h.now)
            #expect(beat.held == [lost.runID, known.runID].sorted())
            #expect(try await h.backend.heartbeat(runnerID: other, now: h.now).held.isEmpty)

            // Another runner cannot release them; the holder releases the one it does not know.
            #expect(try await h.backend.releaseUnknownRuns([lost.runID], runnerID: other, now: h.now).isEmpty)
            #expect(try await h.backend.releaseUnknownRuns([lost.runID], runnerID: runner, now: h.now) == [lost.runID])
            let released = try await h.run(lost.runID)
            #expect(released.outcome == .interrupted)
            #expect(released.error == Heartbeat.unknownRunError)
            let job = try await h.job("lost")
            #expect(job.runningRunID == nil)
            #expect(job.runCount == 1)
            #expect(job.nextRunAt != nil, "the job goes on by its policy")
            #expect(try await h.backend.heartbeat(runnerID: runner, now: h.now).held == [known.runID])

            // Released twice, or a run that ended: nothing changes.
            #expect(try await h.finish(known, runner: runner))
            #expect(
                try await h.backend.releaseUnknownRuns([lost.runID, known.runID], runnerID: runner, now: h.now).isEmpty)
            #expect(try await h.run(known.runID).outcome == .ok)
            #expect(try await h.job("lost") == job)
        }
    }

    /// A runner is dead once its lease has expired since its last heartbeat, whatever its host; the
    /// caller is never declared dead by its own rescue. Its runs are recorded abandoned and their jobs
    /// rescheduled at once, for the same occurrence.
    static func rescueAfterLease(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("tick", initialDelay: .zero))
            let expiring = try await h.register(host: host("host-a", boot: "boot-a"), pid: 10, lease: .seconds(30))
            let caller = try await h.register(host: host("host-c", boot: "boot-c"), pid: 30, lease: .seconds(10))
            let claim = try await h.claimOne(expiring)

            h.advance(to: start + s(20))
            #expect(try await h.backend.heartbeat(runnerID: expiring, now: h.now).alive)
            h.advance(to: start + s(45))  // 25 s after the heartbeat; the caller is past its own lease
            #expect(try await h.rescue(selfID: caller).isEmpty, "a heartbeat renews the lease")
            #expect(try await h.liveRunnerStates() == [expiring: .running, caller: .running])

            h.advance(to: start + s(51))
            #expect(try await h.rescue(selfID: caller) == [claim.runID])
            #expect(try await h.liveRunnerStates() == [caller: .running], "the caller is not its own victim")
            #expect(try await h.runner(expiring).state == .dead)
            let run = try await h.run(claim.runID)
            #expect(run.outcome == .abandoned)
            #expect(run.finishedAt == start + s(51))
            #expect(run.runnerID == expiring)
            #expect(run.error != nil)
            let tick = try await h.job("tick")
            #expect(tick.runningRunID == nil)
            #expect(tick.lastOutcome == .abandoned)
            #expect(tick.runCount == 1)
            #expect(tick.okCount == 0)
            #expect(tick.failedCount == 0, "an abandoned run is not a failure")
            #expect(tick.abandonedStreak == 1)
            #expect(tick.state == .active)
            #expect(tick.occurrenceAt == start, "the same occurrence runs again")
            #expect(tick.attempt == 2)
            #expect(tick.nextRunAt == start + s(51), "at once")
            #expect(try await h.backend.status(perJobLimit: nil).runsByOutcome == [.abandoned: 1])

            #expect(try await h.rescue(selfID: caller).isEmpty, "a rescue is done once")
            #expect(try await h.rescue().isEmpty, "a runner without runs leaves nothing to record")
            #expect(try await h.liveRunnerStates().isEmpty, "without a caller to spare, every expired runner is dead")
        }
    }

    /// On the runner's own host (the same boot id and PID namespace, whatever name it is shown
    /// under) a runner whose process is gone is dead at once, and what is left of its command is killed
    /// before its job may run again. A live process is dead only once its lease expires.
    static func rescueSameHostDeadProcess(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let here = host("worker-1", boot: "boot-1", namespace: "pid:[4026531836]")
            for name in ["a", "b", "c"] { try await h.add(job(name, initialDelay: .zero)) }
            let crashed = try await h.register(host: here, pid: 4242)
            let killed = try await h.register(host: here, pid: 4243)
            let expiring = try await h.register(host: here, pid: 4244, lease: .seconds(10))
            let crashedRun = try await h.claimOne(crashed, slots: 1)
            let killedRun = try await h.claimOne(killed, slots: 1)
            let expiringRun = try await h.claimOne(expiring, slots: 1)
            #expect(
                try await h.backend.recordProcessGroup(
                    runID: crashedRun.runID, runnerID: crashed, pgid: 4300, leaderStart: 99))
            let kills = KillRecorder()

            h.advance(by: .seconds(1))
            let rescued = try await h.rescue(local: kills.local(here, isAlive: { $0 != 4242 }))
            #expect(rescued == [crashedRun.runID], "pid 4242 is gone on this host: dead before its lease")
            #expect(kills.recorded == [.init(runID: crashedRun.runID, pgid: 4300, leaderStart: 99)])
            #expect(try await h.liveRunnerStates() == [killed: .running, expiring: .running])
            #expect(try await h.run(crashedRun.runID).outcome == .abandoned)
            #expect(try await h.job(crashedRun.jobName).nextRunAt == h.now)

            // A runner's configured name is only shown: the boot id and PID namespace say "this host".
            let renamed = kills.local(here.named("jobctl-on-worker-1"), isAlive: { $0 != 4243 })
            #expect(try await h.rescue(local: renamed) == [killedRun.runID])
            #expect(kills.recorded.last == .init(runID: killedRun.runID, pgid: nil, leaderStart: nil))

            h.advance(to: start + s(11))
            #expect(try await h.rescue(local: kills.local(here, isAlive: { _ in true })) == [expiringRun.runID])
            #expect(
                kills.recorded.last == .init(runID: expiringRun.runID, pgid: nil, leaderStart: nil),
                "past its lease a live process of this host is dead too, and its leftovers are killed")
            #expect(kills.recorded.count == 3)
            #expect(try await h.liveRunnerStates().isEmpty)
        }
    }

    /// A host with the same name but another boot id or PID namespace (a rebooted host, a container
    /// sharing the host name) does not see the runner's pids: its runner is dead only once its lease
    /// expires, and nothing of its run is killed from here. Where the system gives neither a boot id
    /// nor a namespace, the name stands in.
    static func rescueNamesakeHost(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let theirs = host("worker-1", boot: "boot-1", namespace: "pid:[4026531836]")
            try await h.add(job("tick", initialDelay: .zero))
            let runner = try await h.register(host: theirs, pid: 4242, lease: .seconds(60))
            let claim = try await h.claimOne(runner)
            let kills = KillRecorder()
            h.advance(by: .seconds(1))
            let namesakes = [
                host("worker-1", boot: "boot-2", namespace: "pid:[4026531836]"),
                host("worker-1", boot: "boot-1", namespace: "pid:[4026532000]"),
                host("worker-1", boot: "", namespace: ""),
            ]
            for namesake in namesakes {
                let rescued = try await h.rescue(local: kills.local(namesake, isAlive: { _ in false }))
                #expect(rescued.isEmpty, "\(namesake) is another host")
            }
            #expect(try await h.liveRunnerStates() == [runner: .running])
            #expect(try await h.run(claim.runID).outcome == .running)

            h.advance(to: start + s(61))
            #expect(try await h.rescue(local: kills.local(namesakes[0], isAlive: { _ in false })) == [claim.runID])
            #expect(kills.recorded.isEmpty, "another host's leftovers are not killed from here")

            // No boot id and no namespace on either side: the name decides, as it always did.
            try await h.add(job("mac", queue: "mac", initialDelay: .zero))
            let bare = host("mac-mini", boot: "", namespace: "")
            let macRunner = try await h.register(host: bare, pid: 77)
            let macRun = try await h.claimOne(macRunner, queues: ["mac"])
            let elsewhere = host("mac-studio", boot: "", namespace: "")
            #expect(try await h.rescue(local: kills.local(elsewhere, isAlive: { _ in false })).isEmpty)
            #expect(try await h.rescue(local: kills.local(bare, isAlive: { $0 != 77 })) == [macRun.runID])
            #expect(kills.recorded == [.init(runID: macRun.runID, pgid: nil, leaderStart: nil)])
        }
    }

    /// Runs abandoned in a row (their runners died during each) pause the job after
    /// `JobTransition.abandonLimit`; a run that ends in between breaks the streak; resuming starts over.
    static func abandonStreakPausesJob(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("fragile", initialDelay: .zero))
            func abandonOnce() async throws {
                let runner = try await h.register(lease: .seconds(10))
                let claim = try await h.claimOne(runner)
                h.advance(by: .seconds(11))
                #expect(try await h.rescue() == [claim.runID])
            }
            try await abandonOnce()
            #expect(try await h.job("fragile").abandonedStreak == 1)
            let steady = try await h.register()
            let fine = try await h.claimOne(steady)
            #expect(try await h.finish(fine, runner: steady))
            var fragile = try await h.job("fragile")
            #expect(fragile.abandonedStreak == 0, "a run that ended breaks the streak")
            h.advance(to: try #require(fragile.nextRunAt))

            let limit = JobTransition.abandonLimit
            for streak in 1...limit {
                try await abandonOnce()
                fragile = try await h.job("fragile")
                #expect(fragile.abandonedStreak == streak)
                if streak < limit {
                    #expect(fragile.state == .active)
                    #expect(fragile.nextRunAt == h.now)
                } else {
                    #expect(fragile.state == .paused, "paused after \(limit) abandoned runs in a row")
                    #expect(fragile.stateReason != nil)
                }
            }
            #expect(try await h.claim(steady).claims.isEmpty, "a paused job is not claimed")
            #expect(
                try await h.backend.status(perJobLimit: nil).runsByOutcome == [.ok: 1, .abandoned: Int64(limit + 1)])

            let resumed = try await h.backend.resume("fragile")
            #expect(resumed.state == .active)
            #expect(resumed.abandonedStreak == 0)
            #expect(resumed.stateReason == nil)
            #expect(try await h.claimOne(steady).jobName == "fragile")
        }
    }
}

extension BackendConformance {
    /// The runners' gauge, read right after a rescue pass, counts the runners alive once it is done
    /// (a store may answer from what the pass read), and later changes are counted at the next read.
    static func liveRunnerCountAfterRescue(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let me = try await h.register(pid: 1000)
            _ = try await h.register(pid: 1001)
            let expired = try await h.register(pid: 1002, lease: .seconds(5))
            h.advance(by: .seconds(10))
            _ = try await h.rescue(selfID: me)
            #expect(try await h.runner(expired).state == .dead)
            #expect(try await h.backend.liveRunnerCount(now: h.now) == 2)
            #expect(try await h.backend.liveRunners().count == 2)
            _ = try await h.register(pid: 1003)
            h.advance(by: .seconds(1))
            #expect(try await h.backend.liveRunnerCount(now: h.now) == 3)
        }
    }

    /// A runner's heartbeat and, right after it, its rescue pass (as the heartbeat loop does; on
    /// PostgreSQL the pass reuses the look the heartbeat took in its own statement): with several
    /// runners alive the heartbeat answers for its own runner only, the expired runner is found dead
    /// and its run abandoned once, and the live ones are counted right.
    static func rescueRightAfterHeartbeat(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("tick", queue: "t", initialDelay: .zero))
            try await h.add(job("mine", queue: "m", initialDelay: .zero))
            let expired = try await h.register(pid: 2000, lease: .seconds(5))
            let claim = try await h.claimOne(expired, queues: ["t"])
            let me = try await h.register(pid: 2001)
            let mine = try await h.claimOne(me, queues: ["m"])
            let others = [try await h.register(pid: 2002), try await h.register(pid: 2003)]
            h.advance(by: .seconds(10))
            let request = try await h.backend.requestDrain(grace: .seconds(7))
            #expect(Set(request.runners.map(\.id)).isSuperset(of: [me] + others))

            let beat = try await h.backend.heartbeat(runnerID: me, now: h.now)
            #expect(beat.alive)
            #expect(beat.drain == DrainOrder(grace: .seconds(7)))
            #expect(beat.held == [mine.runID], "only this runner's runs, however many runners are alive")
            #expect(try await h.rescue(selfID: me) == [claim.runID])
            #expect(try await h.runner(expired).state == .dead)
            #expect(try await h.run(claim.runID).outcome == .abandoned)
            #expect(try await h.backend.liveRunnerCount(now: h.now) == 3)
            #expect(try await h.rescue(selfID: me) == [], "a run is abandoned once")
            #expect(try await h.backend.heartbeat(runnerID: me, now: h.now).drain == nil, "an order is taken once")

            let theirs = try await h.backend.heartbeat(runnerID: others[0], now: h.now)
            #expect(theirs.drain == DrainOrder(grace: .seconds(7)), "each runner takes its own order")
            #expect(theirs.held.isEmpty)
            #expect(try await h.rescue(selfID: others[0]) == [])
            #expect(try await h.backend.liveRunnerCount(now: h.now) == 3)
        }
    }
}
