import Testing

@testable import JobRunner

extension BackendConformance {
    /// What a change-feed notification let the runner see, read as the runner would: its jobs, and
    /// the drain order it took.
    struct FeedObservation: Sendable {
        var jobs: Set<String>
        var drain: DrainOrder?
    }

    /// The change feed of one instance reports changes committed through another instance on the same
    /// database (what a runner learns of a `jobctl add`, `trigger` or `drain`), and `run(onChange:)`
    /// returns once its task is cancelled.
    ///
    /// The feed waits on a real clock (its polls, where a backend polls, are 20 ms apart): only the
    /// database's timestamps come from the check's manual clock.
    static func changeFeed(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let other = try await h.open()
            let runner = try await h.register()
            let backend = h.backend
            let clock = h.clock
            let seen = Mailbox<FeedObservation>()
            let returned = Mailbox<Void>()
            let feed = backend.changeFeed(pollInterval: .milliseconds(20), clock: SystemJobClock())
            feed.arm()  // as a runner does before it waits
            let task = Task {
                await feed.run {
                    let jobs = (try? await backend.jobs(queue: nil)) ?? []
                    let drain = try? await backend.takeDrainOrder(runnerID: runner, now: clock.now())
                    seen.post(FeedObservation(jobs: Set(jobs.map(\.definition.name)), drain: drain))
                }
                returned.post(())
            }

            // A change committed before the feed took its starting point is not news to it, and the
            // protocol has no "started" signal: change until one change is reported.
            var started = false
            for attempt in 0..<20 where !started {
                let name = "warm-up-\(attempt)"
                _ = try await other.add(job(name), replace: false)
                started = await seen.first(within: .seconds(1)) { $0.jobs.contains(name) }
            }
            try #require(started, "no change by another instance was reported within 20 s")

            // From then on, every change is reported.
            _ = try await other.add(job("added-elsewhere"), replace: false)
            #expect(
                await seen.first(within: .seconds(10)) { $0.jobs.contains("added-elsewhere") },
                "a job added through another instance was not reported")
            _ = try await other.requestDrain(grace: .seconds(3))
            #expect(
                await seen.first(within: .seconds(10)) { $0.drain == DrainOrder(grace: .seconds(3)) },
                "a drain requested through another instance was not reported")

            task.cancel()
            #expect(await returned.next(within: .seconds(10)) != nil, "run(onChange:) did not return when cancelled")
        }
    }
}
