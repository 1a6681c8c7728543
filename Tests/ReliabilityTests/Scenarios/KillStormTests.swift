import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    /// Scenario 1 (guarantees 1–4): the runner is killed with SIGKILL at random moments and restarted.
    @Suite("1. kill -9 storm")
    struct KillStorm {
        @Test(
            "a runner killed at random moments loses nothing, runs nothing twice, and records what it abandoned",
            .timeLimit(ChaosMode.timeLimit(short: 5))
        )
        func killStorm() async throws { try await Self.killStorm(on: .sqlite) }

        static func killStorm(on store: StoreKind) async throws {
            let kills = ChaosMode.count(short: 50, long: 500)
            let seed = ChaosMode.seed()
            var random = SeededRandom(seed: seed)
            print(
                "[reliability] kill storm on \(store): \(kills) kills, seed \(seed) (RELIABILITY_SEED=\(seed) replays it)"
            )
            try await Sandbox.with("kill-storm", store: store) { sandbox in
                let log = sandbox.root + "/witness.log"
                var acknowledged: Set<String> = []
                for index in 0..<10 {
                    try await sandbox.jobctlOK(["add", "tick-\(index)", "--every", "10ms", "--handler", "tick"])
                    acknowledged.insert("tick-\(index)")
                }
                let commands: [(name: String, schedule: [String], seconds: Double, exit: Int, extra: [String])] = [
                    ("cmd-rate", ["--every", "50ms"], 0.03, 0, []),
                    ("cmd-slow", ["--every", "100ms"], 0.08, 0, []),
                    ("cmd-fixed-delay", ["--every", "200ms", "--fixed-delay"], 0.15, 0, []),
                    ("cmd-catch-up", ["--every", "150ms", "--misfire", "catch-up"], 0.02, 0, []),
                    ("cmd-skip", ["--every", "120ms", "--misfire", "skip"], 0.04, 0, []),
                    ("cmd-failing", ["--every", "300ms"], 0.05, 1, ["--retries", "2", "--backoff", "50ms"]),
                ]
                for command in commands {
                    try await sandbox.addWitnessJob(
                        command.name, schedule: command.schedule, log: log, seconds: command.seconds,
                        exitStatus: command.exit, extra: command.extra)
                    acknowledged.insert(command.name)
                }

                var killedRunners: Set<Int64> = []
                var startupKills = 0
                var resumedAfterAutoPause = 0
                let started = ContinuousClock.now
                for _ in 0..<kills {
                    let runner = try sandbox.startRunner(["--concurrency", "8"])
                    if random.chance(0.15) {
                        // The kill moment is the scenario's input: here, during start-up (before or while it
                        // registers, migrates and rescues).
                        try await Task.sleep(for: .randomMilliseconds(0...40, using: &random))
                        startupKills += 1
                    } else {
                        let id = try await runner.waitRegistered()
                        killedRunners.insert(id)
                        // The kill moment is the scenario's input: a random time into the runner's work.
                        try await Task.sleep(for: .randomMilliseconds(0...400, using: &random))
                    }
                    runner.child.signal(SIGKILL)
                    let status = try await runner.child.wait(timeout: .seconds(10))
                    if status != .killed(SIGKILL) {
                        Issue.record("the runner ended by itself before the kill: \(runner.child.transcript())")
                    }
                    // A job whose runs keep dying with the runner is paused by the product (guarantee 5);
                    // resume it, as an operator would, so the storm keeps exercising it.
                    resumedAfterAutoPause += try await sandbox.resumeJobsPausedByAbandonment()
                }
                let stormDuration = ContinuousClock.now - started

                // A last runner rescues what the last kill left behind, runs every job a few more times,
                // and is drained.
                let final = try await sandbox.startRegisteredRunner(["--concurrency", "8"])
                let finalID = try #require(try final.runnerID())
                let baseline = try sandbox.runCounts()
                try await waitUntil(
                    "the last runner rescued every orphan and ran every job again", timeout: .seconds(90)
                ) {
                    // The rescue of the last kill's runs may complete a streak of three: resume that job too.
                    resumedAfterAutoPause += try await sandbox.resumeJobsPausedByAbandonment()
                    let orphans = try sandbox.probe().runsInFlight(notOf: finalID)
                    let counts = try sandbox.runCounts()
                    return orphans == 0 && baseline.allSatisfy { counts[$0.key, default: 0] >= $0.value + 2 }
                }
                try await sandbox.drainAll([final])

                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                let witness = try sandbox.expectWitness(log: log, jobs: Set(commands.map(\.name)))

                // Abandoned runs are recorded as such (with the reason) and their jobs rescheduled.
                let probe = try sandbox.probe()
                let runs = try probe.runs()
                let abandoned = try Self.abandonedRuns(runs, jobs: probe.jobs())
                for (run, jobState, laterRuns) in abandoned {
                    #expect(
                        run.error?.contains("died") == true,
                        "abandoned run \(run.id) says why: \(String(describing: run.error))")
                    #expect(
                        laterRuns > 0 || jobState == "paused",
                        "abandoned run \(run.id) of \(run.job) was not rescheduled (job \(jobState))")
                }
                let killedWithRuns = Set(runs.filter { $0.outcome == "abandoned" }.compactMap(\.runnerID)).count
                let runners = Set(try probe.runners().map(\.id))
                let interruptedByKill = runs.filter { run in
                    run.outcome == "interrupted" && run.runnerID.map { runners.contains($0) && $0 != finalID } == true
                }.count
                #expect(interruptedByKill == 0, "a SIGKILLed runner cannot have recorded runs as interrupted")
                if ChaosMode.isLong {
                    #expect(abandoned.count > 0, "500 kills should have hit runs in flight")
                }

                Figures.report(
                    store.figures("1 kill -9 storm"),
                    [
                        "kills": kills, "kills_during_startup": startupKills,
                        "kills_with_runs_in_flight": Int(killedWithRuns), "runs": Int(invariants.totalRuns),
                        "ok": Int(invariants.runs("ok")), "abandoned": abandoned.count,
                        "failed": Int(invariants.runs("failed")),
                        "command_executions": witness.executions, "reexecuted_after_kill": witness.reexecutions,
                        "auto_paused_then_resumed": resumedAfterAutoPause, "lost": witness.lost.count,
                        "duplicated": witness.duplicated.count, "overlapping": witness.overlapping.count,
                        "unexpected": witness.unexpected.count, "violations": invariants.violations.count,
                        "seconds": stormDuration.seconds, "seed": "\(seed)",
                    ])
                #expect(killedRunners.count + startupKills == kills)
            }
        }

        /// The abandoned runs of the jobs still defined, each with its job's state and how many runs of
        /// its job came after it (`runs` oldest first).
        static func abandonedRuns(
            _ runs: [StoredRun], jobs: [StoredJob]
        ) -> [(run: StoredRun, jobState: String, laterRuns: Int)] {
            let state = Dictionary(uniqueKeysWithValues: jobs.map { ($0.id, $0.state) })
            var runsOfJob: [Int64: Int] = [:]
            for run in runs { if let job = run.jobID { runsOfJob[job, default: 0] += 1 } }
            var seenOfJob: [Int64: Int] = [:]
            var abandoned: [(run: StoredRun, jobState: String, laterRuns: Int)] = []
            for run in runs {
                guard let job = run.jobID else { continue }
                seenOfJob[job, default: 0] += 1
                guard run.outcome == "abandoned", let jobState = state[job] else { continue }
                abandoned.append((run, jobState, runsOfJob[job, default: 0] - seenOfJob[job, default: 0]))
            }
            return abandoned
        }
    }
}
