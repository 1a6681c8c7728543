import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#endif

/// Drain: `jobctl drain` against a separate `jobctl run` with runs in flight (commands of different
/// lengths); how long after the longest of them ended the runner process is gone.
enum DrainBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        let jobs = settings.drainJobs
        let longest = settings.drainLongest.microseconds
        let lengths = (0..<jobs).map { longest * Int64($0 + 1) / Int64(jobs) }
        run.parameters = [
            "in_flight": "\(jobs)",
            "runs": lengths.map { DurationFormat.format(.microseconds($0)) }.joined(separator: ", "),
        ]
        let path = try context.freshDatabase("drain")
        defer { context.discard(path) }
        do {
            let store = try await context.open(path)
            try await store.addMany(
                lengths.enumerated().map { index, length in
                    JobDefinition(
                        name: "sleep-\(index)",
                        action: .command(
                            ["/bin/sleep", String(format: "%.3f", Double(length) / 1_000_000)], workingDirectory: "/"),
                        schedule: .at(store.clock.now()))
                })
        }
        let log = context.scratchFile("drain-run.log")
        defer { try? FileManager.default.removeItem(atPath: log) }
        let runner = try await BenchChild.launch(
            [context.jobctl, "run", "--db", path, "--concurrency", "\(jobs)", "--log-level", "warning"],
            output: log, errors: log)
        do {
            let store = try await context.open(path)
            try await BenchWait.until(timeout: .seconds(60), "\(jobs) runs in flight") {
                if let exit = runner.exited {
                    throw BenchChild.SpawnError(description: "jobctl run exited early with status \(exit.status)")
                }
                return try await store.status(perJobLimit: 0).inFlight >= jobs
            }
            let requested = BenchClock.now()
            let drain = try await BenchChild.launch([context.jobctl, "drain", "--db", path, "--timeout", "1m"])
            let runnerExit = await runner.exit()
            let drainExit = await drain.exit()
            guard drainExit.succeeded else {
                throw BenchChild.SpawnError(description: "jobctl drain exited with status \(drainExit.status)")
            }
            if !runnerExit.succeeded {
                let detail =
                    (try? String(contentsOfFile: log, encoding: .utf8))?
                    .split(separator: "\n").last.map { ": \($0.prefix(300))" } ?? ""
                run.note(
                    "jobctl run exited with "
                        + (runnerExit.signaled ? "signal" : "status") + " \(runnerExit.status) after the drain" + detail
                )
            }
            let runs = try await store.history(HistoryQuery(limit: jobs + 1))
            let ok = runs.filter { $0.outcome == .ok }.count
            guard runs.count == jobs, ok == jobs, let lastEnded = runs.compactMap(\.finishedAt).max() else {
                throw BenchChild.SpawnError(description: "drain: \(ok) of \(runs.count) runs finished ok")
            }
            run.add(
                "longest_remaining_ms", "longest run in flight, remaining at the drain",
                Double(lastEnded - requested) / 1000, unit: "ms")
            run.add(
                "drain_to_exit_ms", "drain requested to runner exit", Double(runnerExit.at - requested) / 1000,
                unit: "ms")
            run.add(
                "exit_after_longest_ms", "runner exit after the longest run ended",
                Double(runnerExit.at - lastEnded) / 1000,
                unit: "ms", target: .atMost(50))
            run.add(
                "drain_command_after_longest_ms", "jobctl drain exit after the longest run ended",
                Double(drainExit.at - lastEnded) / 1000, unit: "ms")
            context.progress(
                "drain: runner gone \(BenchFormat.number(Double(runnerExit.at - lastEnded) / 1000)) ms after the longest run ended"
            )
        } catch {
            await runner.terminate()
            throw error
        }
        run.note("the end of the longest run is its finished_at in the history; exits are timed by the child's pidfd")
        return run
    }
}
