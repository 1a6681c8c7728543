import Foundation
import JobRunner
import TestSupport
import Testing

extension Reliability {
    /// Scenario 2 (guarantees 2 and 3): four runner processes with several workers each on one file.
    @Suite("2. contention")
    struct Contention {
        static let runners = 4
        static let workers = 4

        @Test(
            "4 runners × 4 workers drain one-shot jobs due at once: each claimed and run exactly once",
            .timeLimit(ChaosMode.timeLimit(short: 5))
        )
        func oneShotsDueAtOnce() async throws { try await Self.oneShotsDueAtOnce(on: .sqlite) }

        static func oneShotsDueAtOnce(on store: StoreKind) async throws {
            let total = ChaosMode.count(short: 1000, long: 10_000)
            try await Sandbox.with("contention-one-shots", store: store) { sandbox in
                let log = sandbox.root + "/witness.log"
                // Bulk set-up through the library (10,000 `jobctl add` processes would measure process start-up).
                // Every tenth job is a witness command, so executions are also counted outside the database.
                var definitions: [JobDefinition] = []
                var commandJobs: Set<String> = []
                for index in 0..<total {
                    let name = String(format: "one-%05d", index)
                    if index % 10 == 0 {
                        commandJobs.insert(name)
                        definitions.append(
                            JobDefinition(
                                name: name,
                                action: .command([sandbox.witnessPath, log], workingDirectory: sandbox.root),
                                schedule: .after(.zero)))
                    } else {
                        definitions.append(JobDefinition(name: name, action: .handler("tick"), schedule: .after(.zero)))
                    }
                }
                do {
                    try await sandbox.openStore().addMany(definitions)
                }

                let runners = try (0..<Self.runners).map { _ in
                    try sandbox.startRunner(["--concurrency", "\(Self.workers)"])
                }
                for runner in runners { try await runner.waitRegistered() }
                try await waitUntil(
                    "all \(total) one-shot jobs are done",
                    timeout: ChaosMode.span(short: .seconds(180), long: .seconds(900)),
                    interval: .milliseconds(100)
                ) {
                    try sandbox.probe().jobCount(state: "done") == total
                }
                try await sandbox.drainAll(runners)

                let probe = try sandbox.probe()
                let runs = try probe.runs()
                var runsOfJob: [Int64: Int] = [:]
                for run in runs { if let job = run.jobID { runsOfJob[job, default: 0] += 1 } }
                let notOnce = try probe.jobs().map { (job: $0.name, runs: runsOfJob[$0.id, default: 0]) }
                    .filter { $0.runs != 1 }
                #expect(notOnce.isEmpty, "jobs not run exactly once: \(notOnce.prefix(10))")
                let notOK = runs.filter { $0.outcome != "ok" }.count
                #expect(notOK == 0, "runs that did not end ok")
                let firstStart = runs.map(\.startedAt).min()
                let lastFinish = runs.compactMap(\.finishedAt).max()
                let seconds = Double((lastFinish ?? 0) - (firstStart ?? 0)) / 1e6
                let invariants = try sandbox.expectInvariants(acknowledged: Set(definitions.map(\.name)))
                let witness = try sandbox.expectWitness(log: log, jobs: commandJobs)
                #expect(witness.executions == commandJobs.count, "each command job executed once")
                Figures.report(
                    store.figures("2a contention: one-shots due at once"),
                    [
                        "jobs": total, "runners": Self.runners, "workers_per_runner": Self.workers,
                        "runs": Int(invariants.totalRuns), "double_claims": notOnce.count,
                        "lost": notOnce.count + witness.lost.count, "duplicated": witness.duplicated.count,
                        "command_executions": witness.executions, "seconds": seconds,
                        "runs_per_second": seconds > 0 ? Double(total) / seconds : 0,
                        "runs_per_runner": Self.runsPerRunner(runs),
                        "violations": invariants.violations.count,
                    ])
            }
        }

        @Test(
            "4 runners × 4 workers on 20 jobs every 5 ms: never two runs of a job at once, nothing recorded twice",
            .timeLimit(ChaosMode.timeLimit(short: 5))
        )
        func periodicJobsUnderContention() async throws { try await Self.periodicJobsUnderContention(on: .sqlite) }

        static func periodicJobsUnderContention(on store: StoreKind) async throws {
            let duration = ChaosMode.span(short: .seconds(6), long: .seconds(30))
            try await Sandbox.with("contention-periodic", store: store) { sandbox in
                let log = sandbox.root + "/witness.log"
                var witnessed: Set<String> = []
                var acknowledged: Set<String> = []
                for index in 0..<10 {
                    try await sandbox.jobctlOK(["add", "tick-\(index)", "--every", "5ms", "--handler", "tick"])
                    try await sandbox.addWitnessJob("cmd-\(index)", schedule: ["--every", "5ms"], log: log)
                    witnessed.insert("cmd-\(index)")
                    acknowledged.formUnion(["tick-\(index)", "cmd-\(index)"])
                }
                let runners = try (0..<Self.runners).map { _ in
                    try sandbox.startRunner(["--concurrency", "\(Self.workers)"])
                }
                for runner in runners { try await runner.waitRegistered() }
                let start = wallClockMicros()
                // The length of the contention is the scenario's input, not synchronisation.
                try await Task.sleep(for: duration)
                try await sandbox.drainAll(runners)
                let end = wallClockMicros()

                let probe = try sandbox.probe()
                for (job, runs) in try probe.runCounts().sorted(by: { $0.key < $1.key }) {
                    #expect(runs > 0, "job \(job) never ran")
                }
                let runs = try probe.runs()
                let busyWarnings = runners.map { $0.child.stderr.components(separatedBy: "locked").count - 1 }
                    .reduce(0, +)
                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                let seconds = Double(end - start) / 1e6
                let slots = Int(seconds * 1000 / 5) * 20
                Figures.report(
                    store.figures("2b contention: 20 periodic jobs every 5ms"),
                    [
                        "runners": Self.runners, "workers_per_runner": Self.workers, "seconds": seconds,
                        "runs": Int(invariants.totalRuns), "runs_per_second": Double(invariants.totalRuns) / seconds,
                        "slots_due": slots, "slots_coalesced": slots - Int(invariants.totalRuns),
                        "command_executions": witness.executions, "overlapping": witness.overlapping.count,
                        "duplicated": witness.duplicated.count, "lost": witness.lost.count,
                        "busy_warnings": busyWarnings,
                        "runs_per_runner": Self.runsPerRunner(runs),
                        "violations": invariants.violations.count,
                    ])
            }
        }

        /// How many of `runs` each runner claimed, in the order the runners registered (`12/9/11/8`).
        static func runsPerRunner(_ runs: [StoredRun]) -> String {
            Dictionary(grouping: runs, by: \.runnerID).sorted { ($0.key ?? .min) < ($1.key ?? .min) }
                .map { "\($0.value.count)" }.joined(separator: "/")
        }
    }
}
