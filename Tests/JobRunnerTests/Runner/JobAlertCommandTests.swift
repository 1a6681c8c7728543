import Foundation
import TestSupport
import Testing

@testable import JobRunner

/// A job's own failure alert command (``JobDefinition/onFailure``): validated, stored, started by
/// every runner beside the runner's own targets.
@Suite("Failure alerts: a job's own command", .timeLimit(.minutes(1)))
struct JobAlertCommandTests {
    @Test("an empty or malformed on-failure command is refused and changes nothing")
    func refusesBadCommands() async throws {
        try await withTemporaryDatabase { store, _ in
            try await store.add(
                JobDefinition(name: "j", action: .handler("tick"), schedule: .every(.seconds(60)), onFailure: ["a"]))
            let before = try await store.job(named: "j")
            for (argv, message) in [
                ([], "must not be empty"), ([""], "must not be empty"), (["  "], "must not be empty"),
                (["notify", "a\0b"], "NUL"),
                (Array(repeating: "x", count: JobDefinition.maximumArguments + 1), "arguments"),
            ] as [([String], String)] {
                let definition = JobDefinition(
                    name: "j", action: .handler("tick"), schedule: .every(.seconds(60)), onFailure: argv)
                let error = await #expect(throws: JobRunnerError.self) {
                    try await store.add(definition, replace: true)
                }
                #expect(error?.message.contains(message) == true, "\(argv.prefix(3)): \(String(describing: error))")
                #expect(error?.message.contains("on-failure") == true, "the message names the field")
            }
            #expect(try await store.job(named: "j") == before)
        }
    }

    @Test("it round-trips through the store, is changed by a declare and taken away by one without it")
    func roundTrip() async throws {
        try await withTemporaryDatabase { store, _ in
            var definition = JobDefinition(
                name: "j", action: .command(["true"], workingDirectory: "/"), schedule: .every(.seconds(60)),
                onFailure: ["notify", "--to", "ops team", "ünïcode", "$HOME", ""])
            try await store.add(definition)
            #expect(try await store.job(named: "j")?.definition.onFailure == definition.onFailure)
            #expect(try await store.declare(definition) == .unchanged)
            definition.onFailure = ["page"]
            #expect(try await store.declare(definition) == .updated)
            #expect(try await store.job(named: "j")?.definition.onFailure == ["page"])
            definition.onFailure = nil
            #expect(try await store.declare(definition) == .updated)
            #expect(try await store.job(named: "j")?.definition.onFailure == nil)
        }
    }

    @Test("the job's command and the runner's both start, and one argv only once")
    func commandsOfOneAlert() {
        let both = FailureAlerting.commands(job: ["notify-owner"], runner: ["page-oncall"])
        #expect(both.map(\.source) == ["job", "runner"])
        #expect(both.map(\.argv) == [["notify-owner"], ["page-oncall"]])
        #expect(FailureAlerting.commands(job: ["page"], runner: ["page"]).map(\.argv) == [["page"]])
        #expect(FailureAlerting.commands(job: nil, runner: ["page"]).map(\.source) == ["runner"])
        #expect(FailureAlerting.commands(job: ["notify"], runner: nil).map(\.source) == ["job"])
        #expect(FailureAlerting.commands(job: nil, runner: nil).isEmpty)
    }

    @Test("a runner with no alert policy still starts a job's own command, with the run in its environment")
    func jobCommandWithoutRunnerPolicy() async throws {
        try await withTemporaryDirectory { directory in
            try await withTemporaryDatabase { store, _ in
                let script = #"env > "$0/tmp-$JOB_RUN_ID" && mv "$0/tmp-$JOB_RUN_ID" "$0/alert-$JOB_RUN_ID.env""#
                try await store.add(
                    JobDefinition(
                        name: "broken",
                        action: .command(["/bin/sh", "-c", "echo it broke; exit 3"], workingDirectory: nil),
                        schedule: .after(.zero), onFailure: ["/bin/sh", "-c", script, directory]))
                try await store.add(
                    JobDefinition(
                        name: "fine", action: .command(["/bin/sh", "-c", "exit 4"], workingDirectory: nil),
                        schedule: .after(.zero)))
                let runner = JobRunner(store: store, configuration: manualRunnerConfiguration(), logger: quietLogger)
                var runID: Int64 = 0
                try await withRunner(runner) { events in
                    guard
                        case .finished(let id, "broken", .failed)? = await events.next(where: {
                            if case .finished(_, "broken", _) = $0 { true } else { false }
                        })
                    else {
                        Issue.record("the command did not fail")
                        return
                    }
                    runID = id
                    try await waitUntil("the job's alert command wrote its file") {
                        FileManager.default.fileExists(atPath: "\(directory)/alert-\(id).env")
                    }
                }
                let env = try String(contentsOfFile: "\(directory)/alert-\(runID).env", encoding: .utf8)
                let lines = Set(env.split(separator: "\n").map(String.init))
                #expect(lines.contains("JOB_NAME=broken"))
                #expect(lines.contains("JOB_OUTCOME=failed"))
                #expect(lines.contains("JOB_EXIT_CODE=3"))
                #expect(lines.contains("JOB_ATTEMPT=1"))
                #expect(lines.contains { $0.hasPrefix("JOB_OUTPUT_FILE=") })
                // Only the job with a command of its own alerts: "fine" failed too, silently.
                let files = try FileManager.default.contentsOfDirectory(atPath: directory)
                #expect(files == ["alert-\(runID).env"])
            }
        }
    }

    @Test("with a runner policy, the hook, the job's command and the runner's command all fire")
    func allTargetsFire() async throws {
        try await withTemporaryDirectory { directory in
            try await withTemporaryDatabase { store, _ in
                let inbox = AlertInbox()
                try await store.add(
                    JobDefinition(
                        name: "broken", action: .command(["/bin/sh", "-c", "exit 3"], workingDirectory: nil),
                        schedule: .after(.zero),
                        onFailure: [
                            "/bin/sh", "-c", #"echo "$JOB_NAME" > "$0/tmp-job" && mv "$0/tmp-job" "$0/job""#, directory,
                        ]))
                var configuration = manualRunnerConfiguration()
                configuration.onFailure = FailureAlerting(
                    hook: inbox.hook,
                    command: [
                        "/bin/sh", "-c", #"echo "$JOB_NAME" > "$0/tmp-runner" && mv "$0/tmp-runner" "$0/runner""#,
                        directory,
                    ])
                let runner = JobRunner(store: store, configuration: configuration, logger: quietLogger)
                try await withRunner(runner) { _ in
                    let alert = try #require(await inbox.next())
                    #expect(alert.job == "broken")
                    try await waitUntil("both alert commands wrote their files") {
                        FileManager.default.fileExists(atPath: "\(directory)/job")
                            && FileManager.default.fileExists(atPath: "\(directory)/runner")
                    }
                }
                #expect(try String(contentsOfFile: "\(directory)/job", encoding: .utf8) == "broken\n")
                #expect(try String(contentsOfFile: "\(directory)/runner", encoding: .utf8) == "broken\n")
            }
        }
    }
}
