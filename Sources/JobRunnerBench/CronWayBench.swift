import Foundation
import JobRunner

/// The cron way: CPU per tick when every tick spawns a process (here the sqlite3 shell doing one
/// UPDATE, the lightest honest version), against ticks inside a long-lived process.
enum CronWayBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = ["spawns": "\(settings.cronSpawns)", "in_process_window": "\(settings.cronTickSeconds)s"]
        let path = try context.freshDatabase("cron")
        defer { context.discard(path) }
        do {
            let store = try await context.open(path)
            try await store.add(
                JobDefinition(
                    name: BenchmarkDatabase.CronTick.jobName, action: .handler("tick"), schedule: .every(.seconds(3600))
                ))
        }

        // 1. A process per tick.
        let shell = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        var spawned: Double?
        if let shell {
            let cpu = try await childCPU(context, settings.cronSpawns) {
                [shell, path, BenchmarkDatabase.CronTick.shellStatement]
            }
            spawned = cpu
            run.add("spawn_sqlite3_cpu_ms", "spawned sqlite3 UPDATE per tick, CPU", cpu, unit: "ms/tick")
        } else {
            run.note("no sqlite3 shell found: the process-per-tick figure is missing")
        }
        let bare = try await childCPU(context, settings.cronSpawns) { ["/bin/true"] }
        run.add("spawn_true_cpu_ms", "spawned /bin/true per tick, CPU (floor)", bare, unit: "ms/tick")

        // 2. The same UPDATE in a long-lived process.
        let inProcess = try updateCPU(path: path, count: settings.quick ? 50 : 5000)
        run.add("inprocess_update_cpu_ms", "same UPDATE in-process, CPU", inProcess, unit: "ms/tick")

        // 3. A JobRunner tick: claim, history row, finish, reschedule — all durable.
        let tick = try await runnerTickCPU(context)
        run.add("runner_tick_cpu_ms", "JobRunner tick (every 1ms job), CPU", tick, unit: "ms/tick")
        // 4. The floor for that tick: the C reference doing the same SQL, one run per claim and finish.
        var floor: Double?
        if let reference = context.reference {
            let cpu = try await referenceTickCPU(context, reference)
            floor = cpu
            run.add("c_tick_cpu_ms", "C reference, same SQL, one run per claim and finish, CPU", cpu, unit: "ms/tick")
            run.add("runner_over_c_tick", "JobRunner tick / C reference tick", tick / cpu, unit: "x")
        } else {
            run.note("no C reference given (--reference): the SQL floor of a tick is missing")
        }
        if let spawned {
            if let floor {
                run.add("spawn_over_c_tick", "spawned process / C reference tick", spawned / floor, unit: "x")
            }
            run.add(
                "spawn_over_runner_tick", "spawned process / JobRunner tick", spawned / tick, unit: "x",
                target: .atLeast(40))
            run.add("spawn_over_update", "spawned process / in-process UPDATE", spawned / inProcess, unit: "x")
            context.progress(
                "cron way: \(BenchFormat.number(spawned)) ms per spawned tick, \(BenchFormat.number(tick)) ms per runner tick"
            )
        }
        run.note(
            "children's CPU from getrusage(RUSAGE_CHILDREN); the runner's from getrusage(RUSAGE_SELF) over its window")
        return run
    }

    /// Mean CPU in milliseconds of a child process per spawn, spawned one after another.
    static func childCPU(_ context: BenchContext, _ count: Int, _ arguments: () -> [String]) async throws -> Double {
        let before = BenchClock.childrenCPU()
        for _ in 0..<count {
            let errors = context.scratchFile("cron.err")
            defer { try? FileManager.default.removeItem(atPath: errors) }
            try await BenchChild.run(arguments(), errors: errors)
        }
        return Double(BenchClock.childrenCPU() - before) / 1000 / Double(count)
    }

    /// Mean thread CPU in milliseconds of one autocommitted UPDATE on an open connection.
    static func updateCPU(path: String, count: Int) throws -> Double {
        let db = try BenchmarkDatabase.CronTick(path: path)
        try db.tick()
        let before = BenchClock.threadCPUNanos()
        for _ in 0..<count { try db.tick() }
        return Double(BenchClock.threadCPUNanos() - before) / 1_000_000 / Double(count)
    }

    /// CPU per run of the C reference with one worker slot: each run is claimed and finished in
    /// transactions of its own, as in a runner's tick, with the same statements and nothing else.
    static func referenceTickCPU(_ context: BenchContext, _ reference: String) async throws -> Double {
        let path = try context.freshDatabase("cron-reference")
        defer { context.discard(path) }
        let jobs = context.settings.quick ? 50 : 3000
        try await ThroughputBench.prepare(context, .dueNow, into: path, jobs: jobs)
        let result = try await ThroughputBench.launchReference(
            context, reference, ["--db", path, "--workers", "1", "--synchronous", "normal"])
        guard let cpu = result.cpu_seconds, result.runs == jobs else {
            throw BenchWait.TimedOut(
                description:
                    "the C reference ran \(result.runs) of \(jobs) runs\(result.cpu_seconds == nil ? " and reported no CPU time (rebuild it: bench/build-reference)" : "")"
            )
        }
        return cpu * 1000 / Double(result.runs)
    }

    /// Process CPU per run of one job every 1 ms: every run is its own claim and finish transaction.
    static func runnerTickCPU(_ context: BenchContext) async throws -> Double {
        let path = try context.freshDatabase("cron-runner")
        defer { context.discard(path) }
        let store = try await context.open(path)
        try await store.add(
            JobDefinition(
                name: "tick-1ms", action: .handler("tick"), schedule: .every(.milliseconds(1)), initialDelay: .zero))
        let counter = try BenchmarkDatabase.Probe(path: path)
        let runner = context.runner(store, workers: 4)
        let (cpu0, runs0, cpu1, runs1) = try await runner.whileRunning {
            try await Task.sleep(for: .milliseconds(100))
            let (cpu0, runs0) = (BenchClock.processCPU(), try counter.finishedRuns())
            try await Task.sleep(for: .milliseconds(Int(context.settings.cronTickSeconds * 1000)))
            return (cpu0, runs0, BenchClock.processCPU(), try counter.finishedRuns())
        }
        guard runs1 > runs0 else { throw BenchWait.TimedOut(description: "the runner did not tick") }
        return Double(cpu1 - cpu0) / 1000 / Double(runs1 - runs0)
    }
}
