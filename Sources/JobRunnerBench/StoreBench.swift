import Foundation
import JobRunner
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What the side-by-side scenarios share: the stores in this repetition's order, runner processes,
/// and counting finished runs.
enum StoreBench {
    private static let rounds = Atomic<Int>(0)

    /// The stores to measure, SQLite first in odd rounds and PostgreSQL first in even ones, so that
    /// neither always runs on a machine warmed (or loaded) by the other. SQLite alone without `--db`.
    static func order(_ context: BenchContext, _ run: inout BenchRun) -> [BenchStoreKind] {
        guard context.postgres != nil, context.openURL != nil else {
            run.note("no PostgreSQL server given (--db postgres://…): SQLite only")
            return [.sqlite]
        }
        let round = rounds.wrappingAdd(1, ordering: .relaxed).newValue
        return round % 2 == 1 ? [.sqlite, .postgres] : [.postgres, .sqlite]
    }

    /// A runner process: `jobctl bench --runner-child` on `database`.
    struct Runner {
        var child: BenchChild
        var samples: String
        var errors: String
    }

    /// Launches `count` runner processes and waits until each has registered.
    static func launchRunners(
        _ context: BenchContext, _ database: BenchDatabase, store: JobStore, count: Int, workers: Int
    ) async throws -> [Runner] {
        var runners: [Runner] = []
        do {
            for _ in 0..<count {
                let samples = context.scratchFile("runner.samples")
                let errors = context.scratchFile("runner.err")
                let child = try await BenchChild.launch(
                    [
                        context.jobctl, "bench", "--runner-child", "--child-db", database.location, "--workers",
                        "\(workers)", "--child-samples", samples,
                    ] + (context.settings.claimLead.map { ["--claim-lead", "\($0.microseconds)us"] } ?? []),
                    errors: errors)
                runners.append(Runner(child: child, samples: samples, errors: errors))
            }
            try await BenchWait.until(timeout: .seconds(60), "\(count) runner processes to register") {
                for runner in runners {
                    if let exit = runner.child.exited {
                        let detail = (try? String(contentsOfFile: runner.errors, encoding: .utf8)) ?? ""
                        throw BenchChild.SpawnError(
                            description: "a runner process exited early (status \(exit.status)): \(detail.prefix(500))")
                    }
                }
                let pids = Set(try await store.liveRunners().map(\.pid))
                return runners.allSatisfy { pids.contains($0.child.pid) }
            }
        } catch {
            for runner in runners { await runner.child.terminate() }
            throw error
        }
        return runners
    }

    /// Drains the runner processes (SIGTERM) and returns what their handlers noted.
    static func stopRunners(_ runners: [Runner]) async throws -> [(scheduledFor: UnixMicros, startedAt: UnixMicros)] {
        try await stopRunnersWithOffsets(runners).entries
    }

    /// Drains the runner processes (SIGTERM) and returns what their handlers noted, and how far
    /// their store clocks read from the wall clock (microseconds, at start and at end of each).
    static func stopRunnersWithOffsets(_ runners: [Runner]) async throws -> (
        entries: [(scheduledFor: UnixMicros, startedAt: UnixMicros)], offsets: [Int64]
    ) {
        for runner in runners { runner.child.signal(SIGTERM) }
        var entries: [(scheduledFor: UnixMicros, startedAt: UnixMicros)] = []
        var offsets: [Int64] = []
        var failure: String?
        for runner in runners {
            let exit = await runner.child.exit()
            if !exit.succeeded {
                let detail = (try? String(contentsOfFile: runner.errors, encoding: .utf8)) ?? ""
                failure = "a runner process did not exit 0 after SIGTERM (\(exit.status)): \(detail.prefix(500))"
            }
            entries += (try? BenchRunnerChild.samples(runner.samples)) ?? []
            offsets += BenchRunnerChild.offsets(runner.samples)
            try? FileManager.default.removeItem(atPath: runner.samples)
            try? FileManager.default.removeItem(atPath: runner.errors)
        }
        if let failure { throw BenchChild.SpawnError(description: failure) }
        return (entries, offsets)
    }

    /// Runs recorded with any final outcome (from the totals the finish transaction updates).
    static func finishedRuns(_ store: JobStore) async throws -> Int64 {
        try await store.status(perJobLimit: 0).runsByOutcome.values.reduce(0, +)
    }

    /// Waits until `count` runs have been recorded, checking every `every`.
    static func waitForRuns(_ store: JobStore, _ count: Int, timeout: Duration = .seconds(900)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await finishedRuns(store) < Int64(count) {
            if ContinuousClock.now > deadline {
                throw BenchWait.TimedOut(description: "gave up waiting for \(count) runs to be recorded")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Adds `definitions` in chunks of 10,000 (a transaction each).
    static func add(_ definitions: [JobDefinition], to store: JobStore) async throws {
        for start in stride(from: 0, to: definitions.count, by: 10_000) {
            try await store.addMany(Array(definitions[start..<min(start + 10_000, definitions.count)]))
        }
    }

    /// Closes a PostgreSQL store's pool (a SQLite store closes when released).
    static func close(_ context: BenchContext, _ store: JobStore) async {
        await context.closeStore?(store)
    }
}

/// Throughput of 1, 2 and 4 runner processes on one database, on each store, with the reference
/// of each store (the same SQL from C, the same batch) in the same round.
enum StoreThroughputBench {
    struct Figures {
        var rate: Double
        var runs: Int
        var duplicates: Int
        var claimSize: Double
    }

    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = [
            "jobs": "\(settings.storeJobs) one-shot tick jobs due at once",
            "runners": settings.storeRunners.map(String.init).joined(separator: ", "),
            "workers": "\(settings.storeWorkers) per runner (the reference's batch)",
        ]
        run.note(
            "runs/s = runs / (last finished_at - first started_at), from the history; runners start before the queue is resumed"
        )
        run.note("duplicates: jobs (one-shots) with more than one run")
        for kind in StoreBench.order(context, &run) {
            var rates: [Int: Double] = [:]
            for runners in settings.storeRunners {
                let figures = try await measure(context, kind, runners: runners)
                rates[runners] = figures.rate
                let name = kind.rawValue
                let plural = runners == 1 ? "process" : "processes"
                run.add(
                    "\(name)_rate_\(runners)", "\(kind.label), \(runners) runner \(plural), runs/s", figures.rate,
                    unit: "runs/s")
                run.add(
                    "\(name)_duplicates_\(runners)", "\(kind.label), \(runners) runner \(plural), duplicate claims",
                    Double(figures.duplicates), unit: "jobs", target: .atMost(0))
                run.add(
                    "\(name)_claim_size_\(runners)", "\(kind.label), \(runners) runner \(plural), runs per claim",
                    figures.claimSize, unit: "runs")
                context.progress(
                    "store-throughput: \(kind.label), \(runners) runner(s): \(BenchFormat.number(figures.rate)) runs/s, "
                        + "\(figures.duplicates) duplicates, \(BenchFormat.number(figures.claimSize)) runs per claim")
            }
            if let one = rates[1], let most = settings.storeRunners.max(), most > 1, let many = rates[most] {
                run.add(
                    "\(kind.rawValue)_scaling", "\(kind.label), \(most) runners / 1 runner", many / one, unit: "ratio",
                    target: kind == .postgres ? .atLeast(0.9) : nil)
            }
            let reference = kind == .postgres ? context.postgresReference : context.reference
            if let reference, let one = rates[1] {
                let figures = try await measureReference(context, kind, reference)
                run.add(
                    "\(kind.rawValue)_reference_rate", "\(kind.label), C reference (same SQL, same batch), runs/s",
                    figures.rate, unit: "runs/s")
                run.add(
                    "\(kind.rawValue)_fraction", "\(kind.label), 1 runner / C reference", one / figures.rate,
                    unit: "ratio", target: .atLeast(0.5))
                context.progress(
                    "store-throughput: \(kind.label), C reference: \(BenchFormat.number(figures.rate)) runs/s")
            } else {
                run.note(
                    "no reference for \(kind.label) (--\(kind == .postgres ? "pg-reference bench/out/pg-limit" : "reference bench/out/sqlite-limit"))"
                )
            }
        }
        return run
    }

    static func definitions(_ count: Int, at instant: UnixMicros) -> [JobDefinition] {
        (0..<count).map { JobDefinition(name: "due-\($0)", action: .handler("tick"), schedule: .at(instant)) }
    }

    static func measure(_ context: BenchContext, _ kind: BenchStoreKind, runners count: Int) async throws -> Figures {
        let settings = context.settings
        let database = try await context.freshDatabase(kind, "store-throughput")
        let store = try await context.open(database)
        do {
            try await StoreBench.add(definitions(settings.storeJobs, at: store.clock.now()), to: store)
            try await store.setQueuePaused("default", true)
            let runners = try await StoreBench.launchRunners(
                context, database, store: store, count: count, workers: settings.storeWorkers)
            do {
                try await Task.sleep(for: .milliseconds(200))
                try await store.setQueuePaused("default", false)
                try await StoreBench.waitForRuns(store, settings.storeJobs)
            } catch {
                for runner in runners { await runner.child.terminate() }
                throw error
            }
            _ = try await StoreBench.stopRunners(runners)
            let figures = try figures(of: try await store.history(HistoryQuery(limit: .max)), jobs: settings.storeJobs)
            await StoreBench.close(context, store)
            await context.discard(database)
            return figures
        } catch {
            await StoreBench.close(context, store)
            await context.discard(database)
            throw error
        }
    }

    /// The rate, duplicates and claim sizes of the runs in `history`, checked: all `ok`, `jobs` of them.
    static func figures(of history: [RunRecord], jobs: Int) throws -> Figures {
        guard history.count >= jobs, history.allSatisfy({ $0.outcome == .ok }),
            let first = history.map(\.startedAt).min(),
            let last = history.compactMap(\.finishedAt).max(), last > first
        else {
            throw BenchWait.TimedOut(
                description: "throughput check failed: \(history.filter { $0.outcome == .ok }.count) of "
                    + "\(history.count) runs ok, \(jobs) expected")
        }
        let perJob = Dictionary(grouping: history, by: \.jobName)
        let duplicates = perJob.values.filter { $0.count > 1 }.count
        // A claim stamps its runs with one `started_at` per runner.
        let claims = Set(history.map { "\($0.runnerID ?? 0) \($0.startedAt)" }).count
        return Figures(
            rate: Double(history.count) / (Double(last - first) / 1_000_000), runs: history.count,
            duplicates: duplicates, claimSize: Double(history.count) / Double(max(claims, 1)))
    }

    /// The reference of `kind` on a fresh database holding the same jobs, with one client.
    static func measureReference(
        _ context: BenchContext, _ kind: BenchStoreKind, _ reference: String
    ) async throws -> Figures {
        let settings = context.settings
        let database = try await context.freshDatabase(kind, "store-reference")
        let store = try await context.open(database)
        do {
            try await StoreBench.add(definitions(settings.storeJobs, at: store.clock.now()), to: store)
            let arguments =
                kind == .postgres
                ? ["--db", database.location, "--batch", "\(settings.storeWorkers)", "--clients", "1"]
                : ["--db", database.location, "--workers", "\(settings.storeWorkers)", "--synchronous", "normal"]
            _ = try await ThroughputBench.launchReference(context, reference, arguments)
            let figures = try figures(of: try await store.history(HistoryQuery(limit: .max)), jobs: settings.storeJobs)
            await StoreBench.close(context, store)
            await context.discard(database)
            return figures
        } catch {
            await StoreBench.close(context, store)
            await context.discard(database)
            throw error
        }
    }
}

/// Lateness with several runner processes on one database: periodic jobs with spread phases.
enum StoreLatenessBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = [
            "jobs": "\(settings.latenessJobs) every \(DurationFormat.format(settings.latenessInterval)), spread phases",
            "duration": "\(settings.latenessSeconds)s", "runners": "\(settings.storeLatenessRunners) processes",
            "claim_lead": settings.claimLead.map { DurationFormat.format($0) } ?? "the store's default",
        ]
        run.note(
            "started = handler entry in the runner process, after the claim committed; 'recorded' = started_at - scheduled_for"
        )
        for kind in StoreBench.order(context, &run) {
            let (handler, recorded, duplicates, offsets) = try await measure(context, kind)
            let h = handler.sorted()
            let r = recorded.sorted()
            let name = kind.rawValue
            let postgres = kind == .postgres
            run.add(
                "\(name)_p50_ms", "\(kind.label), lateness p50", BenchStatistics.percentile(h, 50), unit: "ms",
                target: postgres ? .atMost(1) : nil)
            run.add(
                "\(name)_p99_ms", "\(kind.label), lateness p99", BenchStatistics.percentile(h, 99), unit: "ms",
                target: postgres ? .atMost(5) : nil)
            run.add(
                "\(name)_max_ms", "\(kind.label), lateness max", h.last ?? .nan, unit: "ms",
                target: postgres ? .atMost(20) : nil)
            run.add(
                "\(name)_recorded_p99_ms", "\(kind.label), lateness p99 (recorded)",
                BenchStatistics.percentile(r, 99), unit: "ms")
            run.add(
                "\(name)_recorded_p50_ms", "\(kind.label), lateness p50 (recorded)",
                BenchStatistics.percentile(r, 50), unit: "ms")
            let o = offsets.map { Double($0) / 1000 }.sorted()
            run.add(
                "\(name)_clock_offset_min_ms", "\(kind.label), runner clock - wall clock, least", o.first ?? .nan,
                unit: "ms")
            run.add(
                "\(name)_clock_offset_max_ms", "\(kind.label), runner clock - wall clock, most", o.last ?? .nan,
                unit: "ms")
            run.add("\(name)_runs", "\(kind.label), runs measured", Double(h.count), unit: "runs")
            run.add(
                "\(name)_duplicates", "\(kind.label), occurrences claimed twice", Double(duplicates), unit: "runs",
                target: .atMost(0))
            run.samples["\(name)_lateness_ms"] = handler
            context.progress("store-lateness: \(kind.label): \(LatenessBench.summary(handler))")
        }
        return run
    }

    static func measure(_ context: BenchContext, _ kind: BenchStoreKind) async throws -> (
        handler: [Double], recorded: [Double], duplicates: Int, offsets: [Int64]
    ) {
        let settings = context.settings
        let jobs = settings.latenessJobs
        let interval = settings.latenessInterval.microseconds
        // The jobs' first due times are this far after the add begins. Adding 1,000 jobs on
        // PostgreSQL takes about a second (a few statements per job, one transaction), and runs due
        // before the add commits are late by the add, not by the runners: measured from the commit.
        let lead: Int64 = settings.quick ? 1_000_000 : 3_000_000
        let database = try await context.freshDatabase(kind, "store-lateness")
        let store = try await context.open(database)
        do {
            try await store.setQueueConcurrency("default", max(1000, jobs))
            let runners = try await StoreBench.launchRunners(
                context, database, store: store, count: settings.storeLatenessRunners, workers: max(jobs, 100))
            let first: UnixMicros
            let start: UnixMicros
            let end: UnixMicros
            do {
                let adding = store.clock.now()
                first = adding + lead
                try await StoreBench.add(
                    (0..<jobs).map { index in
                        JobDefinition(
                            name: "late-\(index)", action: .handler("bench-probe"),
                            schedule: .every(settings.latenessInterval),
                            initialDelay: .microseconds(lead + Int64(index) * interval / Int64(jobs)))
                    }, to: store)
                let added = store.clock.now()
                context.progress(
                    "store-lateness: \(kind.label): added \(jobs) jobs in \(Double(added - adding) / 1000) ms"
                        + (added > first ? ", after the first due time: runs due before the commit are left out" : ""))
                start = max(first, added)
                end = first + Int64(settings.latenessSeconds * 1_000_000)
                try? await SystemJobClock().sleep(until: end + 100_000)
            } catch {
                for runner in runners { await runner.child.terminate() }
                throw error
            }
            let (entries, offsets) = try await StoreBench.stopRunnersWithOffsets(runners)
            let measured = entries.filter { $0.scheduledFor >= start && $0.scheduledFor < end }
            let handler = measured.map { Double($0.startedAt - $0.scheduledFor) / 1000 }
            for episode in lateEpisodes(measured, over: 20_000) {
                context.progress("store-lateness: \(kind.label): \(episode)")
            }
            let history = try await store.history(HistoryQuery(limit: .max))
            let window = history.filter { $0.scheduledFor >= start && $0.scheduledFor < end }
            let recorded = window.map { Double($0.lateness) / 1000 }
            let duplicates =
                history.count - Set(history.map { "\($0.jobName) \($0.scheduledFor)" }).count
            await StoreBench.close(context, store)
            await context.discard(database)
            guard !handler.isEmpty else { throw BenchWait.TimedOut(description: "no run started in the window") }
            return (handler, recorded, duplicates, offsets)
        } catch {
            await StoreBench.close(context, store)
            await context.discard(database)
            throw error
        }
    }
}

extension StoreLatenessBench {
    /// The runs that started more than `threshold` µs late, in episodes: runs due within 500 ms
    /// of each other are one. Each is described with its first due time (UTC, to set beside
    /// `bench/hiccup-probe` and `bench/fsync-probe`), its count and its worst lateness.
    static func lateEpisodes(
        _ entries: [(scheduledFor: UnixMicros, startedAt: UnixMicros)], over threshold: Int64
    ) -> [String] {
        let late = entries.filter { $0.startedAt - $0.scheduledFor > threshold }.sorted {
            $0.scheduledFor < $1.scheduledFor
        }
        var episodes: [(first: UnixMicros, last: UnixMicros, count: Int, worst: Int64)] = []
        for entry in late {
            let lateness = entry.startedAt - entry.scheduledFor
            if let current = episodes.last, entry.scheduledFor - current.last <= 500_000 {
                episodes[episodes.count - 1] = (
                    current.first, entry.scheduledFor, current.count + 1, max(current.worst, lateness)
                )
            } else {
                episodes.append((entry.scheduledFor, entry.scheduledFor, 1, lateness))
            }
        }
        return episodes.map { episode in
            let millis = episode.first / 1000 % 86_400_000
            let at = String(
                format: "%02lld:%02lld:%02lld.%03lld", millis / 3_600_000, millis / 60_000 % 60, millis / 1000 % 60,
                millis % 1000)
            return "runs due from \(at) UTC over \(Double(episode.last - episode.first) / 1000) ms: "
                + "\(episode.count) started over \(threshold / 1000) ms late, the worst \(Double(episode.worst) / 1000) ms"
        }
    }
}

/// Wake-up: a separate `jobctl add NAME --in 0s` process, and a runner waiting with nothing due.
enum StoreWakeBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        run.parameters = ["adds": "\(settings.wakeCount)", "schedule": "--in 0s", "runner": "in the bench process"]
        run.note("scheduled_for of an `--in 0s` job is the add process's clock before its transaction")
        for kind in StoreBench.order(context, &run) {
            let (wake, adds) = try await measure(context, kind)
            let name = kind.rawValue
            run.add(
                "\(name)_wake_p50_ms", "\(kind.label), wake p50", BenchStatistics.percentile(wake, 50), unit: "ms")
            run.add(
                "\(name)_wake_p99_ms", "\(kind.label), wake p99", BenchStatistics.percentile(wake, 99), unit: "ms",
                target: .atMost(20))
            run.add("\(name)_wake_max_ms", "\(kind.label), wake max", wake.last ?? .nan, unit: "ms")
            run.add(
                "\(name)_add_p50_ms", "\(kind.label), jobctl add wall time p50",
                BenchStatistics.percentile(adds, 50), unit: "ms")
            run.samples["\(name)_wake_ms"] = wake
            context.progress(
                "store-wake: \(kind.label): p50 \(BenchFormat.number(BenchStatistics.percentile(wake, 50))) ms, "
                    + "p99 \(BenchFormat.number(BenchStatistics.percentile(wake, 99))) ms")
        }
        return run
    }

    static func measure(_ context: BenchContext, _ kind: BenchStoreKind) async throws -> (
        wake: [Double], adds: [Double]
    ) {
        let settings = context.settings
        let database = try await context.freshDatabase(kind, "store-wake")
        let store = try await context.open(database)
        do {
            let recorder = StartRecorder(capacity: settings.wakeCount)
            var registry = JobRegistry()
            registry.register("bench-probe", recorder.handler)
            let runner = context.runner(store, workers: 4, registry: registry)
            var adds: [Double] = []
            try await runner.whileRunning {
                try await BenchWait.until(timeout: .seconds(30), "the runner to register") {
                    try await !store.liveRunners().isEmpty
                }
                for index in 0..<settings.wakeCount {
                    let errors = context.scratchFile("add.err")
                    defer { try? FileManager.default.removeItem(atPath: errors) }
                    let (child, exit) = try await BenchChild.run(
                        [
                            context.jobctl, "add", "--db", database.location, "wake-\(index)", "--in", "0s",
                            "--handler", "bench-probe",
                        ], errors: errors)
                    adds.append(Double(exit.at - child.spawnedAt) / 1000)
                    try await recorder.wait(forCount: index + 1, timeout: .seconds(30))
                    // Let the run be recorded, so that each add meets an idle runner.
                    try await BenchWait.until(timeout: .seconds(30), "run \(index + 1) to be recorded") {
                        try await StoreBench.finishedRuns(store) > index
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            let wake = recorder.entries.map { Double($0.startedAt - $0.scheduledFor) / 1000 }.sorted()
            await StoreBench.close(context, store)
            await context.discard(database)
            return (wake, adds.sorted())
        } catch {
            await StoreBench.close(context, store)
            await context.discard(database)
            throw error
        }
    }
}

/// Idle: a separate `jobctl run` with 1,000 future jobs and nothing due; its CPU, and on PostgreSQL
/// the transactions it makes the server run and the CPU of its server processes.
enum StoreIdleBench {
    static func run(_ context: BenchContext) async throws -> BenchRun {
        let settings = context.settings
        var run = BenchRun()
        let jobs = settings.idleJobs.first ?? 1000
        run.parameters = ["window": "\(settings.idleSeconds)s", "future_jobs": "\(jobs)"]
        run.note("CPU from /proc/PID/task/*/schedstat over the window, after a settling second")
        run.note(
            "PostgreSQL transactions/s: xact_commit of the runner's database over the window (pg_stat_database); backend CPU: its server processes"
        )
        run.note(
            "most frequent statement: the highest calls/s of one statement on the runner's database (pg_stat_statements): how often anything polls"
        )
        for kind in StoreBench.order(context, &run) {
            let figures = try await measure(context, kind, jobs: jobs)
            let name = kind.rawValue
            run.add(
                "\(name)_cpu_percent", "\(kind.label), runner CPU", figures.cpuPercent, unit: "% of a core",
                target: .atMost(0.1))
            run.add("\(name)_rss_mib", "\(kind.label), runner resident memory", figures.rssMiB, unit: "MiB")
            if let transactions = figures.transactionsPerSecond {
                run.add(
                    "\(name)_transactions_per_s", "\(kind.label), server transactions per second", transactions,
                    unit: "1/s")
            }
            if let statement = figures.busiestStatementPerSecond {
                run.add(
                    "\(name)_busiest_statement_per_s", "\(kind.label), most frequent statement, calls per second",
                    statement, unit: "1/s", target: .atMost(1))
            }
            if let backend = figures.backendCPUPercent {
                run.add(
                    "\(name)_backend_cpu_percent", "\(kind.label), server backend CPU", backend, unit: "% of a core")
            }
            context.progress(
                "store-idle: \(kind.label): \(String(format: "%.3f", figures.cpuPercent)) % CPU"
                    + (figures.transactionsPerSecond.map { String(format: ", %.2f transactions/s", $0) } ?? ""))
        }
        return run
    }

    struct Figures {
        var cpuPercent: Double
        var rssMiB: Double
        var transactionsPerSecond: Double?
        var backendCPUPercent: Double?
        /// The calls per second of the statement the runner ran most often (pg_stat_statements).
        var busiestStatementPerSecond: Double?
    }

    static func measure(_ context: BenchContext, _ kind: BenchStoreKind, jobs: Int) async throws -> Figures {
        let settings = context.settings
        let database = try await context.freshDatabase(kind, "store-idle")
        let store = try await context.open(database)
        let log = context.scratchFile("idle-run.log")
        var child: BenchChild?
        do {
            try await StoreBench.add(
                (0..<jobs).map { index in
                    JobDefinition(
                        name: "future-\(index)", action: .handler("tick"), schedule: .every(.seconds(86_400)),
                        initialDelay: .seconds(3600 + index * 86_400 / max(jobs, 1)))
                }, to: store)
            let runner = try await BenchChild.launch(
                [context.jobctl, "run", "--db", database.location, "--log-level", "warning"], output: log, errors: log)
            child = runner
            try await BenchWait.until(timeout: .seconds(60), "the runner to register") {
                if let exit = runner.exited {
                    throw BenchChild.SpawnError(description: "jobctl run exited early with status \(exit.status)")
                }
                return try await store.liveRunners().contains { $0.pid == runner.pid }
            }
            // The benchmark's own connections leave the database alone during the window.
            await StoreBench.close(context, store)
            try await Task.sleep(for: .milliseconds(settings.quick ? 200 : 1000))
            let backends = try await serverProcesses(context, database)
            let commits0 = try await commits(context, database)
            let statements0 = try await statementCalls(context, database)
            let t0 = BenchClock.now()
            let cpu0 = BenchProc.cpuNanos(runner.pid) ?? 0
            let server0 = backends.map { BenchProc.cpuNanos($0) ?? 0 }.reduce(0, +)
            try await Task.sleep(for: .milliseconds(Int(settings.idleSeconds * 1000)))
            let cpu1 = BenchProc.cpuNanos(runner.pid) ?? 0
            let server1 = backends.map { BenchProc.cpuNanos($0) ?? 0 }.reduce(0, +)
            let t1 = BenchClock.now()
            let commits1 = try await commits(context, database)
            let statements1 = try await statementCalls(context, database)
            let memory = BenchProc.memoryKiB(runner.pid) ?? (0, 0)
            runner.signal(SIGTERM)
            let exit = await runner.exit()
            try? FileManager.default.removeItem(atPath: log)
            guard exit.succeeded else {
                throw BenchChild.SpawnError(description: "jobctl run did not exit 0 after SIGTERM (\(exit.status))")
            }
            await context.discard(database)
            let wallNanos = Double(t1 - t0) * 1000
            return Figures(
                cpuPercent: Double(cpu1 - cpu0) / wallNanos * 100, rssMiB: Double(memory.rss) / 1024,
                transactionsPerSecond: commits0.flatMap { c0 in
                    commits1.map { Double($0.count - c0.count) / (Double($0.at - c0.at) / 1_000_000) }
                },
                backendCPUPercent: kind == .postgres ? Double(server1 - server0) / wallNanos * 100 : nil,
                busiestStatementPerSecond: statements0.flatMap { s0 in
                    statements1.map { s1 in
                        let most = s1.calls.map { $0.value - (s0.calls[$0.key] ?? 0) }.max() ?? 0
                        return Double(most) / (Double(s1.at - s0.at) / 1_000_000)
                    }
                })
        } catch {
            await child?.terminate()
            await StoreBench.close(context, store)
            await context.discard(database)
            throw error
        }
    }

    /// The pids of the server processes connected to `database` (PostgreSQL; none for a file).
    static func serverProcesses(_ context: BenchContext, _ database: BenchDatabase) async throws -> [pid_t] {
        guard let server = context.postgres, let name = database.databaseName else { return [] }
        return try await BenchPostgres.query(
            context, server, "SELECT pid FROM pg_stat_activity WHERE datname = :'database'", values: ["database": name]
        ).split(separator: "\n").compactMap { pid_t($0) }
    }

    /// Calls of each statement run on `database` so far, by query id, and when they were read, from
    /// pg_stat_statements (nil for a file, or when the server does not load it: bench/pg-cluster does).
    static func statementCalls(_ context: BenchContext, _ database: BenchDatabase) async throws -> (
        at: UnixMicros, calls: [String: Int64]
    )? {
        guard let server = context.postgres, let name = database.databaseName else { return nil }
        guard
            (try? await BenchPostgres.query(context, server, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                != nil
        else { return nil }
        let at = BenchClock.now()
        let text = try await BenchPostgres.query(
            context, server,
            """
            SELECT s.queryid::text || ' ' || sum(s.calls)::text FROM pg_stat_statements s
            JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = :'database' GROUP BY s.queryid
            """, values: ["database": name])
        var calls: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let count = Int64(fields[1]) { calls[String(fields[0])] = count }
        }
        return (at, calls)
    }

    /// Committed transactions of `database` so far, and when they were read (PostgreSQL; nil for a
    /// file). Asked from another database, so that asking does not count; each backend flushes its
    /// statistics at most once a second, so the read waits that long first.
    static func commits(_ context: BenchContext, _ database: BenchDatabase) async throws -> (
        at: UnixMicros, count: Int64
    )? {
        guard let server = context.postgres, let name = database.databaseName else { return nil }
        try await Task.sleep(for: .milliseconds(1100))
        let at = BenchClock.now()
        guard
            let count = Int64(
                try await BenchPostgres.query(
                    context, server, "SELECT xact_commit FROM pg_stat_database WHERE datname = :'database'",
                    values: ["database": name]))
        else { return nil }
        return (at, count)
    }
}
