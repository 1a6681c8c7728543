import Foundation
import TestSupport
import Testing

extension Reliability {
    /// Scenario 5 (guarantees 1 and 7): another process holds the write lock longer than the busy timeout.
    @Suite("5. foreign write lock")
    struct ForeignLock {
        @Test(
            "the runner waits out a foreign write lock and carries on; jobctl reports the lock and changes nothing",
            .timeLimit(ChaosMode.timeLimit(short: 3))
        )
        func foreignWriteLock() async throws {
            let cycles = ChaosMode.count(short: 1, long: 6)
            let runnerBusyTimeout: Duration = .seconds(1)
            try await Sandbox.with("foreign-lock") { sandbox in
                let log = sandbox.root + "/witness.log"
                var acknowledged: Set<String> = []
                var witnessed: Set<String> = []
                for index in 0..<3 {
                    try await sandbox.jobctlOK(["add", "tick-\(index)", "--every", "20ms", "--handler", "tick"])
                    acknowledged.insert("tick-\(index)")
                }
                for index in 0..<2 {
                    try await sandbox.addWitnessJob(
                        "cmd-\(index)", schedule: ["--every", "100ms"], log: log, seconds: 0.05)
                    acknowledged.insert("cmd-\(index)")
                    witnessed.insert("cmd-\(index)")
                }
                let runner = try await sandbox.startRegisteredRunner(["--busy-timeout", "1s", "--concurrency", "4"])
                let warmup = try sandbox.runCounts()
                try await waitUntil("the runner is busy", timeout: .seconds(30)) {
                    let now = try sandbox.runCounts()
                    return warmup.allSatisfy { now[$0.key, default: 0] >= $0.value + 2 }
                }

                var refusedAdds = 0
                var longestHold: Duration = .zero
                for cycle in 0..<cycles {
                    // Hold the write lock from this (foreign) process for 3 to 5 times the runner's busy timeout.
                    let hold = runnerBusyTimeout * (3 + cycle % 3)
                    let holder = try DatabaseProbe(sandbox.db)
                    try holder.execute("BEGIN IMMEDIATE")
                    let lockedAt = ContinuousClock.now

                    let add = try await sandbox.jobctl(
                        ["add", "late-\(cycle)", "--busy-timeout", "300ms", "--every", "1s", "--handler", "tick"])
                    #expect(add.status == .exited(1), "add under a foreign lock: \(add)")
                    #expect(
                        add.stderrLines.count == 1 && add.stderrLines[0].contains("locked")
                            && add.stderrLines[0].contains("300ms"),
                        "a one-line error naming the lock and the timeout: \(add)")
                    #expect(add.elapsed >= .milliseconds(300), "it waited for the busy timeout: \(add.elapsed)")
                    refusedAdds += add.status == .exited(1) ? 1 : 0
                    // Readers are not blocked by a writer in WAL mode.
                    let status = try await sandbox.jobctl(["status", "--json"])
                    #expect(status.status == .exited(0), "status under a foreign lock: \(status)")

                    // The length of the hold is the scenario's input, not synchronisation.
                    try await Task.sleep(until: lockedAt + hold)
                    #expect(!runner.child.hasExited, "the runner died under the lock: \(runner.child.transcript())")
                    let present = try holder.int("SELECT count(*) FROM jobs WHERE name = ?", [.text("late-\(cycle)")])
                    #expect(present == 0, "the refused add wrote its job")
                    try holder.execute("ROLLBACK")
                    longestHold = max(longestHold, ContinuousClock.now - lockedAt)

                    let released = try sandbox.runCounts()
                    try await waitUntil("the runner carries on after the lock is released", timeout: .seconds(30)) {
                        let now = try sandbox.runCounts()
                        return released.allSatisfy { now[$0.key, default: 0] >= $0.value + 2 }
                    }
                    try await sandbox.jobctlOK(["add", "late-\(cycle)", "--every", "1s", "--handler", "tick"])
                    acknowledged.insert("late-\(cycle)")
                }
                let busyWarnings = runner.child.stderr.split(separator: "\n").filter { $0.contains("locked") }.count
                #expect(busyWarnings > 0, "the runner met the lock (it logs each busy failure and retries)")
                try await sandbox.drainAll([runner])
                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                Figures.report(
                    "5 foreign write lock",
                    [
                        "lock_cycles": cycles, "longest_hold_seconds": longestHold.seconds,
                        "runner_busy_timeout_seconds": runnerBusyTimeout.seconds, "refused_adds": refusedAdds,
                        "runner_busy_warnings": busyWarnings, "runner_survived": true,
                        "runs": Int(invariants.totalRuns),
                        "lost": witness.lost.count, "duplicated": witness.duplicated.count,
                        "violations": invariants.violations.count,
                    ])
            }
        }
    }
}
