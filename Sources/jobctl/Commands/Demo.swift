import ArgumentParser
import Foundation
import JobRunner
import Logging

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show JobRunner working: schedule a tick every 100ms and a command, run a runner, drain.",
        discussion: """
            Declares `demo-tick` (the built-in tick handler every 100ms) and `demo-echo` (the command \
            `echo hello from JobRunner` every second) in the database, runs a runner for --for, drains it, \
            and prints the counters and the recent history. Run it again: the counters carry on.

            Example: jobctl demo --for 3s
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        name: .customLong("for"), parsing: .unconditional,
        help: ArgumentHelp("How long to run the runner.", valueName: "duration"))
    var duration: String = "3s"

    func validate() throws {
        _ = try Parse.duration(duration, flag: "--for")
    }

    func run() async throws {
        let runFor = try Parse.duration(duration, flag: "--for")
        let path = try global.resolvedPath(create: true)
        let store = try await global.openStore(create: true)
        print("database: \(path)")
        try await store.declare(
            JobDefinition(name: "demo-tick", action: .handler("tick"), schedule: .every(.milliseconds(100))))
        try await store.declare(
            JobDefinition(
                name: "demo-echo",
                action: .command(
                    ["echo", "hello from JobRunner"], workingDirectory: FileManager.default.currentDirectoryPath),
                schedule: .every(.seconds(1)),
                initialDelay: .zero
            )
        )
        for name in ["demo-tick", "demo-echo"] where try await store.job(named: name)?.state != .active {
            try await store.resume(name)
        }
        var logger = Logger(label: "jobctl.demo") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .warning
        let runner = JobRunner(store: store, configuration: JobRunnerConfiguration(concurrency: 4), logger: logger)
        print("running a runner for \(DurationFormat.format(runFor))…")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await runner.run() }
            try await Task.sleep(for: runFor)
            print("draining…")
            runner.drain(grace: .seconds(5))
            try await group.waitForAll()
        }
        print("")
        for name in ["demo-tick", "demo-echo"] {
            if let job = try await store.job(named: name) {
                print(
                    "\(name): called \(Output.count(job.runCount, "time")) so far (ok \(job.okCount), failed \(job.failedCount)), next run \(Output.time(job.nextRunAt, now: store.clock.now()))"
                )
            }
        }
        print("")
        print("recent history:")
        History.printTable(try await store.history(HistoryQuery(limit: 8)))
        print("")
        print("try: jobctl --db \(path) status")
    }
}
