import Foundation
import JobRunner

/// Scale: throughput and lateness with a large file (future jobs and a long history already in it),
/// against the small case measured in the same run; and `jobctl status` / `jobctl add` on it.
enum ScaleBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = [
            "future_jobs": BenchFormat.grouped(Int64(settings.scaleJobs)),
            "history_rows": BenchFormat.grouped(Int64(settings.scaleHistory)),
            "jobs": "\(settings.throughputJobs) due now", "workers": "\(settings.workers)",
        ]
        let template = try await context.template(futureJobs: settings.scaleJobs, history: settings.scaleHistory)
        if let size = try? FileManager.default.attributesOfItem(atPath: template)[.size] as? Int {
            run.parameters["file_size"] = "\(size / 1_048_576) MiB"
        }

        // Throughput: small then large, in the same run.
        let small = try await ThroughputBench.measure(context, .dueNow, synchronous: .normal)
        run.add("small_due_now", "small file, due now, runs/s (NORMAL)", small, unit: "runs/s")
        let large = try await withCopy(context, of: template) { path in
            try await ThroughputBench.prepare(context, .dueNow, into: path)
            return try await ThroughputBench.measureRunner(
                context, path: path, .dueNow, jobs: settings.throughputJobs, synchronous: .normal)
        }
        run.add("large_due_now", "large file, due now, runs/s (NORMAL)", large, unit: "runs/s")
        run.add("large_over_small", "large / small throughput", large / small, unit: "ratio", target: .atLeast(0.8))
        context.progress(
            "scale: due now \(BenchFormat.number(large)) runs/s on the large file, \(BenchFormat.number(small)) on a small one"
        )

        // Lateness and burst on the large file.
        let lateness = try await withCopy(context, of: template) { path in
            try await LatenessBench.periodic(context, path: path)
        }
        LatenessBench.report(lateness, into: &run, prefix: "large_", label: "large file, ")
        run.samples["large_lateness_ms"] = lateness.handler
        context.progress("scale: lateness on the large file: \(LatenessBench.summary(lateness.handler))")
        let burst = try await withCopy(context, of: template) { path in
            try await LatenessBench.burst(context, path: path)
        }
        LatenessBench.reportBurst(burst, into: &run, prefix: "large_", label: "large file, ")
        context.progress("scale: burst on the large file: \(LatenessBench.summary(burst.handler))")

        // Commands on the large file (a separate process each, as a user runs them).
        let status = try await timeCommand(context, ["status"], database: template)
        run.add("status_ms", "jobctl status on the large file", status, unit: "ms", target: .atMost(50))
        let statusJSON = try await timeCommand(context, ["status", "--json"], database: template)
        run.add("status_json_ms", "jobctl status --json on the large file", statusJSON, unit: "ms")
        let add = try await withCopy(context, of: template) { path in
            try await timeAdd(context, database: path)
        }
        run.add("add_ms", "jobctl add on the large file", add, unit: "ms", target: .atMost(20))
        context.progress(
            "scale: jobctl status \(BenchFormat.number(status)) ms, add \(BenchFormat.number(add)) ms on the large file"
        )
        run.note("the large file is seeded once per invocation and copied for each measurement")
        run.note("command times are wall time from spawn to exit, the median of \(settings.commandSamples) runs")
        return run
    }

    /// Runs `body` on a fresh copy of `template`, removed afterwards.
    static func withCopy<T>(
        _ context: BenchContext,
        of template: String,
        _ body: (String) async throws -> T
    ) async throws -> T {
        let path = try context.freshDatabase("scale")
        defer { context.discard(path) }
        try BenchmarkDatabase.copy(template, to: path)
        return try await body(path)
    }

    /// The median wall time, in milliseconds, of `jobctl --db DATABASE ARGUMENTS`, stdout to /dev/null.
    static func timeCommand(_ context: BenchContext, _ arguments: [String], database: String) async throws -> Double {
        var times: [Double] = []
        for _ in 0..<context.settings.commandSamples {
            let errors = context.scratchFile("command.err")
            defer { try? FileManager.default.removeItem(atPath: errors) }
            let (child, exit) = try await BenchChild.run(
                [context.jobctl] + arguments + ["--db", database], errors: errors)
            times.append(Double(exit.at - child.spawnedAt) / 1000)
        }
        return BenchStatistics.median(times.sorted())
    }

    /// The median wall time, in milliseconds, of `jobctl add` of a periodic job.
    static func timeAdd(_ context: BenchContext, database: String) async throws -> Double {
        var times: [Double] = []
        for index in 0..<context.settings.commandSamples {
            let errors = context.scratchFile("add.err")
            defer { try? FileManager.default.removeItem(atPath: errors) }
            let (child, exit) = try await BenchChild.run(
                [context.jobctl, "add", "--db", database, "cli-add-\(index)", "--every", "1h", "--handler", "tick"],
                errors: errors)
            times.append(Double(exit.at - child.spawnedAt) / 1000)
        }
        return BenchStatistics.median(times.sorted())
    }
}
