import Testing

@testable import JobRunner

extension BackendConformance {
    /// A drain asked by another process reaches every live runner once, through its heartbeat or
    /// `takeDrainOrder`, with its grace; draining shows in the runner lists and the drain's progress;
    /// a runner that deregisters leaves its runs in flight recorded `interrupted`, to run again.
    static func drain(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            for name in ["a", "b", "early"] { try await h.add(job(name, queue: name, initialDelay: .zero)) }
            let second = try await h.open()
            let operatorInstance = try await h.open()  // a `jobctl drain`
            let a = try await h.register(pid: 1)
            let b = try await h.register(on: second, pid: 2)
            let runA = try await h.claimOne(a, queues: ["a"])
            let runB = try await h.claimOne(b, on: second, queues: ["b"])
            let early = try await h.claimOne(b, on: second, queues: ["early"])
            h.advance(to: start + s(1))
            #expect(try await h.finish(early, runner: b, on: second))

            h.advance(to: start + s(2))
            #expect(try await h.backend.heartbeat(runnerID: a, now: h.now).drain == nil, "no drain asked yet")
            #expect(try await second.takeDrainOrder(runnerID: b, now: h.now) == nil)
            let request = try await operatorInstance.requestDrain(grace: .seconds(7))
            #expect(request.requestedAt == start + s(2))
            #expect(Set(request.runners.map(\.id)) == [a, b])

            let beat = try await h.backend.heartbeat(runnerID: a, now: h.now)
            #expect(beat.alive)
            #expect(beat.drain == DrainOrder(grace: .seconds(7)))
            #expect(try await h.backend.heartbeat(runnerID: a, now: h.now).drain == nil, "an order is taken once")
            #expect(try await second.takeDrainOrder(runnerID: b, now: h.now) == DrainOrder(grace: .seconds(7)))
            #expect(try await second.takeDrainOrder(runnerID: b, now: h.now) == nil, "an order is taken once")
            #expect(try await second.heartbeat(runnerID: b, now: h.now).drain == nil)

            try await h.backend.markDraining(runnerID: a)
            #expect(try await h.liveRunnerStates() == [a: .draining, b: .running])
            var progress = try await operatorInstance.drainProgress(runnerIDs: [a, b], since: request.requestedAt)
            let states = Dictionary(uniqueKeysWithValues: progress.live.map { ($0.id, $0.state) })
            #expect(states == [a: .draining, b: .running])
            #expect(progress.inFlight == 2)
            #expect(progress.outcomes.isEmpty, "a run that ended before the request is not the drain's")

            h.advance(to: start + s(3))
            #expect(try await h.finish(runB, runner: b, on: second))
            progress = try await operatorInstance.drainProgress(runnerIDs: [a, b], since: request.requestedAt)
            #expect(progress.inFlight == 1)
            #expect(progress.outcomes == [.ok: 1])

            // The draining runner gives up and deregisters with its run still in flight.
            h.advance(to: start + s(4))
            try await h.backend.deregisterRunner(runnerID: a, now: h.now)
            let interrupted = try await h.run(runA.runID)
            #expect(interrupted.outcome == .interrupted)
            #expect(interrupted.finishedAt == start + s(4))
            #expect(interrupted.error != nil)
            let jobA = try await h.job("a")
            #expect(jobA.runningRunID == nil)
            #expect(jobA.lastOutcome == .interrupted)
            #expect(jobA.state == .active)
            #expect(jobA.failedCount == 0, "an interrupted run is not a failure")
            #expect(jobA.abandonedStreak == 0)
            #expect(jobA.attempt == 1, "an interrupted run is not an attempt")
            #expect(jobA.occurrenceAt == runA.occurrence)
            #expect(jobA.nextRunAt == runA.occurrence, "the same occurrence runs again")
            #expect(try await h.liveRunnerStates() == [b: .running])
            let stopped = try await h.runner(a)
            #expect(stopped.state == .stopped)
            #expect(stopped.stoppedAt == start + s(4))
            progress = try await operatorInstance.drainProgress(runnerIDs: [a, b], since: request.requestedAt)
            #expect(progress.live.map(\.id) == [b])
            #expect(progress.inFlight == 0)
            #expect(progress.outcomes == [.ok: 1, .interrupted: 1])
            #expect(try await h.backend.heartbeat(runnerID: a, now: h.now).alive == false)
            #expect(try await h.claim(a).runnerAlive == false)

            // A drain without a grace leaves each runner its own.
            let plain = try await operatorInstance.requestDrain(grace: nil)
            #expect(plain.runners.map(\.id) == [b])
            #expect(try await second.heartbeat(runnerID: b, now: h.now).drain == DrainOrder(grace: nil))
            try await second.deregisterRunner(runnerID: b, now: h.now)
            #expect(try await h.liveRunnerStates().isEmpty)

            // The interrupted occurrence goes to the next runner, as the same attempt.
            let next = try await h.register(pid: 3)
            let rerun = try await h.claimOne(next, queues: ["a"])
            #expect(rerun.occurrence == runA.occurrence)
            #expect(rerun.attempt == 1)
        }
    }
}
