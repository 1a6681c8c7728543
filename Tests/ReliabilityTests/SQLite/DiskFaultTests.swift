import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    /// Scenario 8 (guarantees 1 and 7): the disk fills up under a runner, and the file system turns read-only.
    @Suite("8. disk full and read-only file system")
    struct DiskFaults {
        @Test(
            "a full disk and a read-only file system give clear errors, corrupt nothing, and are recovered from",
            .timeLimit(ChaosMode.timeLimit(short: 3))
        )
        func diskFullAndReadOnly() async throws {
            let cycles = ChaosMode.count(short: 1, long: 5)
            try await Sandbox.with("disk-faults") { sandbox in
                let mountPoint = sandbox.root + "/small"
                do {
                    // RELIABILITY_NO_MOUNT=1 acts as if mounting were not permitted (to check the skip path).
                    if ChaosMode.environment["RELIABILITY_NO_MOUNT"] == "1" {
                        throw HarnessError("RELIABILITY_NO_MOUNT=1 is set")
                    }
                    try sandbox.mount(type: "tmpfs", at: mountPoint, options: "size=8m,mode=0700")
                } catch {
                    print("[reliability] scenario 8 skipped: a small tmpfs cannot be mounted here (\(error))")
                    try Test.cancel("scenario 8 needs to mount a small tmpfs, which is not permitted here: \(error)")
                }
                let db = mountPoint + "/jobs.sqlite"
                let log = sandbox.root + "/witness.log"  // outside the small file system
                func ctl(_ arguments: [String]) async throws -> ProcessResult {
                    try await sandbox.jobctl([arguments[0], "--db", db] + arguments.dropFirst())
                }
                var acknowledged: Set<String> = []
                for index in 0..<3 {
                    let add = try await ctl(["add", "tick-\(index)", "--every", "20ms", "--handler", "tick"])
                    #expect(add.status == .exited(0), "\(add)")
                    acknowledged.insert("tick-\(index)")
                }
                // Command runs of 300 ms are in flight most of the time, so runs finish while the disk is full.
                let addCommand = try await ctl([
                    "add", "cmd", "--every", "100ms", "--", sandbox.witnessPath, log, "0.3",
                ])
                #expect(addCommand.status == .exited(0), "\(addCommand)")
                acknowledged.insert("cmd")

                var runner = try await sandbox.startRegisteredRunner(["--concurrency", "4"], db: db)
                var refusedWhenFull = 0
                var acceptedWhenFull = 0
                var runnerRestarts = 0
                var maxRetriesPerSecond = 0.0
                for cycle in 0..<cycles {
                    try await waitForProgress(db: db, "the runner works (cycle \(cycle + 1))")
                    // Fill the disk while a command run is in flight (so it ends on a full disk): first empty the
                    // write-ahead log (so that the next commit needs new space), then take every free byte.
                    try await waitUntil(
                        "a command run has just started", timeout: .seconds(30), interval: .milliseconds(2)
                    ) {
                        try DatabaseProbe(db).int(
                            "SELECT count(*) FROM runs WHERE job_name = 'cmd' AND outcome = 'running' AND started_at > ?",
                            [.integer(wallClockMicros() - 100_000)]) > 0
                    }
                    try await waitUntil("the WAL is checkpointed and truncated", timeout: .seconds(30)) {
                        let result = try DatabaseProbe(db).rows("PRAGMA wal_checkpoint(TRUNCATE)")
                        return result.first?.first?.int == 0
                    }
                    let filler = mountPoint + "/filler"
                    let filled = fill(filler)
                    let recordingErrorsBefore = recordingErrors(runner)
                    let fullErrorsBefore = fullErrors(runner)
                    do {
                        try await waitUntil("the runner meets the full disk", timeout: .seconds(30)) {
                            recordingErrors(runner) > recordingErrorsBefore || fullErrors(runner) > fullErrorsBefore
                                || runner.child.hasExited
                        }
                    } catch {
                        Issue.record("\(error); filled \(filled) bytes\n\(runner.child.transcript())")
                        throw error
                    }
                    let fullSince = ContinuousClock.now
                    let errorsAtFull = fullErrors(runner)

                    let add = try await ctl(["add", "while-full-\(cycle)", "--every", "1s", "--handler", "tick"])
                    if add.status == .exited(0) {
                        acceptedWhenFull += 1  // it found a free page: then it must be there afterwards
                        acknowledged.insert("while-full-\(cycle)")
                    } else {
                        refusedWhenFull += 1
                        #expect(add.status == .exited(1), "add on a full disk: \(add)")
                        #expect(
                            add.stderrLines.count == 1 && add.stderrLines[0].contains("full"),
                            "a one-line error that says the disk is full: \(add)")
                    }
                    let status = try await ctl(["status", "--json"])
                    #expect(status.status == .exited(0), "status on a full disk: \(status)")
                    if let ended = runner.child.poll() {
                        // Exiting is allowed, if it is clean: a status, and one clear line, never a crash.
                        #expect(ended.code != nil, "the runner crashed on a full disk: \(runner.child.transcript())")
                    }

                    // The disk stays full a while (the scenario's input): a runner that survives it must back off,
                    // not retry in a tight loop (which burns a core and floods its log).
                    try await Task.sleep(until: fullSince + .seconds(1))
                    let fullFor = ContinuousClock.now - fullSince
                    let retriesPerSecond = Double(fullErrors(runner) - errorsAtFull) / fullFor.seconds
                    maxRetriesPerSecond = max(maxRetriesPerSecond, retriesPerSecond)
                    #expect(
                        retriesPerSecond < 50,
                        "while the disk was full the runner logged \(Int(retriesPerSecond)) failures per second")

                    // Space comes back: the runner (or a new one) recovers, and adds succeed again.
                    try FileManager.default.removeItem(atPath: filler)
                    if runner.child.hasExited {
                        runner = try await sandbox.startRegisteredRunner(["--concurrency", "4"], db: db)
                        runnerRestarts += 1
                    }
                    try await waitForProgress(db: db, "the runner recovers after the disk had \(filled) bytes filled")
                    let later = try await ctl(["add", "after-full-\(cycle)", "--every", "1s", "--handler", "tick"])
                    #expect(later.status == .exited(0), "add after space came back: \(later)")
                    acknowledged.insert("after-full-\(cycle)")
                    #expect(try DatabaseProbe(db).strings("PRAGMA integrity_check") == ["ok"])
                }
                try await sandbox.drainAll([runner], db: db)
                let runnerSurvived = runnerRestarts == 0

                // Read-only: with no process holding the file open for writing, the mount can turn read-only.
                try sandbox.remount(mountPoint, readOnly: true, options: "size=8m,mode=0700")
                let before = try Data(contentsOf: URL(fileURLWithPath: db))
                let add = try await ctl(["add", "while-read-only", "--every", "1s", "--handler", "tick"])
                #expect(add.status == .exited(1), "add on a read-only file system: \(add)")
                #expect(
                    add.stderrLines.count == 1
                        && ["read-only", "read only"].contains(where: add.stderrLines[0].lowercased().contains),
                    "a one-line error that says the database is read-only: \(add)")
                let readOnlyRunner = try sandbox.startRunner(db: db)
                let readOnlyExit = try await readOnlyRunner.child.wait(timeout: .seconds(30))
                #expect(
                    readOnlyExit == .exited(1),
                    "a runner on a read-only file system: \(readOnlyRunner.child.transcript())")
                let runnerErrors = readOnlyRunner.child.stderr.split(separator: "\n").filter {
                    $0.hasPrefix("jobctl: error:")
                }
                #expect(runnerErrors.count == 1, "one clear error line: \(readOnlyRunner.child.transcript())")
                #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before, "the read-only database changed")
                try sandbox.remount(mountPoint, readOnly: false, options: "size=8m,mode=0700")

                // And back to normal.
                let final = try await sandbox.startRegisteredRunner(db: db)
                try await waitForProgress(db: db, "a runner works again after the file system is writable")
                try await sandbox.drainAll([final], db: db)
                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged, db: db)
                let witness = try WitnessReport.compare(logPath: log, probe: DatabaseProbe(db), jobs: ["cmd"])
                #expect(witness.isClean, "witness: \(witness)")
                Figures.report(
                    "8 disk full and read-only",
                    [
                        "full_disk_cycles": cycles, "adds_refused_when_full": refusedWhenFull,
                        "adds_accepted_when_full": acceptedWhenFull, "runner_survived_full_disk": runnerSurvived,
                        "runner_restarts": runnerRestarts, "failures_logged_per_second_when_full": maxRetriesPerSecond,
                        "runs": Int(invariants.totalRuns),
                        "lost": witness.lost.count, "duplicated": witness.duplicated.count,
                        "violations": invariants.violations.count,
                    ])
            }
        }

        private func waitForProgress(db: String, _ what: String) async throws {
            let before = try DatabaseProbe(db).int("SELECT coalesce(sum(run_count), 0) FROM jobs")
            try await waitUntil(what, timeout: .seconds(30)) {
                try DatabaseProbe(db).int("SELECT coalesce(sum(run_count), 0) FROM jobs") >= before + 10
            }
        }

        /// The runner's log lines about a full disk.
        private func fullErrors(_ runner: RunnerProcess) -> Int {
            runner.child.stderr.split(separator: "\n").filter { $0.contains("full") }.count
        }

        /// The runner's log lines about runs it could not record.
        private func recordingErrors(_ runner: RunnerProcess) -> Int {
            runner.child.stderr.split(separator: "\n").filter {
                $0.contains("recording runs failed") && $0.contains("full")
            }
            .count
        }

        /// Writes `path` until the file system has no space left; returns the bytes written.
        private func fill(_ path: String) -> Int {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { return 0 }
            defer { close(fd) }
            var total = 0
            for size in [1 << 20, 1 << 12, 1] {
                let chunk = [UInt8](repeating: 0x5a, count: size)
                while true {
                    let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
                    if written <= 0 { break }
                    total += written
                }
            }
            return total
        }
    }
}
