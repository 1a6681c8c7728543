import Synchronization
import Testing

@testable import JobRunner

extension BackendConformance {
    /// Several runners claim concurrently, round after round, for many due jobs: every occurrence is
    /// claimed exactly once, and no job is claimed again while its run is in flight.
    ///
    /// With two instances the runners are split between two connections, as runners in two processes
    /// would be: the backend's own locking, not one actor's serial calls, must keep the claims apart.
    static func claimOncePerOccurrence(_ factory: BackendFactory, instances: Int) async throws {
        try await withHarness(factory) { h in
            let jobCount = 30
            let rounds = 3
            let runnerCount = 4
            let tasksPerRunner = 2
            for index in 0..<jobCount { try await h.add(job("job-\(index)")) }
            var backends = [h.backend]
            for _ in 1..<instances { backends.append(try await h.open()) }
            var runners: [(id: Int64, backend: any JobStoreBackend)] = []
            for index in 0..<runnerCount {
                let backend = backends[index % backends.count]
                runners.append((try await h.register(on: backend, pid: Int32(2000 + index)), backend))
            }
            let ledger = ClaimLedger()
            for round in 1...rounds {
                let slot = start + s(60) * Int64(round)  // every job's occurrence of this round
                h.advance(to: slot)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for runner in runners {
                        for _ in 0..<tasksPerRunner {
                            group.addTask {
                                while true {
                                    let batch = try await h.claim(
                                        runner.id, on: runner.backend, slots: Int.random(in: 1...3))
                                    #expect(batch.runnerAlive)
                                    // Nothing more can fall due this round: an empty claim means done.
                                    if batch.claims.isEmpty { return }
                                    ledger.claimed(batch.claims, by: runner.id)
                                    for claim in batch.claims {
                                        #expect(claim.occurrence == slot, "\(claim.jobName) claimed for another slot")
                                        #expect(claim.attempt == 1)
                                        #expect(!claim.triggered)
                                    }
                                    await Task.yield()  // the runs stay in flight while others claim
                                    let runs = batch.claims.map {
                                        FinishedRun($0, runnerID: runner.id, outcome: .ok, finishedAt: slot)
                                    }
                                    let recorded = try await runner.backend.finish(runs)
                                    #expect(recorded == Array(repeating: true, count: runs.count))
                                    ledger.finished(batch.claims)
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(ledger.claims(at: slot) == jobCount, "round \(round): every job claimed once")
            }
            #expect(ledger.violations.isEmpty, "\(ledger.violations)")
            #expect(ledger.total == jobCount * rounds)
            let status = try await h.backend.status(perJobLimit: nil)
            #expect(status.runsByOutcome[.ok] == Int64(jobCount * rounds))
            #expect(status.inFlight == 0)
            for record in try await h.backend.jobs(queue: nil) {
                #expect(record.runCount == Int64(rounds), "\(record.definition.name)")
                #expect(record.runningRunID == nil)
                #expect(record.occurrenceAt == start + s(60) * Int64(rounds + 1))
            }
            let history = try await h.backend.history(HistoryQuery(limit: 10_000))
            #expect(history.count == jobCount * rounds)
            #expect(Set(history.map(\.id)).count == history.count, "run ids are unique")
        }
    }

    /// A claim takes only jobs of the queues it serves and of the handlers it knows.
    static func claimRespectsScope(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("mail", queue: "mail", initialDelay: .zero))
            var unknown = job("unknown-handler", initialDelay: .zero)
            unknown.action = .handler("handled-elsewhere")
            try await h.add(unknown)
            try await h.add(job("plain", initialDelay: .zero))
            let runner = try await h.register()

            let elsewhere = try await h.claim(runner, queues: ["reports"])
            #expect(elsewhere.claims.isEmpty)
            let mail = try await h.claim(runner, queues: ["mail"])
            #expect(mail.claims.map(\.jobName) == ["mail"])
            let rest = try await h.claim(runner)
            #expect(rest.claims.map(\.jobName) == ["plain"], "a job with an unknown handler is left for others")
            let other = try await h.claim(runner, handlers: ["handled-elsewhere"])
            #expect(other.claims.map(\.jobName) == ["unknown-handler"])
            #expect(try await h.job("unknown-handler").runningRunID == other.claims.first?.runID)
        }
    }
}

extension BackendConformance {
    /// Every claim of the concurrency check, and what was wrong with them.
    final class ClaimLedger: Sendable {
        private struct State {
            var inFlight: [Int64: Int64] = [:]  // job id -> run id
            var seen: Set<String> = []  // "job id@occurrence"
            var perSlot: [UnixMicros: Int] = [:]
            var runIDs: Set<Int64> = []
            var total = 0
            var violations: [String] = []
        }

        private let state = Mutex(State())

        func claimed(_ claims: [Claim], by runner: Int64) {
            state.withLock { s in
                for claim in claims {
                    if let other = s.inFlight[claim.jobID] {
                        s.violations.append("\(claim.jobName) claimed by runner \(runner) while run \(other) in flight")
                    }
                    s.inFlight[claim.jobID] = claim.runID
                    if !s.seen.insert("\(claim.jobID)@\(claim.occurrence)").inserted {
                        s.violations.append("\(claim.jobName) occurrence \(claim.occurrence) claimed twice")
                    }
                    if !s.runIDs.insert(claim.runID).inserted {
                        s.violations.append("run id \(claim.runID) handed out twice")
                    }
                    s.perSlot[claim.occurrence, default: 0] += 1
                    s.total += 1
                }
            }
        }

        /// Called once their finish has committed.
        func finished(_ claims: [Claim]) {
            state.withLock { s in
                for claim in claims { s.inFlight[claim.jobID] = nil }
            }
        }

        func claims(at slot: UnixMicros) -> Int { state.withLock { $0.perSlot[slot, default: 0] } }

        var total: Int { state.withLock { $0.total } }

        var violations: [String] { state.withLock { $0.violations } }
    }
}
