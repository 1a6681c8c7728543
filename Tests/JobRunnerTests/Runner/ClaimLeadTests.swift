import Synchronization
import Testing

@testable import JobRunner

/// A runner with a claim lead (``JobRunnerConfiguration/claimLead``) claims runs before their due
/// time and starts each at that time, never before; one cancelled while it waits never starts.
@Suite("Claim lead", .timeLimit(.minutes(1)))
struct ClaimLeadTests {
    static let due = newYear2026 + 10_000_000

    /// The clock's times at handler entry.
    final class Entries: Sendable {
        let times = Mutex<[UnixMicros]>([])
    }

    /// A job due at ``due`` whose handler records the clock's time at entry.
    static func setUp(
        _ store: JobStore, clock: ManualJobClock, entries: Entries, watchOtherProcesses: Bool = false
    ) async throws -> JobRunner {
        try await store.add(JobDefinition(name: "soon", action: .handler("entry"), schedule: .after(.seconds(10))))
        var registry = JobRegistry()
        registry.register("entry") { _ in
            let now = clock.now()
            entries.times.withLock { $0.append(now) }
        }
        var configuration = manualRunnerConfiguration()
        configuration.claimLead = .milliseconds(100)
        // Other processes' commits reach the runner through inotify, not through the manual clock.
        if watchOtherProcesses { configuration.changePollInterval = .milliseconds(40) }
        return JobRunner(
            store: store, registry: registry, configuration: configuration, clock: clock, logger: quietLogger)
    }

    /// Lets the runner wake half the lead before ``due`` and claim the run; returns once the run
    /// waits for its due time (with the heartbeat, the two sleepers on the clock), with its id.
    static func claimAhead(_ clock: ManualJobClock, _ events: EventLog) async throws -> Int64 {
        await clock.waitUntilSleeping(count: 2)
        #expect(clock.earliestDeadline == due - 50_000, "the loop wakes half the lead before the due time")
        clock.advance(to: due - 50_000)
        let claimed = await events.next { if case .claimed = $0 { true } else { false } }
        guard case .claimed(let runID, _) = claimed else { throw ClaimMissing() }
        await clock.waitUntilSleeping(count: 2)
        #expect(clock.earliestDeadline == due, "the run waits for its due time")
        return runID
    }

    struct ClaimMissing: Error {}

    @Test("a run claimed ahead starts at its due time; the loop wakes half the lead before it")
    func startsAtItsDueTime() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let entries = Entries()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let runner = try await Self.setUp(store, clock: clock, entries: entries)
            try await withRunner(runner) { events in
                let runID = try await Self.claimAhead(clock, events)
                #expect(entries.times.withLock { $0.isEmpty }, "the handler waits for the due time")
                let running = try #require(try await store.run(id: runID))
                #expect(running.outcome == .running)
                #expect(running.startedAt == Self.due)
                clock.advance(to: Self.due)
                #expect(await events.finished(1).first?.outcome == .ok)
            }
            #expect(entries.times.withLock { $0 } == [Self.due])
            let run = try #require(try await store.history(HistoryQuery(job: "soon")).first)
            #expect(run.scheduledFor == Self.due)
            #expect(run.startedAt == Self.due)
        }
    }

    @Test("a run cancelled while it waits for its due time is recorded interrupted, not started")
    func cancelledBeforeItsDueTime() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let entries = Entries()
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let runner = try await Self.setUp(store, clock: clock, entries: entries)
            try await withRunner(runner) { events in
                _ = try await Self.claimAhead(clock, events)
                runner.drain(grace: .zero)
                let finished = await events.finished(1)
                #expect(finished.first?.outcome == .interrupted)
            }
            #expect(entries.times.withLock { $0.isEmpty }, "the handler never ran")
            let run = try #require(try await store.history(HistoryQuery(job: "soon")).first)
            #expect(run.outcome == .interrupted)
            #expect(run.error?.contains("before its due time") == true)
        }
    }

    @Test("a run claimed ahead whose job is paused before its due time is recalled, not started; it runs once resumed")
    func recalledWhenPausedBeforeItsDueTime() async throws {
        let clock = ManualJobClock(now: newYear2026)
        let entries = Entries()
        try await withTemporaryDatabase(clock: clock) { store, path in
            let runner = try await Self.setUp(store, clock: clock, entries: entries, watchOtherProcesses: true)
            // The operator's connection: another process's commits are what wake a runner.
            let other = try await JobStore.open(path: path, clock: clock)
            try await withRunner(runner) { events in
                let runID = try await Self.claimAhead(clock, events)
                _ = try await other.pause("soon")
                let recalled = await events.finished(1)
                #expect(recalled.first?.outcome == .interrupted)
                #expect(entries.times.withLock { $0.isEmpty }, "the handler never ran")
                let run = try #require(try await store.run(id: runID))
                #expect(run.outcome == .interrupted)
                #expect(run.error?.contains("recalled before its due time, not started") == true, "\(run)")
                let job = try #require(try await store.job(named: "soon"))
                #expect(job.state == .paused)
                #expect(job.nextRunAt == Self.due, "the occurrence is kept for when the job is resumed")

                // Resumed before its due time, it is claimed ahead again and runs at its time, once.
                _ = try await other.resume("soon")
                let again = await events.next { if case .claimed = $0 { true } else { false } }
                guard case .claimed(let second, _) = again else { throw ClaimMissing() }
                #expect(second != runID)
                await clock.waitUntilSleeping(count: 2)
                clock.advance(to: Self.due)
                #expect(await events.finished(1).first?.outcome == .ok)
            }
            #expect(entries.times.withLock { $0 } == [Self.due])
            #expect(
                try await store.history(HistoryQuery(job: "soon")).map(\.outcome).sorted { $0.rawValue < $1.rawValue }
                    == [.interrupted, .ok])
        }
    }

    @Test("a run that has begun is not recalled: a pause lets it finish")
    func begunRunsAreNotRecalled() {
        let control = RunnerControl()
        #expect(control.begin(7))
        #expect(control.recall([7], reason: "test").isEmpty, "a run not in flight has no task to stop")
        let task = Task<Void, Never> {}
        control.track(8, task)
        control.track(9, task)
        #expect(control.waitingRunIDs == [8, 9])
        #expect(control.begin(8))
        #expect(control.waitingRunIDs == [9])
        #expect(control.recall([8, 9], reason: "paused") == [9], "8 has begun; 9 waits")
        #expect(!control.begin(9), "a recalled run must not start")
        #expect(control.fenceReason(9) == "paused")
        #expect(control.waitingRunIDs.isEmpty)
        control.untrack(8)
        control.untrack(9)
    }

    @Test("the lead is bounded by 1 s and an eighth of the lease; none by default on SQLite")
    func bounds() async throws {
        try await withTemporaryDatabase { store, _ in
            var configuration = manualRunnerConfiguration(lease: .seconds(4))
            let runner = { JobRunner(store: store, configuration: configuration, logger: quietLogger) }
            #expect(runner().claimLead(store.backend.defaultClaimLead) == .zero)
            configuration.claimLead = .seconds(5)
            #expect(runner().claimLead(.zero) == .milliseconds(500))
            configuration.lease = .seconds(60)
            #expect(runner().claimLead(.zero) == .seconds(1))
            configuration.claimLead = .milliseconds(-3)
            #expect(runner().claimLead(.milliseconds(100)) == .zero)
            configuration.claimLead = nil
            #expect(runner().claimLead(.milliseconds(100)) == .milliseconds(100))
        }
    }
}
