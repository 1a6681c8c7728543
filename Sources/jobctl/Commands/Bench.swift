import ArgumentParser
import Foundation
import JobRunner
import JobRunnerBench

#if PostgreSQL
    import JobRunnerPostgres
#endif

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput, lateness, scale, idle cost, wake-up, drain and the cron way on this disk.",
        discussion: """
            Each scenario runs on a fresh database in a temporary directory (--dir), which is removed at \
            the end, with every child process. Prints a table of min / median / max over --repeat runs \
            with the targets of the design, or one JSON document with --json. Takes a few minutes at full \
            size (the scale scenario seeds 1,000,000 jobs and 10,000,000 history rows); --quick uses tiny \
            counts.

            Scenarios: throughput, lateness, scale, idle, wake, drain, cron (SQLite); and side by side on \
            SQLite and PostgreSQL: store-throughput (1, 2 and 4 runner processes, against the C references), \
            store-lateness (several runner processes), store-wake, store-idle. With --db postgres://…, the \
            side-by-side scenarios are the default; each creates and drops databases of its own on that \
            server (bench/pg-cluster starts one; never benchmark on a production server).

            Examples:
              jobctl bench --scenario throughput --scenario lateness
              jobctl bench --repeat 3 --reference bench/out/sqlite-limit --json > bench.json
              jobctl bench --db "$(bench/pg-cluster url)" --repeat 3 --reference bench/out/sqlite-limit \
                  --pg-reference bench/out/pg-limit
              jobctl bench --quick
            """
    )

    @Option(name: .customLong("scenario"), help: "Run only this scenario (repeatable; default: all).")
    var scenarios: [BenchScenario] = []

    @Flag(help: "Tiny counts: checks that every scenario runs, measures nothing meaningful.")
    var quick = false

    @Option(name: .customLong("repeat"), help: "Run each scenario this many times (min / median / max).")
    var repetitions: Int = 1

    @Flag(help: "Print one JSON document.")
    var json = false

    @Flag(help: "With --json or --json-file: include every lateness sample (for plots).")
    var samples = false

    @Option(help: ArgumentHelp("Also write the JSON document to this file.", valueName: "path"))
    var jsonFile: String?

    @Option(help: ArgumentHelp("Where to put the temporary databases (default: $TMPDIR or /tmp).", valueName: "dir"))
    var dir: String?

    @Option(
        help: ArgumentHelp(
            "The compiled C reference (bench/sqlite_limit.c), run in the same invocation for the throughput fraction.",
            valueName: "path"))
    var reference: String?

    @Flag(help: "Keep the temporary databases (their directory is printed) for inspection.")
    var keep = false

    @Option(
        help: ArgumentHelp(
            "A PostgreSQL server for the side-by-side scenarios: the URL of a database on it (postgres://…); the benchmark creates and drops databases of its own there.",
            valueName: "url"))
    var db: String?

    @Option(
        name: .customLong("pg-reference"),
        help: ArgumentHelp(
            "The compiled PostgreSQL reference (bench/pg_limit.c), run in the same round for the throughput fraction.",
            valueName: "path"))
    var postgresReference: String?

    @Option(help: "Side by side: one-shot jobs due at once in the throughput scenario (default 20000).")
    var storeJobs: Int?

    @Option(help: "Side by side: runner processes in the lateness scenario (default 3).")
    var latenessRunners: Int?

    @Option(help: "Lateness: periodic jobs every second, phases spread over it (default 1000).")
    var latenessJobs: Int?

    @Option(
        help: ArgumentHelp(
            "Side by side: the runner processes' claim lead, at most 1s (default: the store's, 100ms on PostgreSQL).",
            valueName: "duration"))
    var claimLead: String?

    @Flag(help: .hidden)
    var runnerChild = false

    @Option(help: .hidden)
    var childDb: String?

    @Option(help: .hidden)
    var childSamples: String?

    @Option(help: "Throughput: one-shot jobs due now (default 100000).")
    var jobs: Int?

    @Option(help: "Throughput and scale: the runner's worker slots (default 256).")
    var workers: Int?

    @Option(help: "Lateness: how long the periodic jobs run, in seconds (default 20).")
    var latenessSeconds: Double?

    @Option(help: "Scale: future jobs in the large file (default 1000000).")
    var scaleJobs: Int?

    @Option(help: "Scale: history rows in the large file (default 10000000).")
    var scaleHistory: Int?

    func validate() throws {
        if !(1...100).contains(repetitions) { throw ValidationError("--repeat must be between 1 and 100") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be positive") }
        if let workers, !(1...10_000).contains(workers) {
            throw ValidationError("--workers must be between 1 and 10000")
        }
        if let latenessSeconds, latenessSeconds <= 0 { throw ValidationError("--lateness-seconds must be positive") }
        if let scaleJobs, scaleJobs < 1 { throw ValidationError("--scale-jobs must be positive") }
        if let scaleHistory, scaleHistory < 0 { throw ValidationError("--scale-history must not be negative") }
        if samples && !json && jsonFile == nil { throw ValidationError("--samples goes with --json or --json-file") }
        if let reference, !FileManager.default.isExecutableFile(atPath: reference) {
            throw ValidationError(
                "--reference: \(reference) is not an executable file (build it: bench/build-reference)")
        }
        if let postgresReference, !FileManager.default.isExecutableFile(atPath: postgresReference) {
            throw ValidationError(
                "--pg-reference: \(postgresReference) is not an executable file (build it: bench/build-pg-reference)")
        }
        if let storeJobs, storeJobs < 1 { throw ValidationError("--store-jobs must be positive") }
        if let latenessJobs, !(1...100_000).contains(latenessJobs) {
            throw ValidationError("--lateness-jobs must be between 1 and 100000")
        }
        if let latenessRunners, !(1...16).contains(latenessRunners) {
            throw ValidationError("--lateness-runners must be between 1 and 16")
        }
        if let db, !GlobalOptions.isURL(db) {
            throw ValidationError(
                "--db: the benchmark makes its own SQLite files; --db takes a PostgreSQL URL (postgres://…)")
        }
        if runnerChild && childDb == nil { throw ValidationError("--runner-child needs --child-db") }
        _ = try claimLeadDuration()
    }

    func claimLeadDuration() throws -> Duration? {
        try claimLead.map(Parse.claimLead)
    }

    var settings: BenchSettings {
        var settings = quick ? BenchSettings.quick : BenchSettings.full
        if let jobs { settings.throughputJobs = jobs }
        if let workers { settings.workers = workers }
        if let latenessSeconds { settings.latenessSeconds = latenessSeconds }
        if let scaleJobs { settings.scaleJobs = scaleJobs }
        if let scaleHistory { settings.scaleHistory = scaleHistory }
        if let storeJobs { settings.storeJobs = storeJobs }
        if let latenessRunners { settings.storeLatenessRunners = latenessRunners }
        if let latenessJobs { settings.latenessJobs = latenessJobs }
        if let workers { settings.storeWorkers = workers }
        settings.claimLead = try? claimLeadDuration()
        return settings
    }

    func run() async throws {
        if runnerChild, let childDb {
            // A runner process of the side-by-side scenarios, spawned by the benchmark.
            let store = try await Bench.open(childDb)
            try await BenchRunnerChild.run(
                store: store, workers: workers ?? settings.storeWorkers, claimLead: try claimLeadDuration(),
                samplesFile: childSamples)
            await Bench.close(store)
            return
        }
        if db != nil && Bench.openURL == nil {
            throw RuntimeError(
                message:
                    "this jobctl was built without PostgreSQL support; build it with `swift build --traits PostgreSQL`")
        }
        let defaultScenarios = db == nil ? BenchScenario.sqliteOnly : BenchScenario.sideBySide
        let plan = BenchPlan(
            scenarios: scenarios.isEmpty ? defaultScenarios : scenarios, repetitions: repetitions,
            settings: settings, includeSamples: samples,
            directory: dir ?? ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp",
            jobctl: Bench.executablePath(), reference: reference.map(Bench.absolute), keep: keep,
            postgres: db, openURL: db == nil ? nil : Bench.openURL, closeStore: Bench.close,
            postgresReference: postgresReference.map(Bench.absolute))
        let document: BenchDocument
        do {
            document = try await BenchHarness.run(plan)
        } catch let failure as BenchFailure {
            throw RuntimeError(message: failure.description)
        }
        if let jsonFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(document).write(to: URL(fileURLWithPath: jsonFile))
        }
        if json {
            try Output.json(document)
        } else {
            print(BenchFormat.table(document))
        }
    }

    /// This binary, spawned for `jobctl run`, `add`, `drain` and `status`.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return absolute(CommandLine.arguments[0])
    }

    /// Opens a store at a URL, in a build with the PostgreSQL store.
    static var openURL: BenchURLOpener? {
        #if PostgreSQL
            return { url in try await JobStore.open(url: url) }
        #else
            return nil
        #endif
    }

    /// Opens the store of a runner process: a URL or a file.
    static func open(_ location: String) async throws -> JobStore {
        if GlobalOptions.isURL(location), let openURL { return try await openURL(location) }
        return try await JobStore.open(path: location)
    }

    /// Closes a PostgreSQL store's connection pool; a SQLite store closes when released.
    @Sendable static func close(_ store: JobStore) async {
        #if PostgreSQL
            if let postgres = store.backend as? PostgresJobStore { await postgres.close() }
        #endif
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

extension BenchScenario: ExpressibleByArgument {}
