import Foundation
import JobRunner
import TestSupport
import Testing

extension Reliability {
    /// Scenario 7 (guarantee 5): the wall clock jumps +2 h and −1 h under a running runner (in-process,
    /// with the injected clock, so every expectation is exact).
    @Suite("7. clock jumps")
    struct ClockJumps {
        static let start: UnixMicros = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z, on a 10-minute boundary
        static let minute: Int64 = 60_000_000

        /// The jobs, with the schedule slots (minutes after `start`) each must run, step by step.
        struct Case {
            var name: String
            var definition: JobDefinition
            var expected: [[Int64]]  // per step
        }

        static func cases() throws -> [Case] {
            func every(_ name: String, _ minutes: Int64, _ misfire: MisfirePolicy) -> JobDefinition {
                JobDefinition(
                    name: name, action: .handler("tick"), schedule: .every(.seconds(minutes * 60)), misfire: misfire)
            }
            func cron(_ name: String, _ misfire: MisfirePolicy) throws -> JobDefinition {
                JobDefinition(
                    name: name, action: .handler("tick"), schedule: try .cron("*/10 * * * *", timeZone: "UTC"),
                    misfire: misfire)
            }
            func once(_ name: String, at minute: Int64) -> JobDefinition {
                JobDefinition(name: name, action: .handler("tick"), schedule: .at(start + minute * Self.minute))
            }
            // Steps: 1. to +10m; 2. jump +2h (to +130m); 3. jump −1h (to +70m); 4. forward to +130m; 5. to +140m.
            return [
                Case(
                    name: "coalesce-10m", definition: every("coalesce-10m", 10, .coalesce),
                    expected: [[10], [130], [], [], [140]]),
                Case(
                    name: "skip-10m", definition: every("skip-10m", 10, .skip), expected: [[10], [130], [], [], [140]]),
                Case(
                    name: "catch-up-10m", definition: every("catch-up-10m", 10, .catchUp),
                    expected: [[10], Array(stride(from: 20, through: 130, by: 10)), [], [], [140]]),
                // 120 missed slots: only the 100 most recent run (the documented bound).
                Case(
                    name: "catch-up-1m", definition: every("catch-up-1m", 1, .catchUp),
                    expected: [Array(1...10), Array(31...130), [], [], Array(131...140)]),
                Case(
                    name: "coalesce-7m", definition: every("coalesce-7m", 7, .coalesce),
                    expected: [[7], [126], [], [], [140]]),
                Case(name: "skip-7m", definition: every("skip-7m", 7, .skip), expected: [[], [], [], [], [140]]),
                Case(
                    name: "cron-coalesce", definition: try cron("cron-coalesce", .coalesce),
                    expected: [[10], [130], [], [], [140]]),
                Case(
                    name: "cron-catch-up", definition: try cron("cron-catch-up", .catchUp),
                    expected: [[10], Array(stride(from: 20, through: 130, by: 10)), [], [], [140]]),
                Case(name: "once-100m", definition: once("once-100m", at: 100), expected: [[], [100], [], [], []]),
                Case(name: "once-135m", definition: once("once-135m", at: 135), expected: [[], [], [], [], [135]]),
            ]
        }

        @Test(
            "jumps of +2 h and −1 h: each misfire policy as documented, catch-up bounded, nothing early",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func clockJumps() async throws { try await Self.clockJumps(on: .sqlite) }

        static func clockJumps(on store: StoreKind) async throws {
            let cases = try Self.cases()
            try await Sandbox.with("clock-jumps", store: store) { sandbox in
                let clock = ManualJobClock(now: Self.start)
                let jobStore = try await sandbox.openStore(clock: clock)
                try await jobStore.addMany(cases.map(\.definition))
                let runner = JobRunner(
                    store: jobStore,
                    configuration: JobRunnerConfiguration(
                        concurrency: 4, heartbeatInterval: .seconds(3_600_000), lease: .seconds(7_200_000),
                        changePollInterval: nil, misfireGrace: .seconds(1), host: "reliability-host"),
                    clock: clock, logger: quietLogger)
                let events = EventRecorder(runner)
                let running = Task { try await runner.run() }
                defer { running.cancel() }

                let targets: [Int64] = [10, 130, 70, 130, 140]
                let probe = try sandbox.probe()
                var seen = 0
                var stormLimitRespected = true
                for (step, target) in targets.enumerated() {
                    clock.advance(to: Self.start + target * Self.minute)
                    try await settle(events, clock: clock, step: step)
                    let runs = try probe.runs(after: Int64(seen))
                    seen = Int(try probe.lastRunID())
                    for job in cases {
                        let slots = runs.filter { $0.job == job.name }.map {
                            ($0.scheduledFor - Self.start) / Self.minute
                        }
                        #expect(
                            slots == job.expected[step],
                            "step \(step + 1) (clock at +\(target)m): \(job.name) ran for slots \(slots), expected \(job.expected[step])"
                        )
                        if slots.count > MisfirePolicy.catchUpLimit { stormLimitRespected = false }
                    }
                    for run in runs {
                        #expect(run.startedAt >= run.scheduledFor, "run \(run.id) of \(run.job) started early")
                        #expect(run.startedAt == clock.now(), "run \(run.id) started at the current time")
                    }
                }
                runner.drain()
                try await running.value
                let invariants = try sandbox.expectInvariants(acknowledged: Set(cases.map(\.name)))
                Figures.report(
                    store.figures("7 clock jumps"),
                    [
                        "jumps": "+2h,-1h", "runs": Int(invariants.totalRuns),
                        "catch_up_bound_respected": stormLimitRespected, "violations": invariants.violations.count,
                    ])
            }
        }

        /// Waits until the runner has done everything due at the clock's current time: as many runs
        /// finished as claimed, and its last word is that it is idle until a time still to come.
        private static func settle(_ events: EventRecorder, clock: ManualJobClock, step: Int) async throws {
            try await waitUntil("the runner settles after step \(step + 1)", timeout: .seconds(30)) {
                let all = events.all
                guard case .idle(let nextDue)? = all.last else { return false }
                let claimed = all.filter(EventRecorder.isClaimed).count
                let finished = all.filter(EventRecorder.isFinished).count
                return claimed == finished && (nextDue.map { $0 > clock.now() } ?? true)
                    && (clock.earliestDeadline.map { $0 > clock.now() } ?? true)
            }
        }
    }
}
