import Foundation
import JobRunner
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    /// Scenario 4 (guarantee 4): a runner frozen with SIGSTOP in the middle of a run, past its lease.
    @Suite("4. pause past the lease")
    struct PausedRunner {
        /// `jobctl run` uses the library's default lease.
        static let lease: Duration = .seconds(10)

        @Test(
            "a runner stopped past its lease is rescued by another, and its late completion changes nothing",
            .timeLimit(ChaosMode.timeLimit(short: 4))
        )
        func pausedPastTheLease() async throws { try await Self.pausedPastTheLease(on: .sqlite) }

        static func pausedPastTheLease(on store: StoreKind) async throws {
            let rounds = ChaosMode.count(short: 1, long: 3)
            for round in 1...rounds {
                try await Sandbox.with("paused-runner", store: store) { sandbox in
                    try await pauseOnce(sandbox, round: round)
                }
            }
        }

        private static func pauseOnce(_ sandbox: Sandbox, round: Int) async throws {
            let log = sandbox.root + "/witness.log"
            // The victim is in flight when its runner is frozen; its command (own process group, so
            // not frozen) ends during the pause, and the frozen runner learns of it only on SIGCONT.
            try await sandbox.addWitnessJob(
                "victim", schedule: ["--every", "3s", "--delay", "0s"], log: log, seconds: 1)
            var witnessed: Set<String> = ["victim"]
            var acknowledged: Set<String> = ["victim"]
            // Work that is always due, so that both runners have something to claim at every moment,
            // including the moment the frozen one wakes up.
            for index in 0..<3 {
                try await sandbox.addWitnessJob("busy-\(index)", schedule: ["--every", "50ms"], log: log)
                try await sandbox.jobctlOK(["add", "tick-\(index)", "--every", "20ms", "--handler", "tick"])
                witnessed.insert("busy-\(index)")
                acknowledged.formUnion(["busy-\(index)", "tick-\(index)"])
            }

            let frozen = try await sandbox.startRegisteredRunner(["--concurrency", "4"])
            let frozenID = try await frozen.waitRegistered()
            // Freeze it in the middle of a run (claimed by it, its command begun), but not inside a write
            // transaction: a process frozen while it holds SQLite's write lock blocks every writer, the rescuer
            // included, until it is thawed. No runner can be rescued from that (see RELIABILITY.md); so if the
            // freeze lands inside one, thaw at once and try again at the victim's next run.
            var victimRun: Int64 = 0
            var frozeInsideTransaction = 0
            while true {
                victimRun = try await waitFor(
                    "the first runner is in the middle of the victim's run", timeout: .seconds(30)
                ) { () -> Int64? in
                    guard let id = try sandbox.probe().runningRuns(of: "victim", runner: frozenID).first?.id else {
                        return nil
                    }
                    return WitnessLog(path: log).executions.contains { $0.runID == id } ? id : nil
                }
                frozen.child.signal(SIGSTOP)
                try await waitUntil("the runner has stopped", timeout: .seconds(10), interval: .milliseconds(1)) {
                    frozen.child.isStopped
                }
                guard try sandbox.probe().isWriteLocked() else { break }
                frozen.child.signal(SIGCONT)
                frozeInsideTransaction += 1
                try await waitUntil("the victim's run ends", timeout: .seconds(30)) {
                    try sandbox.probe().run(id: victimRun)?.outcome != "running"
                }
            }
            let stoppedAt = ContinuousClock.now
            let rescuer = try await sandbox.startRegisteredRunner(["--concurrency", "4"])
            let rescuerID = try await rescuer.waitRegistered()

            // Once the lease has expired, the other runner records the victim's run abandoned and runs it again.
            try await waitUntil(
                "the victim's run is abandoned and run again by the other runner", timeout: Self.lease * 4,
                interval: .milliseconds(50)
            ) {
                let probe = try sandbox.probe()
                let outcome = try probe.run(id: victimRun)?.outcome
                let rerun = try probe.runCount(job: "victim", outcome: "ok", runner: rescuerID, after: victimRun)
                return outcome == "abandoned" && rerun > 0
            }
            let rescuedAfter = ContinuousClock.now - stoppedAt
            // The lease runs from the frozen runner's last heartbeat, which may come up to one heartbeat
            // interval before it was stopped: the run must be recorded abandoned only after it ran out.
            let lastHeartbeat = try #require(try sandbox.probe().runner(id: frozenID)).heartbeatAt
            let abandonedAt = try #require(try sandbox.probe().run(id: victimRun)?.finishedAt)
            #expect(
                abandonedAt >= lastHeartbeat + Self.lease.microseconds,
                "abandoned \(abandonedAt - lastHeartbeat) µs after the last heartbeat, before the lease expired")
            if ChaosMode.isLong {
                // Long mode keeps it frozen for three lease periods, as the scenario is written.
                try await Task.sleep(until: stoppedAt + Self.lease * 3)  // the pause length is the scenario's input
            }
            let before = try sandbox.probe().run(id: victimRun)?.ending

            frozen.child.signal(SIGCONT)
            let pausedFor = ContinuousClock.now - stoppedAt
            // It notices that it was declared dead, discards its late result, re-registers and carries on.
            do {
                try await waitUntil("the resumed runner discards its late result", timeout: .seconds(30)) {
                    Self.fencingReports(frozen.child.stderr) > 0
                }
            } catch {
                throw HarnessError("\(error)\n\(frozen.child.transcript(limit: 6000))")
            }
            let reRegistered: Int64
            do {
                reRegistered = try await waitFor("the resumed runner re-registers", timeout: .seconds(30)) {
                    try frozen.runnerID().flatMap { $0 == frozenID ? nil : $0 }
                }
            } catch {
                let runners = (try? sandbox.probe().runners()).map { "\($0)" } ?? "?"
                throw HarnessError("\(error)\nrunners: \(runners)\n\(frozen.child.transcript(limit: 6000))")
            }
            let counts = try sandbox.runCounts()
            do {
                try await waitUntil("both runners carry on", timeout: .seconds(30)) {
                    let now = try sandbox.runCounts()
                    let byResumed = try sandbox.probe().runCount(outcome: "ok", runner: reRegistered)
                    return byResumed > 0 && counts.allSatisfy { now[$0.key, default: 0] >= $0.value + 3 }
                }
            } catch {
                throw HarnessError("\(error)\nresumed runner \(reRegistered): \(frozen.child.transcript(limit: 6000))")
            }
            try await sandbox.drainAll([frozen, rescuer])

            let probe = try sandbox.probe()
            let after = try probe.run(id: victimRun)?.ending
            #expect(
                after == before,
                "the late completion overwrote the rescued run: \(String(describing: before)) -> \(String(describing: after))"
            )
            // A runner declared dead must not claim anything under its dead identity.
            let deadClaims = try probe.runsClaimedAfterDeath(of: frozenID)
            #expect(deadClaims.isEmpty, "runs claimed by the frozen runner after it was declared dead: \(deadClaims)")
            let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
            let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
            Figures.report(
                sandbox.store.figures("4 pause past the lease"),
                [
                    "round": round, "lease_seconds": Self.lease.seconds,
                    "froze_inside_a_transaction": frozeInsideTransaction, "paused_seconds": pausedFor.seconds,
                    "rescued_after_seconds": rescuedAfter.seconds,
                    "late_completions_fenced": Self.fencingReports(frozen.child.stderr),
                    "claims_after_declared_dead": deadClaims.count, "runs": Int(invariants.totalRuns),
                    "abandoned": Int(invariants.runs("abandoned")), "lost": witness.lost.count,
                    "duplicated": witness.duplicated.count, "overlapping": witness.overlapping.count,
                    "violations": invariants.violations.count,
                ])
        }

        /// How many times a runner's log says that it discarded late results: a run's result found taken
        /// over at its finish ("late result is discarded"), or, when it learns first that it was declared
        /// dead, the runs it stops with their results ("their results will be discarded"). Either way the
        /// run's stored ending must not change, which the scenario checks in the database.
        static func fencingReports(_ log: String) -> Int {
            log.split(separator: "\n").filter {
                $0.contains("late result is discarded") || $0.contains("their results will be discarded")
            }.count
        }

        /// The moment a frozen runner wakes up is a race between its tasks: the claim loop may reach the
        /// database before the heartbeat that would tell it it was declared dead. Whatever the order, it must
        /// not claim under its dead identity: another runner would record that run abandoned while it still
        /// executes, and the job would run twice at once.
        ///
        /// In-process, with one `ManualJobClock` per runner: runner A's clock stands still (A is frozen)
        /// while B's moves past A's lease, then A's clock jumps (A wakes up), then B's heartbeat comes round.
        @Test(
            "a runner waking up after being declared dead claims nothing under its dead identity (in-process)",
            .timeLimit(ChaosMode.timeLimit(short: 3))
        )
        func wakingUpAfterDeclaredDead() async throws { try await Self.wakingUpAfterDeclaredDead(on: .sqlite) }

        static func wakingUpAfterDeclaredDead(on store: StoreKind) async throws {
            let iterations = ChaosMode.count(short: 10, long: 100)
            var claimsUnderDeadIdentity = 0
            var twiceAtOnce = 0
            for _ in 0..<iterations {
                let outcome = try await Sandbox.with("woken-runner", store: store) { sandbox in
                    try await wakeUpOnce(sandbox)
                }
                claimsUnderDeadIdentity += outcome.claimsUnderDeadIdentity
                twiceAtOnce += outcome.maxConcurrent > 1 ? 1 : 0
            }
            #expect(
                claimsUnderDeadIdentity == 0,
                "in \(iterations) wake-ups, \(claimsUnderDeadIdentity) runs were claimed under a dead runner's id")
            #expect(twiceAtOnce == 0, "in \(twiceAtOnce) of \(iterations) wake-ups the job ran twice at once")
            Figures.report(
                store.figures("4b wake-up race after being declared dead"),
                [
                    "wake_ups": iterations, "claims_under_dead_identity": claimsUnderDeadIdentity,
                    "twice_at_once": twiceAtOnce,
                ])
        }

        private static func wakeUpOnce(_ sandbox: Sandbox) async throws -> (
            claimsUnderDeadIdentity: Int, maxConcurrent: Int
        ) {
            let start: UnixMicros = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z
            let clockA = ManualJobClock(now: start)
            let clockB = ManualJobClock(now: start)
            let storeA = try await sandbox.openStore(clock: clockA)
            let storeB = try await sandbox.openStore(clock: clockB)
            let gate = HandlerGate()
            let concurrency = Mutex((active: 0, max: 0))
            var registryA = JobRegistry()
            registryA.register("work") { _ in
                concurrency.withLock {
                    $0.active += 1
                    $0.max = max($0.max, $0.active)
                }
                await gate.waitIgnoringCancellation()
                concurrency.withLock { $0.active -= 1 }
            }
            try await storeA.add(JobDefinition(name: "work", action: .handler("work"), schedule: .every(.seconds(1))))
            func configuration() -> JobRunnerConfiguration {
                JobRunnerConfiguration(
                    concurrency: 2, heartbeatInterval: .seconds(2), lease: .seconds(10), changePollInterval: nil,
                    host: "reliability-host")
            }
            // Only A has the handler: B never runs the job, it only rescues.
            let runnerA = JobRunner(
                store: storeA, registry: registryA, configuration: configuration(), clock: clockA, logger: quietLogger)
            let runnerB = JobRunner(store: storeB, configuration: configuration(), clock: clockB, logger: quietLogger)
            let eventsA = EventRecorder(runnerA)
            let eventsB = EventRecorder(runnerB)
            let taskA = Task { try await runnerA.run() }
            let taskB = Task { try await runnerB.run() }
            defer {
                gate.open()
                taskA.cancel()
                taskB.cancel()
            }
            try await waitUntil("both runners are up", timeout: .seconds(10)) {
                eventsA.count(where: EventRecorder.isIdle) > 0 && eventsB.count(where: EventRecorder.isIdle) > 0
            }
            let deadID = try #require(eventsA.registrations.first)
            let probe = try sandbox.probe()

            // A is frozen (its clock stands still); B's time passes A's lease: B declares A dead.
            clockB.advance(to: start + 11_000_000)
            try await waitUntil("B declares A dead", timeout: .seconds(10)) {
                try probe.runner(id: deadID)?.state == "dead"
            }
            let lastRunAtDeath = try probe.lastRunID()

            // A wakes up: its claim loop and its heartbeat are both due.
            clockA.advance(to: start + 11_500_000)
            try await waitUntil("A learns it was declared dead and re-registers", timeout: .seconds(10)) {
                eventsA.registrations.count > 1
            }
            // …and its loop has taken that in and waits again. Its turn may still be under way (a
            // claim under the dead id, then a short backoff read from A's clock): advanced past
            // meanwhile, that backoff would end after the time A is given below, and A would never
            // look for the job again.
            try await waitUntil("A's loop waits again after re-registering", timeout: .seconds(10)) {
                let events = eventsA.all
                guard let again = events.indices.filter({ EventRecorder.isRegistered(events[$0]) }).dropFirst().first
                else { return false }
                return events[(again + 1)...].contains(where: EventRecorder.isIdle)
            }
            // B's next heartbeat rescues whatever still runs under A's dead id.
            clockB.advance(to: start + 13_500_000)
            await clockB.waitUntilSleeping(count: 1)
            // A's next heartbeat wakes its claim loop: a rescued job would be claimed again now.
            let mark = eventsA.count
            clockA.advance(to: start + 14_000_000)
            try await waitUntil("A has claimed the job and looked for due work again", timeout: .seconds(10)) {
                eventsA.count(where: EventRecorder.isClaimed) > 0
                    && eventsA.count(from: mark, where: EventRecorder.isIdle) > 0
            }
            let underDeadIdentity = try probe.runCount(runner: deadID, after: lastRunAtDeath)
            let maxConcurrent = concurrency.withLock { $0.max }

            gate.open()
            runnerA.drain()
            runnerB.drain()
            try await taskA.value
            try await taskB.value
            return (Int(underDeadIdentity), maxConcurrent)
        }
    }
}
