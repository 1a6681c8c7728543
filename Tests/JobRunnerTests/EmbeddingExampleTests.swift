import JobRunner
import Logging
import ServiceLifecycle
import Testing
import UnixSignals

// The README's "Embed in a server" snippet, compiled here so that it stays true.

struct PruneSessions: Codable, Sendable { var olderThanSeconds: Int }

func runJobs(logger: Logger, path: String = "/var/lib/myservice/jobs.sqlite") async throws {
    let store = try await JobStore.open(path: path)

    var registry = JobRegistry()
    registry.register("prune-sessions", payload: PruneSessions.self) { request, context in
        context.logger.info("pruning sessions", metadata: ["older_than": "\(request.olderThanSeconds)"])
    }

    try await store.declare(
        JobDefinition(
            name: "prune-sessions", handler: "prune-sessions", payload: PruneSessions(olderThanSeconds: 3600),
            schedule: .every(.seconds(300)), timeout: .seconds(60)
        )
    )

    let runner = JobRunner(store: store, registry: registry, logger: logger)
    // A `jobctl drain` ends only the runner: `.ignore` keeps the rest of the service running.
    let jobs = ServiceGroupConfiguration.ServiceConfiguration(service: runner, successTerminationBehavior: .ignore)
    var configuration = ServiceGroupConfiguration(services: [jobs], logger: logger)
    configuration.gracefulShutdownSignals = [.sigterm, .sigint]
    let group = ServiceGroup(configuration: configuration)
    try await group.run()
}

@Suite("Embedding example")
struct EmbeddingExampleTests {
    @Test("the README's embedding code declares its job and runs until the service group shuts down")
    func readmeExampleRuns() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/jobs.sqlite"
            let task = Task { try await runJobs(logger: quietLogger, path: path) }
            // Wait (deadline-bounded, on the store) until the job is declared and the runner registered.
            let store = try await JobStore.open(path: path)
            let deadline = ContinuousClock.now + .seconds(30)
            while true {
                let runners = try await store.liveRunners()
                let declared = try await store.job(named: "prune-sessions")
                if !runners.isEmpty && declared != nil { break }
                try #require(ContinuousClock.now < deadline, "the runner did not start")
                await Task.yield()
            }
            let job = try #require(try await store.job(named: "prune-sessions"))
            #expect(job.definition.payload == #"{"olderThanSeconds":3600}"#)
            task.cancel()
            try await task.value
            #expect(try await store.liveRunners().isEmpty)
        }
    }
}
