import Foundation
import JobRunner

/// Seeds the database that bench/dashboard measures `jobctl serve` on: `dashboard-bench-seed PATH JOBS RUNS`
/// (bench/dashboard uses 100,000 jobs and 10,000,000 runs), with the rows the library would have
/// written (see `BenchmarkDatabase.seed`).
@main
struct DashboardBenchSeed {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.count == 3, let path = arguments.first, let jobs = Int(arguments.dropFirst().first ?? ""),
            let runs = Int(arguments.last ?? ""), jobs > 0, runs >= 0
        else {
            FileHandle.standardError.write(Data("usage: dashboard-bench-seed PATH JOBS RUNS\n".utf8))
            exit(64)
        }
        do {
            try await BenchmarkDatabase.seed(path: path, futureJobs: jobs, history: runs)
        } catch {
            FileHandle.standardError.write(Data("dashboard-bench-seed: \(error)\n".utf8))
            exit(1)
        }
    }
}
