import ArgumentParser
import Foundation
import JobRunner
import Logging
import Testing

@testable import jobctl

/// `run --log-format` and the shape of a log line, in process.
@Suite("jobctl run log lines", .timeLimit(.minutes(2)))
struct RunLogParsingTests: CommandLineParsing {
    @Test("run --log-format: text or json")
    func logFormat() throws {
        #expect(try parse(["run", "--log-format", "json"], as: Run.self).logFormat == "json")
        #expect(try parse(["run"], as: Run.self).logFormat == "text")
        expectUsageError(["run", "--log-format", "xml"], mentioning: "xml")
    }

    @Test("a JSON log line: time, level, message, label and the metadata as fields")
    func jsonLogLine() throws {
        let line = RunLogHandler.jsonLine(
            time: try Timestamp.parseRFC3339("2026-11-30T10:00:00.5Z"), level: .warning, message: "run finished",
            label: "jobctl",
            metadata: [
                "run.exit_code": "3", "run.error": "exited with status 3", "message": "clash",
                "nested": .dictionary(["a": .array(["1", "2"])]),
            ])
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2026-11-30T10:00:00.500000Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "run finished")
        #expect(object["label"] as? String == "jobctl")
        #expect(object["run.exit_code"] as? String == "3")
        #expect(object["run.error"] as? String == "exited with status 3")
        #expect(object["metadata.message"] as? String == "clash")
        #expect((object["nested"] as? [String: Any])?["a"] as? [String] == ["1", "2"])
        let text = RunLogHandler.textLine(
            time: 0, level: .warning, message: "run finished", metadata: ["run.exit_code": "3"])
        #expect(text.hasSuffix(" warning run finished run.exit_code=3"))
    }
}
