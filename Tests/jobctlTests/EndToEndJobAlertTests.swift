import Foundation
import TestSupport
import Testing

/// `jobctl add --on-failure`: stored, shown, refused when bad, and started beside the runner's own.
@Suite("jobctl add --on-failure end to end", .timeLimit(.minutes(2)))
struct EndToEndJobAlertTests {
    @Test("add --on-failure is stored and shown; a bad one is a one-line error that changes nothing")
    func storedShownAndRefused() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        try await s.succeed([
            "add", "nightly", "--every", "1h", "--on-failure", "notify --team 'data eng'", "--", "true",
        ])
        try await s.succeed(["add", "plain", "--every", "1h", "--handler", "tick"])
        #expect(try await s.show("nightly")["onFailure"] as? [String] == ["notify", "--team", "data eng"])
        let jobs = try await s.jobs()
        #expect(jobs["nightly"]?["onFailure"] as? [String] == ["notify", "--team", "data eng"])
        #expect(isNull(jobs["plain"]?["onFailure"]), "a job without one shows null: \(jobs["plain"] ?? [:])")
        let shown = try await s.succeed(["show", "nightly"])
        #expect(shown.stdout.contains("on failure:") && shown.stdout.contains("notify --team 'data eng'"), "\(shown)")

        let before = try await s.dump()
        for arguments in [
            ["add", "bad", "--every", "1m", "--on-failure", "", "--", "true"],
            ["add", "bad", "--every", "1m", "--on-failure", "   ", "--", "true"],
            ["add", "bad", "--every", "1m", "--on-failure", "notify 'unterminated", "--", "true"],
            ["add", "nightly", "--every", "1h", "--replace", "--on-failure", "''", "--", "true"],
        ] {
            expectOneLineError(try await s.jobctl(arguments), status: 64, mentioning: "--on-failure")
        }
        #expect(try await s.dump() == before)

        // --replace without --on-failure takes it away, as it does every other flag not given.
        try await s.succeed(["add", "nightly", "--every", "1h", "--replace", "--", "true"])
        #expect(isNull(try await s.show("nightly")["onFailure"]))
    }

    @Test("a job's own command and the runner's both fire after a failed run, each once, with the run's environment")
    func bothFire() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let jobLog = s.root + "/job-alerts.log"
        let runnerLog = s.root + "/runner-alerts.log"
        try await s.succeed([
            "add", "broken", "--every", "1h", "--delay", "0s",
            "--on-failure", "sh -c 'echo \"$JOB_NAME $JOB_OUTCOME $JOB_EXIT_CODE $JOB_RUN_ID\" >> \(jobLog)'",
            "--", "sh", "-c", "exit 7",
        ])
        try await s.succeed(["add", "quiet", "--every", "1h", "--delay", "0s", "--", "sh", "-c", "exit 3"])
        let runner = try await s.startRunner([
            "--on-failure", "sh -c 'echo \"$JOB_NAME $JOB_OUTCOME\" >> \(runnerLog)'",
        ])
        defer { runner.killAndReap() }
        let run = try await s.waitForRun("broken", outcome: "failed")
        _ = try await s.waitForRun("quiet", outcome: "failed")
        try await waitUntil("both alert commands ran") {
            let job = (try? String(contentsOfFile: jobLog, encoding: .utf8)) ?? ""
            let runner = (try? String(contentsOfFile: runnerLog, encoding: .utf8)) ?? ""
            return job.contains("\n") && runner.split(separator: "\n").count == 2
        }
        _ = try await s.stopCleanly(runner)
        let jobLines = try String(contentsOfFile: jobLog, encoding: .utf8).split(separator: "\n")
        #expect(jobLines == ["broken failed 7 \(int(run["id"]) ?? -1)"], "only the job's own failure, once")
        let runnerLines = try String(contentsOfFile: runnerLog, encoding: .utf8).split(separator: "\n")
        #expect(Set(runnerLines) == ["broken failed", "quiet failed"], "the runner's command fires for every job")
    }
}
