import Foundation
import TestSupport
import Testing

/// `jobctl run`'s log lines: a failed run says why, as text and as JSON (`--log-format json`).
@Suite("jobctl run log lines end to end", .timeLimit(.minutes(2)))
struct EndToEndRunLogTests {
    @Test("a failed run is logged as a warning with its exit code and error, in text and in JSON")
    func failedRunLogLines() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed(["add", "fail", "--every", "1h", "--delay", "0s", "--", "sh", "-c", "exit 7"])
        try await s.succeed(["add", "fine", "--every", "1h", "--delay", "0s", "--handler", "tick"])

        let text = try await s.startRunner()
        _ = try await s.waitForRun("fail", outcome: "failed")
        _ = try await s.waitForRun("fine", outcome: "ok")
        let textLog = try await s.stopCleanly(text)
        let failedLine = try #require(
            textLog.stderrLines.first { $0.contains("run finished") && $0.contains("job.name=fail") }, "\(textLog)")
        #expect(failedLine.contains(" warning run finished "), "\(failedLine)")
        #expect(failedLine.contains("run.exit_code=7"), "\(failedLine)")
        #expect(failedLine.contains(#"run.error="exited with status 7""#), "\(failedLine)")
        #expect(failedLine.contains("run.outcome=failed"), "\(failedLine)")
        let fineLine = try #require(
            textLog.stderrLines.first { $0.contains("run finished") && $0.contains("job.name=fine") }, "\(textLog)")
        #expect(fineLine.contains(" info run finished ") && !fineLine.contains("run.error"), "\(fineLine)")

        // The same as JSON, one object a line, every line of the runner.
        try await s.succeed(["trigger", "fail"])
        let json = try await s.startRunner(["--log-format", "json"])
        try await waitUntil("the triggered run failed") { try await s.history("fail", status: "failed").count == 2 }
        let jsonLog = try await s.stopCleanly(json)
        var finished: [String: Any]?
        for line in jsonLog.stderrLines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let entry = try #require(object, "not a JSON object: \(line)")
            #expect(entry["level"] is String && entry["message"] is String, "\(line)")
            #expect(rfc3339Micros(entry["time"]) != nil, "\(line)")
            if entry["message"] as? String == "run finished" && entry["job.name"] as? String == "fail" {
                finished = entry
            }
        }
        let entry = try #require(finished, "no run finished line for fail:\n\(jsonLog.stderr)")
        #expect(entry["level"] as? String == "warning")
        #expect(entry["run.outcome"] as? String == "failed")
        #expect(entry["run.exit_code"] as? String == "7")
        #expect(entry["run.error"] as? String == "exited with status 7")
        #expect(entry["job.run_id"] is String && entry["run.duration_ms"] is String)

        expectOneLineError(try await s.jobctl(["run", "--log-format", "xml"]), status: 64, mentioning: "xml")
    }
}
