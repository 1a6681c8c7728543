import Dispatch
import Foundation
package import JobRunner
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A runner process of the side-by-side scenarios (`jobctl bench --runner-child …`): a JobRunner
/// with the built-in handlers and `bench-probe`, which notes when each run entered its handler. On
/// SIGTERM or SIGINT it drains, then writes those entries to the samples file, one run a line:
/// `scheduled_for started_at` (Unix microseconds; the handler's entry on this host's wall clock).
package enum BenchRunnerChild {
    package static func run(store: JobStore, workers: Int, claimLead: Duration?, samplesFile: String?) async throws {
        let recorder = StartRecorder(capacity: 1 << 16)
        var registry = JobRegistry()
        registry.register("bench-probe", recorder.handler)
        var logger = Logger(label: "jobctl.bench.runner")
        logger.logLevel = .warning
        let runner = JobRunner(
            store: store, registry: registry,
            configuration: JobRunnerConfiguration(
                concurrency: workers, drainTimeout: .seconds(30), claimLead: claimLead),
            logger: logger)
        let sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { runner.drain() }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        // How far the store's clock (the runner's: the server's on PostgreSQL) reads from this
        // host's wall clock, on which handler entry is timed.
        let offsetAtStart = store.clock.now() - BenchClock.now()
        try await runner.run()
        let offsetAtEnd = store.clock.now() - BenchClock.now()
        if let samplesFile {
            let text =
                "# offset \(offsetAtStart) \(offsetAtEnd)\n"
                + recorder.entries.map { "\($0.scheduledFor) \($0.startedAt)\n" }.joined()
            try Data(text.utf8).write(to: URL(fileURLWithPath: samplesFile))
        }
    }

    /// The store clock's offsets from the wall clock (at start and at end, microseconds) noted in a
    /// samples file.
    static func offsets(_ path: String) -> [Int64] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { $0.hasPrefix("# offset ") }
            .flatMap { $0.split(separator: " ").dropFirst(2).compactMap { Int64($0) } }
    }

    /// Reads a samples file written by ``run(store:workers:samplesFile:)``.
    static func samples(_ path: String) throws -> [(scheduledFor: UnixMicros, startedAt: UnixMicros)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 2, let scheduled = Int64(fields[0]), let started = Int64(fields[1]) else {
                return nil
            }
            return (scheduled, started)
        }
    }
}
