import Foundation
import TestSupport
import Testing

@testable import JobRunner

/// A job's own failure alert command (`jobctl add --on-failure`, ``JobDefinition/onFailure``) for the
/// outcomes other than `failed`: a run that timed out, one abandoned by a runner that died and
/// rescued by another, and a job paused as poison. Each fires once, with the environment the
/// FailureAlerts article documents.
@Suite("Failure alerts: a job's own command on timeout, abandoned and poison", .timeLimit(.minutes(1)))
struct JobAlertOutcomeTests {
    /// An alert command that records its environment in `directory`/alert-RUN.env (written whole,
    /// then renamed) and appends the run id to `directory`/fired, one line per start.
    static func recorder(_ directory: String) -> [String] {
        [
            "/bin/sh", "-c",
            #"echo "$JOB_RUN_ID" >> "$0/fired"; env > "$0/tmp-$JOB_RUN_ID" && mv "$0/tmp-$JOB_RUN_ID" "$0/alert-$JOB_RUN_ID.env""#,
            directory,
        ]
    }

    /// The environment the alert for `runID` recorded, by name.
    static func environment(_ directory: String, runID: Int64) throws -> [String: String] {
        let text = try String(contentsOfFile: "\(directory)/alert-\(runID).env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    /// The run ids the alert command was started for, in order.
    static func fired(_ directory: String) throws -> [String] {
        try String(contentsOfFile: "\(directory)/fired", encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test("a run that times out: the job's command fires once, with JOB_OUTCOME=timeout and its output")
    func timeout() async throws {
        try await withTemporaryDirectory { directory in
            try await withTemporaryDatabase { store, _ in
                try await store.add(
                    JobDefinition(
                        name: "slow",
                        action: .command(["/bin/sh", "-c", "echo started; exec sleep 30"], workingDirectory: nil),
                        schedule: .after(.zero), timeout: .milliseconds(300), onFailure: Self.recorder(directory)))
                let runner = JobRunner(store: store, configuration: manualRunnerConfiguration(), logger: quietLogger)
                let scheduledFor = try await store.job(named: "slow")?.nextRunAt
                var runID: Int64 = 0
                try await withRunner(runner) { events in
                    let finished = await events.next {
                        if case .finished(_, "slow", _) = $0 { true } else { false }
                    }
                    guard case .finished(let id, _, .timeout)? = finished else {
                        Issue.record("the run did not time out: \(String(describing: finished))")
                        return
                    }
                    runID = id
                    try await waitUntil("the job's alert command recorded its environment", timeout: .seconds(30)) {
                        FileManager.default.fileExists(atPath: "\(directory)/alert-\(id).env")
                    }
                }
                #expect(try Self.fired(directory) == ["\(runID)"], "started once, for this run")
                let env = try Self.environment(directory, runID: runID)
                #expect(env["JOB_NAME"] == "slow")
                #expect(env["JOB_RUN_ID"] == "\(runID)")
                #expect(env["JOB_OUTCOME"] == "timeout")
                #expect(env["JOB_ERROR"]?.isEmpty == false, "the error says what happened: \(env["JOB_ERROR"] ?? "")")
                #expect(env["JOB_PAUSED"] == "0")
                #expect(env["JOB_SUPPRESSED"] == "0")
                #expect(env["JOB_ATTEMPT"] == "1")
                #expect(env["JOB_SCHEDULED_FOR"] == Timestamp.formatRFC3339UTC(try #require(scheduledFor)))
                #expect(env["JOB_DATABASE"] == store.databaseName)
                #expect(env["JOB_OUTPUT_FILE"]?.isEmpty == false)
                #expect(try await store.job(named: "slow")?.lastOutcome == .timeout)
            }
        }
    }

    /// A runner on another host claims `name` and dies: its lease runs out on `clock`. Returns the claim.
    static func claimAndDie(_ store: JobStore, _ name: String, clock: ManualJobClock) async throws -> Claim {
        let dead = try await store.registerRunner(
            host: "elsewhere", pid: 1, lease: .seconds(10), queues: nil, concurrency: 1, now: clock.now())
        let batch = try await store.claim(
            runnerID: dead, now: clock.now(),
            scope: ClaimScope(queues: nil, handlers: ["tick"], slots: 1, misfireGrace: 3_600_000_000))
        let claim = try #require(batch.claims.first, "the dying runner claimed \(name)")
        #expect(claim.jobName == name)
        clock.advance(by: .seconds(11))
        return claim
    }

    @Test("a run abandoned by a runner that died: the rescuing runner starts the job's command once")
    func abandoned() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDirectory { directory in
            try await withTemporaryDatabase(clock: clock) { store, _ in
                try await store.add(
                    JobDefinition(
                        name: "crashy", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero,
                        onFailure: Self.recorder(directory)))
                let claim = try await Self.claimAndDie(store, "crashy", clock: clock)
                // This runner serves no handler "tick": it rescues, and never runs the job itself.
                let runner = JobRunner(
                    store: store, configuration: manualRunnerConfiguration(), clock: clock, logger: quietLogger)
                try await withRunner(runner) { _ in
                    try await waitUntil("the job's alert command recorded its environment", timeout: .seconds(30)) {
                        FileManager.default.fileExists(atPath: "\(directory)/alert-\(claim.runID).env")
                    }
                }
                #expect(try Self.fired(directory) == ["\(claim.runID)"], "started once, for the abandoned run")
                let env = try Self.environment(directory, runID: claim.runID)
                #expect(env["JOB_NAME"] == "crashy")
                #expect(env["JOB_OUTCOME"] == "abandoned")
                #expect(env["JOB_ERROR"]?.contains("died") == true, "\(env["JOB_ERROR"] ?? "")")
                #expect(env["JOB_EXIT_CODE"] == nil, "no process exited")
                #expect(env["JOB_PAUSED"] == "0", "one abandoned run does not make a poison job")
                #expect(env["JOB_ATTEMPT"] == "1")
                #expect(env["JOB_SCHEDULED_FOR"] == Timestamp.formatRFC3339UTC(claim.scheduledFor))
                #expect(env["JOB_DATABASE"] == store.databaseName)
                let run = try #require(try await store.run(id: claim.runID))
                #expect(run.outcome == .abandoned)
                #expect(try await store.job(named: "crashy")?.state == .active)
            }
        }
    }

    @Test("a job paused as poison: its command fires once, for the last abandoned run, with JOB_PAUSED=1")
    func poison() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDirectory { directory in
            try await withTemporaryDatabase(clock: clock) { store, _ in
                try await store.add(
                    JobDefinition(
                        name: "poison", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero,
                        onFailure: Self.recorder(directory)))
                // Runners die holding it, abandonLimit times in a row; all but the last are rescued
                // by the store alone (no runner, no alert), the last by a runner, which pauses it.
                var last: Claim?
                for round in 1...JobTransition.abandonLimit {
                    last = try await Self.claimAndDie(store, "poison", clock: clock)
                    if round < JobTransition.abandonLimit {
                        let rescued = try await store.rescueOrphans(
                            selfID: nil, host: "here", now: clock.now(), isProcessAlive: { _ in true })
                        #expect(rescued == [last?.runID].compactMap { $0 })
                    }
                }
                let claim = try #require(last)
                let runner = JobRunner(
                    store: store, configuration: manualRunnerConfiguration(), clock: clock, logger: quietLogger)
                try await withRunner(runner) { _ in
                    try await waitUntil("the job's alert command recorded its environment", timeout: .seconds(30)) {
                        FileManager.default.fileExists(atPath: "\(directory)/alert-\(claim.runID).env")
                    }
                }
                #expect(try Self.fired(directory) == ["\(claim.runID)"], "started once, for the run that paused it")
                let env = try Self.environment(directory, runID: claim.runID)
                #expect(env["JOB_NAME"] == "poison")
                #expect(env["JOB_OUTCOME"] == "abandoned")
                #expect(env["JOB_PAUSED"] == "1")
                #expect(env["JOB_ERROR"]?.contains("died") == true, "\(env["JOB_ERROR"] ?? "")")
                #expect(env["JOB_SUPPRESSED"] == "0")
                #expect(env["JOB_DATABASE"] == store.databaseName)
                #expect(try await store.job(named: "poison")?.state == .paused)
            }
        }
    }
}
