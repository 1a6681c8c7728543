import Foundation
import Synchronization
import TestSupport
import Testing

@testable import JobRunner

/// Collects the alerts a hook receives, for the test to wait on.
final class AlertInbox: Sendable {
    private let alerts = Mutex<[FailureAlert]>([])
    let stream: AsyncStream<FailureAlert>
    private let continuation: AsyncStream<FailureAlert>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream() }

    var hook: @Sendable (FailureAlert) async -> Void {
        { alert in
            self.alerts.withLock { $0.append(alert) }
            self.continuation.yield(alert)
        }
    }

    var received: [FailureAlert] { alerts.withLock { $0 } }

    /// The next alert delivered.
    func next() async -> FailureAlert? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }
}

@Suite("Failure alerts", .timeLimit(.minutes(1)))
struct FailureAlertTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "boom" }
    }

    @Test("a failed run is alerted once, with its details; within the interval others are only counted")
    func rateLimitedPerJob() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let inbox = AlertInbox()
            var registry = JobRegistry()
            registry.register("fails") { _ in throw Boom() }
            try await store.add(
                JobDefinition(
                    name: "flaky", action: .handler("fails"), schedule: .every(.seconds(1)), initialDelay: .zero))
            var configuration = manualRunnerConfiguration()
            configuration.onFailure = FailureAlerting(hook: inbox.hook, interval: .seconds(5))
            let runner = JobRunner(
                store: store, registry: registry, configuration: configuration, clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                let first = try #require(await inbox.next())
                #expect(first.job == "flaky")
                #expect(first.outcome == .failed)
                #expect(first.error == "boom")
                #expect(first.suppressed == 0)
                #expect(!first.jobPaused)
                #expect(first.scheduledFor == newYear2026)
                // Four more failures within 5 s: counted, not delivered.
                for _ in 1...4 {
                    await clock.waitUntilSleeping(count: 2)
                    clock.advance(by: .seconds(1))
                    #expect(await events.finished(1).first?.outcome == .failed)
                }
                #expect(inbox.received.count == 1)
                await clock.waitUntilSleeping(count: 2)
                clock.advance(by: .seconds(1))
                let second = try #require(await inbox.next())
                #expect(second.suppressed == 4)
                #expect(second.scheduledFor == newYear2026 + 5_000_000)
            }
            #expect(inbox.received.count == 2)
        }
    }

    @Test("a hook that hangs is cancelled after its timeout and never holds up the runs")
    func hangingHook() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let cancelled = AsyncStream.makeStream(of: Bool.self)
            var registry = JobRegistry()
            registry.register("fails") { _ in throw Boom() }
            try await store.add(
                JobDefinition(
                    name: "flaky", action: .handler("fails"), schedule: .every(.seconds(1)), initialDelay: .zero))
            var configuration = manualRunnerConfiguration()
            configuration.onFailure = FailureAlerting(
                hook: { _ in
                    try? await Task.sleep(for: .seconds(600))
                    cancelled.continuation.yield(Task.isCancelled)
                },
                interval: .zero, timeout: .milliseconds(200))
            let runner = JobRunner(
                store: store, registry: registry, configuration: configuration, clock: clock, logger: quietLogger)
            try await withRunner(runner) { events in
                #expect(await events.finished(1).first?.outcome == .failed)
                // The hook of the first failure hangs; the runner goes on failing every second.
                for _ in 1...3 {
                    await clock.waitUntilSleeping(count: 2)
                    clock.advance(by: .seconds(1))
                    #expect(await events.finished(1).first?.outcome == .failed)
                }
                var iterator = cancelled.stream.makeAsyncIterator()
                #expect(await iterator.next() == true, "the hook was cancelled at its timeout")
            }
        }
    }

    @Test("a command alert gets the run in its environment and the output's tail in a file")
    func commandAlert() async throws {
        try await withTemporaryDirectory { directory in
            try await withTemporaryDatabase { store, _ in
                let script = """
                    env > "\(directory)/alert-$JOB_RUN_ID.env"; cat "$JOB_OUTPUT_FILE" > "\(directory)/alert-$JOB_RUN_ID.out"
                    """
                try await store.add(
                    JobDefinition(
                        name: "broken",
                        action: .command(["/bin/sh", "-c", "echo it broke; exit 3"], workingDirectory: nil),
                        schedule: .after(.zero)))
                var configuration = manualRunnerConfiguration()
                configuration.onFailure = FailureAlerting(command: ["/bin/sh", "-c", script])
                let runner = JobRunner(store: store, configuration: configuration, logger: quietLogger)
                var runID: Int64 = 0
                try await withRunner(runner) { events in
                    guard
                        case .finished(let id, "broken", .failed)? = await events.next(where: {
                            if case .finished = $0 { true } else { false }
                        })
                    else {
                        Issue.record("the command did not fail")
                        return
                    }
                    runID = id
                    try await waitUntil("the alert command wrote its files", timeout: .seconds(30)) {
                        FileManager.default.fileExists(atPath: "\(directory)/alert-\(id).out")
                            && FileManager.default.fileExists(atPath: "\(directory)/alert-\(id).env")
                    }
                }
                let env = try String(contentsOfFile: "\(directory)/alert-\(runID).env", encoding: .utf8)
                let lines = Set(env.split(separator: "\n").map(String.init))
                #expect(lines.contains("JOB_NAME=broken"))
                #expect(lines.contains("JOB_RUN_ID=\(runID)"))
                #expect(lines.contains("JOB_OUTCOME=failed"))
                #expect(lines.contains("JOB_EXIT_CODE=3"))
                #expect(lines.contains("JOB_ERROR=exited with status 3"))
                #expect(lines.contains("JOB_PAUSED=0"))
                #expect(lines.contains("JOB_SUPPRESSED=0"))
                #expect(lines.contains("JOB_ATTEMPT=1"))
                #expect(lines.contains { $0.hasPrefix("JOB_DATABASE=") })
                let output = try String(contentsOfFile: "\(directory)/alert-\(runID).out", encoding: .utf8)
                #expect(output == "it broke\n")
                let tail = try #require(lines.first { $0.hasPrefix("JOB_OUTPUT_FILE=") }).dropFirst(
                    "JOB_OUTPUT_FILE=".count)
                #expect(!FileManager.default.fileExists(atPath: String(tail)), "the output file is removed afterwards")
            }
        }
    }

    @Test("the runner that rescues an abandoned run alerts on it, and says when the job was paused as poison")
    func abandonedAndPaused() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            let inbox = AlertInbox()
            try await store.add(
                JobDefinition(
                    name: "crashy", action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero))
            var configuration = manualRunnerConfiguration()
            configuration.onFailure = FailureAlerting(hook: inbox.hook, interval: .zero)
            // Runners on another host claim the job and die, three times in a row; the first two are
            // rescued by the store alone (a live runner would run the job again and end the streak).
            var lastClaim: Claim?
            for round in 1...JobTransition.abandonLimit {
                let dead = try await store.registerRunner(
                    host: "elsewhere", pid: 1, lease: .seconds(10), queues: nil, concurrency: 1, now: clock.now())
                let batch = try await store.claim(
                    runnerID: dead, now: clock.now(),
                    scope: ClaimScope(queues: nil, handlers: ["tick"], slots: 1, misfireGrace: 3_600_000_000))
                let claim = try #require(batch.claims.first, "round \(round)")
                lastClaim = claim
                clock.advance(by: .seconds(11))
                if round < JobTransition.abandonLimit {
                    let rescued = try await store.rescueOrphans(
                        selfID: nil, host: "here", now: clock.now(), isProcessAlive: { _ in true })
                    #expect(rescued.count == 1)
                }
            }
            let runner = JobRunner(store: store, configuration: configuration, clock: clock, logger: quietLogger)
            try await withRunner(runner) { _ in
                let alert = try #require(await inbox.next())
                #expect(alert.runID == lastClaim?.runID)
                #expect(alert.outcome == .abandoned)
                #expect(alert.jobPaused)
                #expect(alert.error?.contains("died") == true)
            }
            #expect(try await store.job(named: "crashy")?.state == .paused)
        }
    }
}
