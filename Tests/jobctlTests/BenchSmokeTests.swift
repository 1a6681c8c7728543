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
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bench-smoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        let output = temporary.appendingPathComponent("out.json")
        let errors = temporary.appendingPathComponent("err.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try PackageLayout.requireJobctl())
        process.arguments = ["bench", "--quick", "--json", "--dir", temporary.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "jobctl bench failed:\n\(stderr.suffix(3000))")

        let data = try Data(contentsOf: output)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        #expect(scenarios.compactMap { $0["name"] as? String } == Self.scenarios)
        for scenario in scenarios {
            let metrics = scenario["metrics"] as? [[String: Any]] ?? []
            #expect(!metrics.isEmpty, "scenario \(scenario["name"] ?? "?") reported no figures")
        }
        // Its temporary databases are gone.
        let left = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter {
            $0.hasPrefix("jobctl-bench-")
        }
        #expect(left.isEmpty, "left behind: \(left)")
    }
}
