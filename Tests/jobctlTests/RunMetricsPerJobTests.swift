import Foundation
import TestSupport
import Testing

/// `jobctl run --metrics-per-job`: refused without `--metrics-listen`; with it (and the Dashboard
/// trait), `/metrics` carries one set of series per job, and without it none.
@Suite("jobctl run --metrics-per-job", .serialized, .timeLimit(.minutes(3)))
struct RunMetricsPerJobTests {
    @Test("--metrics-per-job without --metrics-listen is a one-line usage error that creates nothing")
    func needsMetricsListen() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.cleanup() }
        let result = try await sandbox.jobctl(["run", "--metrics-per-job"])
        expectOneLineError(result, status: 64, mentioning: "--metrics-listen")
        #expect(result.stderr.contains("--metrics-per-job"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.db), "no database was created")
    }

    #if Dashboard
        /// The samples of a Prometheus text document: each line that is not a comment, as its series
        /// (name and labels, as written) and value.
        static func samples(_ text: String) -> [(series: String, value: Double)] {
            text.split(separator: "\n").compactMap { line in
                guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "),
                    let value = Double(line[line.index(after: space)...])
                else { return nil }
                return (String(line[..<space]), value)
            }
        }

        /// Runs `jobctl run --metrics-listen` (plus `extra`) over a job `tick` every 100 ms until
        /// /metrics counts 3 ok runs, and returns that document's samples; then drains the runner.
        static func metricsAfterThreeRuns(_ extra: [String]) async throws -> [(series: String, value: Double)] {
            let sandbox = try Sandbox("metrics-per-job", exportsDatabase: false)
            defer { sandbox.cleanup() }
            let add = try await sandbox.run(
                executable: sandbox.jobctlPath,
                ["add", "tick", "--every", "100ms", "--delay", "0s", "--handler", "tick", "--db", sandbox.db])
            #expect(add.status == 0, "\(add)")
            let runner = try sandbox.launch(
                executable: sandbox.jobctlPath,
                ["run", "--db", sandbox.db, "--metrics-listen", "127.0.0.1:0"] + extra)
            let base = try await waitFor("the runner logs where its metrics are", timeout: .seconds(30)) {
                () -> String? in
                if let status = runner.poll() { throw HarnessError("run exited (\(status)): \(runner.transcript())") }
                guard let range = runner.stderr.range(of: "metrics at http://") else { return nil }
                return "http://" + runner.stderr[range.upperBound...].prefix { $0 != "/" }
            }
            let file = sandbox.root + "/metrics.txt"
            let samples = try await waitFor("the runner's metrics count 3 ok runs", timeout: .seconds(30)) {
                () -> [(series: String, value: Double)]? in
                let curl = try await sandbox.run(executable: "/usr/bin/curl", ["-sS", "-o", file, base + "/metrics"])
                guard curl.status == 0 else { return nil }
                let samples = Self.samples(try String(contentsOfFile: file, encoding: .utf8))
                let ok = samples.first { $0.series == #"jobrunner_runs_total{outcome="ok"}"# }
                return (ok?.value ?? 0) >= 3 ? samples : nil
            }
            let drain = try await sandbox.run(executable: sandbox.jobctlPath, ["drain", "--db", sandbox.db])
            #expect(drain.status == 0, "\(drain)")
            #expect(await runner.waitForExit(timeout: .seconds(30)), "the runner exits after a drain")
            return samples
        }

        @Test("with --metrics-per-job, /metrics has the job's own series; without it, none")
        func perJobSeries() async throws {
            let perJob = try await Self.metricsAfterThreeRuns(["--metrics-per-job"])
            let runs = perJob.first {
                $0.series.hasPrefix("jobrunner_job_runs_total{") && $0.series.contains(#"job="tick""#)
                    && $0.series.contains(#"outcome="ok""#)
            }
            #expect((runs?.value ?? 0) >= 3, "\(perJob.map(\.series))")
            for name in ["jobrunner_job_run_duration_seconds_count", "jobrunner_job_run_lateness_seconds_count"] {
                #expect(
                    perJob.contains { $0.series.hasPrefix(name + "{") && $0.series.contains(#"job="tick""#) },
                    "\(name) missing: \(perJob.map(\.series))")
            }

            let plain = try await Self.metricsAfterThreeRuns([])
            #expect(!plain.contains { $0.series.hasPrefix("jobrunner_job_") }, "\(plain.map(\.series))")
            #expect(!plain.contains { $0.series.contains(#"job="tick""#) }, "no series names the job")
        }
    #endif
}
