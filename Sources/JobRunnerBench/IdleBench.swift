import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#endif

/// Idle: a separate `jobctl run` process with nothing due, watched through /proc for CPU and memory.
enum IdleBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = [
            "window": "\(settings.idleSeconds)s",
            "future_jobs": settings.idleJobs.map { BenchFormat.grouped(Int64($0)) }.joined(separator: ", "),
        ]
        var residents: [Double] = []
        for jobs in settings.idleJobs {
            let template = try await context.template(futureJobs: jobs, history: 0)
            let path = try context.freshDatabase("idle")
            defer { context.discard(path) }
            try BenchmarkDatabase.copy(template, to: path)
            let figures = try await measure(context, database: path)
            let name = BenchFormat.grouped(Int64(jobs))
            run.add(
                "cpu_percent_\(jobs)", "CPU, \(name) future jobs", figures.cpuPercent, unit: "% of a core",
                target: .atMost(0.1))
            run.add(
                "cpu_ticks_percent_\(jobs)", "CPU (from clock ticks), \(name) future jobs", figures.tickPercent,
                unit: "% of a core")
            run.add(
                "rss_mib_\(jobs)", "resident memory, \(name) future jobs", figures.rssMiB, unit: "MiB",
                target: .atMost(20))
            run.add("peak_rss_mib_\(jobs)", "peak resident memory, \(name) future jobs", figures.peakMiB, unit: "MiB")
            residents.append(figures.rssMiB)
            context.progress(
                "idle: \(name) jobs: \(String(format: "%.3f", figures.cpuPercent)) % CPU, "
                    + "\(String(format: "%.1f", figures.rssMiB)) MiB")
        }
        if let first = residents.first, let last = residents.last, residents.count > 1 {
            run.add("rss_growth_mib", "resident memory growth, fewest to most jobs", last - first, unit: "MiB")
        }
        run.note("CPU is summed from /proc/PID/task/*/schedstat (nanoseconds) over the window, after a settling second")
        return run
    }

    struct Figures {
        var cpuPercent: Double
        var tickPercent: Double
        var rssMiB: Double
        var peakMiB: Double
    }

    static func measure(_ context: BenchContext, database: String) async throws -> Figures {
        let settings = context.settings
        let log = context.scratchFile("idle-run.log")
        let child = try await BenchChild.launch(
            [context.jobctl, "run", "--db", database, "--log-level", "warning"], output: log, errors: log)
        do {
            let store = try await context.open(database)
            try await BenchWait.until(timeout: .seconds(60), "the runner to register") {
                if let exit = child.exited {
                    throw BenchChild.SpawnError(description: "jobctl run exited early with status \(exit.status)")
                }
                return try await store.liveRunners().contains { $0.pid == child.pid }
            }
            try await Task.sleep(for: .milliseconds(settings.quick ? 200 : 1000))
            let t0 = BenchClock.now()
            let cpu0 = BenchProc.cpuNanos(child.pid) ?? 0
            let ticks0 = BenchProc.cpuTicks(child.pid) ?? 0
            try await Task.sleep(for: .milliseconds(Int(settings.idleSeconds * 1000)))
            let cpu1 = BenchProc.cpuNanos(child.pid) ?? 0
            let ticks1 = BenchProc.cpuTicks(child.pid) ?? 0
            let t1 = BenchClock.now()
            let memory = BenchProc.memoryKiB(child.pid) ?? (0, 0)
            child.signal(SIGTERM)
            let exit = await child.exit()
            try? FileManager.default.removeItem(atPath: log)
            guard exit.succeeded else {
                throw BenchChild.SpawnError(description: "jobctl run did not exit 0 after SIGTERM (\(exit.status))")
            }
            let wallNanos = Double(t1 - t0) * 1000
            let tickNanos = 1_000_000_000 / Double(BenchProc.clockTicksPerSecond)
            return Figures(
                cpuPercent: Double(cpu1 - cpu0) / wallNanos * 100,
                tickPercent: Double(ticks1 - ticks0) * tickNanos / wallNanos * 100,
                rssMiB: Double(memory.rss) / 1024,
                peakMiB: Double(memory.peak) / 1024
            )
        } catch {
            await child.terminate()
            throw error
        }
    }
}
