import Foundation
import TestSupport
import Testing

/// `jobctl bench --quick --json` runs as a process and reports every scenario. It measures nothing
/// meaningful at these counts; the figures live in BENCHMARKS.md.
@Suite("jobctl bench smoke")
struct BenchSmokeTests {
    static let scenarios = ["throughput", "lateness", "scale", "idle", "wake", "drain", "cron"]

    @Test("reports every scenario", .timeLimit(.minutes(2)))
    func quickRunReportsEveryScenario() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        // The time limit bounds the run; the harness's own deadline only has to stay out of its way.
        let bench = try await s.jobctl(
            ["bench", "--quick", "--json", "--dir", s.root], db: .omitted, timeout: .seconds(120))
        #expect(bench.status == 0, "jobctl bench failed:\n\(bench.stderr.suffix(3000))")

        let data = Data(bench.stdout.utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        #expect(scenarios.compactMap { $0["name"] as? String } == Self.scenarios)
        for scenario in scenarios {
            let metrics = scenario["metrics"] as? [[String: Any]] ?? []
            #expect(!metrics.isEmpty, "scenario \(scenario["name"] ?? "?") reported no figures")
        }
        // Its temporary databases are gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: s.root).filter {
            $0.hasPrefix("jobctl-bench-")
        }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("alert-hooks runs when named: hanging alert commands start, and none is left after", .timeLimit(.minutes(2)))
    func alertHooksScenario() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let bench = try await s.jobctl(
            ["bench", "--quick", "--json", "--scenario", "alert-hooks", "--dir", s.root], db: .omitted,
            timeout: .seconds(120))
        #expect(bench.status == 0, "jobctl bench failed:\n\(bench.stderr.suffix(3000))")
        let data = Data(bench.stdout.utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let scenario = try #require((document["scenarios"] as? [[String: Any]])?.first)
        #expect(scenario["name"] as? String == "alert-hooks")
        var figures: [String: Double] = [:]
        for metric in scenario["metrics"] as? [[String: Any]] ?? [] {
            if let key = metric["key"] as? String, let median = metric["median"] as? Double { figures[key] = median }
        }
        for variant in ["none", "hanging", "failing"] {
            #expect((figures["\(variant)_runs"] ?? 0) > 0, "\(variant): no runs measured: \(figures)")
            #expect((figures["\(variant)_failed_runs"] ?? 0) > 0, "\(variant): no run failed: \(figures)")
        }
        #expect((figures["hanging_commands"] ?? 0) > 0, "no hanging alert command was started: \(figures)")
        #expect(figures["hanging_left_over"] == 0, "\(figures)")
    }
}
