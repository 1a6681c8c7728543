import Synchronization
import Testing

@testable import JobRunner

extension BackendConformance {
    /// 2026-01-01T00:00:00Z: where every check's clock starts.
    static let start: UnixMicros = 1_767_225_600_000_000
    /// The handler every check's jobs name, and every claim scope serves.
    static let handler = "conformance"
    /// The misfire grace of claims unless a check says otherwise.
    static let grace: Duration = .seconds(1)

    /// `seconds` as microseconds.
    static func s(_ seconds: Int64) -> UnixMicros { seconds * 1_000_000 }

    /// A host with a boot id and a PID namespace of its own.
    static func host(_ name: String, boot: String = "boot-1", namespace: String = "pid:[4026531836]")
        -> HostIdentity
    {
        HostIdentity(name: name, bootID: boot, pidNamespace: namespace)
    }

    /// A handler job of this suite.
    static func job(
        _ name: String,
        queue: String = "default",
        schedule: Schedule = .every(.seconds(60)),
        initialDelay: Duration? = nil,
        retry: RetryPolicy = .none,
        misfire: MisfirePolicy = .coalesce
    ) -> JobDefinition {
        JobDefinition(
            name: name, queue: queue, action: .handler(handler), schedule: schedule, initialDelay: initialDelay,
            retry: retry, misfire: misfire)
    }

    /// Runs `body` on a fresh database of `factory` whose clock reads ``start``, and removes the
    /// database afterwards, whatever happened.
    static func withHarness(
        _ factory: BackendFactory,
        _ body: (Harness) async throws -> Void
    ) async throws {
        let clock = ManualJobClock(now: start)
        let database = try await factory.makeDatabase(clock)
        do {
            let harness = Harness(clock: clock, database: database, backend: try await database.open())
            try await body(harness)
        } catch {
            try? await database.remove()
            throw error
        }
        try await database.remove()
    }
}

extension BackendConformance {
    /// A fresh database, its clock, and a first backend instance on it, with the runner's calls in short.
    struct Harness: Sendable {
        let clock: ManualJobClock
        let database: ConformanceDatabase
        /// The first instance; ``open()`` makes more.
        let backend: any JobStoreBackend

        var now: UnixMicros { clock.now() }

        /// Another backend instance on the same database, as another process would have.
        func open() async throws -> any JobStoreBackend { try await database.open() }

        func advance(to instant: UnixMicros) { clock.advance(to: instant) }

        func advance(by duration: Duration) { clock.advance(by: duration) }

        @discardableResult
        func add(_ definition: JobDefinition) async throws -> JobRecord {
            try await backend.add(definition, replace: false)
        }

        /// The job, which must exist.
        func job(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JobRecord {
            try #require(await backend.job(named: name), "job \(name) is missing", sourceLocation: sourceLocation)
        }

        /// The run, which must exist.
        func run(_ id: Int64, sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunRecord {
            try #require(await backend.run(id: id), "run \(id) is missing", sourceLocation: sourceLocation)
        }

        /// Registers a runner now.
        func register(
            on instance: (any JobStoreBackend)? = nil,
            host: HostIdentity = BackendConformance.host("conformance-host"),
            pid: Int32 = 1000,
            lease: Duration = .seconds(3600)
        ) async throws -> Int64 {
            let registration = RunnerRegistration(host: host, pid: pid, lease: lease, queues: nil, concurrency: 8)
            return try await (instance ?? backend).registerRunner(registration, now: now)
        }

        /// Claims as a runner with `slots` free slots does, at the clock's time.
        func claim(
            _ runnerID: Int64,
            on instance: (any JobStoreBackend)? = nil,
            slots: Int = 10,
            queues: [String]? = nil,
            handlers: [String] = [BackendConformance.handler],
            grace: Duration = BackendConformance.grace,
            lead: Duration = .zero
        ) async throws -> ClaimBatch {
            let scope = ClaimScope(
                queues: queues, handlers: handlers, slots: slots, misfireGrace: grace.microseconds,
                lead: lead.microseconds)
            return try await (instance ?? backend).claim(runnerID: runnerID, clock: clock, scope: scope)
        }

        /// Claims and requires exactly one run (with room for more, unless `slots` says otherwise).
        func claimOne(
            _ runnerID: Int64,
            on instance: (any JobStoreBackend)? = nil,
            slots: Int = 10,
            queues: [String]? = nil,
            grace: Duration = BackendConformance.grace,
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws -> Claim {
            let batch = try await claim(runnerID, on: instance, slots: slots, queues: queues, grace: grace)
            #expect(batch.runnerAlive, sourceLocation: sourceLocation)
            try #require(batch.claims.count == 1, "claimed \(batch.claims.count) runs", sourceLocation: sourceLocation)
            return batch.claims[0]
        }

        /// Records one run's end, finished now unless said otherwise; returns whether it was recorded.
        func finish(
            _ claim: Claim,
            runner: Int64,
            on instance: (any JobStoreBackend)? = nil,
            outcome: RunOutcome = .ok,
            at finishedAt: UnixMicros? = nil,
            error: String? = nil
        ) async throws -> Bool {
            let run = FinishedRun(
                claim, runnerID: runner, outcome: outcome, finishedAt: finishedAt ?? now, error: error)
            let recorded = try await (instance ?? backend).finish([run])
            return recorded == [true]
        }

        /// A runner elsewhere (another host), for which no pid on this host means anything.
        func rescue(
            selfID: Int64? = nil,
            on instance: (any JobStoreBackend)? = nil,
            local: LocalProcesses? = nil
        ) async throws -> [Int64] {
            let elsewhere = LocalProcesses(
                host: BackendConformance.host("rescuer", boot: "boot-of-rescuer"),
                isAlive: { _ in false },
                killLeftovers: { _, _, _ in Issue.record("killLeftovers called on another host") }
            )
            return try await (instance ?? backend).rescueOrphans(selfID: selfID, now: now, local: local ?? elsewhere)
        }

        /// Live runners by id, with their states.
        func liveRunnerStates() async throws -> [Int64: RunnerState] {
            Dictionary(uniqueKeysWithValues: try await backend.liveRunners().map { ($0.id, $0.state) })
        }

        /// Any runner by id (newest 100).
        func runner(_ id: Int64, sourceLocation: SourceLocation = #_sourceLocation) async throws -> RunnerRecord {
            try #require(
                await backend.runners(limit: 100).first { $0.id == id }, "runner \(id) is missing",
                sourceLocation: sourceLocation)
        }
    }

    /// What `killLeftovers` was asked to kill, for checks of rescue on the runner's own host.
    final class KillRecorder: Sendable {
        struct Kill: Equatable {
            var runID: Int64
            var pgid: Int32?
            var leaderStart: Int64?
        }

        private let kills = Mutex<[Kill]>([])

        var recorded: [Kill] { kills.withLock { $0 } }

        /// This host as `host`, with `isAlive` for its pids, recording kills.
        func local(_ host: HostIdentity, isAlive: @escaping @Sendable (Int32) -> Bool) -> LocalProcesses {
            LocalProcesses(
                host: host, isAlive: isAlive,
                killLeftovers: { runID, pgid, leaderStart in
                    self.kills.withLock { $0.append(Kill(runID: runID, pgid: pgid, leaderStart: leaderStart)) }
                })
        }
    }

    /// Values handed from one task to another, each wait bounded by a deadline: what the checks wait on
    /// instead of sleeping. One waiter at a time; values wait in order until taken.
    final class Mailbox<Value: Sendable>: Sendable {
        private struct State {
            var values: [Value] = []
            var waiter: (id: Int, continuation: CheckedContinuation<Value?, Never>)?
            var expired: Set<Int> = []
            var nextID = 0
        }

        private let state = Mutex(State())

        func post(_ value: Value) {
            let waiter = state.withLock { s -> CheckedContinuation<Value?, Never>? in
                if let waiter = s.waiter {
                    s.waiter = nil
                    return waiter.continuation
                }
                s.values.append(value)
                return nil
            }
            waiter?.resume(returning: value)
        }

        /// The next value, or nil if none came within `timeout`.
        func next(within timeout: Duration) async -> Value? {
            let id = state.withLock { s -> Int in
                s.nextID += 1
                return s.nextID
            }
            let timer = Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                self.expire(id)
            }
            defer { timer.cancel() }
            return await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
                let ready = state.withLock { s -> Value?? in
                    if !s.values.isEmpty { return .some(s.values.removeFirst()) }
                    if s.expired.remove(id) != nil { return .some(nil) }
                    precondition(s.waiter == nil, "one waiter at a time")
                    s.waiter = (id, continuation)
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }

        /// Takes values until one satisfies `predicate`; false if none did within `timeout`.
        func first(within timeout: Duration, where predicate: (Value) -> Bool) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                guard let value = await next(within: deadline - ContinuousClock.now) else { return false }
                if predicate(value) { return true }
            }
            return false
        }

        private func expire(_ id: Int) {
            let waiter = state.withLock { s -> CheckedContinuation<Value?, Never>? in
                if let waiter = s.waiter, waiter.id == id {
                    s.waiter = nil
                    return waiter.continuation
                }
                s.expired.insert(id)  // the timer won the race against the wait's registration
                return nil
            }
            waiter?.resume(returning: nil)
        }
    }

    /// A flag one task sets and another reads.
    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)

        var isSet: Bool { value.load(ordering: .acquiring) }

        func set() { value.store(true, ordering: .releasing) }
    }
}
