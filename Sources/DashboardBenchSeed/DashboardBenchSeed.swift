import Foundation
import JobRunner

#if PostgreSQL
    import JobRunnerPostgres
#endif

/// Seeds the database that bench/dashboard measures `jobctl serve` on: `dashboard-bench-seed DATABASE
/// JOBS RUNS` (bench/dashboard uses 100,000 jobs and 10,000,000 runs), with the rows the library would
/// have written: a SQLite file at a path (see `BenchmarkDatabase.seed`) or, built with the PostgreSQL
/// trait, an empty PostgreSQL database at a `postgres://` URL (see `PostgresJobStore.seedDashboardBench`).
@main
struct DashboardBenchSeed {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.count == 3, let database = arguments.first, let jobs = Int(arguments.dropFirst().first ?? ""),
            let runs = Int(arguments.last ?? ""), jobs > 0, runs >= 0
        else {
            FileHandle.standardError.write(Data("usage: dashboard-bench-seed DATABASE JOBS RUNS\n".utf8))
            exit(64)
        }
        do {
            if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
                #if PostgreSQL
                    let store = try await PostgresJobStore.open(url: database)
                    do {
                        try await store.seedDashboardBench(futureJobs: jobs, history: runs)
                    } catch {
                        await store.close()
                        throw error
                    }
                    await store.close()
                #else
                    FileHandle.standardError.write(
                        Data("dashboard-bench-seed: a PostgreSQL URL needs a build with the PostgreSQL trait\n".utf8))
                    exit(64)
                #endif
            } else {
                try await BenchmarkDatabase.seed(path: database, futureJobs: jobs, history: runs)
            }
        } catch {
            FileHandle.standardError.write(Data("dashboard-bench-seed: \(error)\n".utf8))
            exit(1)
        }
    }
}
