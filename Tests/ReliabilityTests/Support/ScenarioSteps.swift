import Foundation
import TestSupport
import Testing

/// The top-level suite. Scenarios run one after another: each drives real processes and measures
/// throughput, and running them side by side on a 2-core machine would only measure each other.
@Suite("Reliability: crashes, contention, faults and hostile input", .serialized)
struct Reliability {}

/// Steps shared by the scenarios.
extension Sandbox {
    /// `jobctl add` for the witness command: `witness LOG [SECONDS] [EXIT]`.
    func addWitnessJob(
        _ name: String,
        schedule: [String],
        log: String,
        seconds: Double = 0,
        exitStatus: Int = 0,
        extra: [String] = []
    ) async throws {
        try await jobctlOK(
            ["add", name] + schedule + extra + ["--", witnessPath, log, String(seconds), String(exitStatus)])
    }

    /// Drains every runner with `jobctl drain --json`, expects exit 0 from it and from each runner,
    /// and returns what the drain reported.
    @discardableResult
    func drainAll(
        _ runners: [RunnerProcess],
        grace: String? = nil,
        timeout: Duration = .seconds(90),
        db: String? = nil
    ) async throws -> DrainSummary {
        var arguments = ["drain", "--json", "--timeout", "\(Int(timeout.seconds))s"]
        if let db { arguments += ["--db", db] }
        if let grace { arguments += ["--grace", grace] }
        let drain = try await jobctl(arguments, timeout: timeout + .seconds(30))
        #expect(drain.status == .exited(0), "drain: \(drain)")
        for runner in runners {
            let status = try await runner.child.wait(timeout: timeout)
            #expect(status == .exited(0), "runner after drain: \(runner.child.transcript())")
        }
        let object = JSONText.object(drain.stdout)
        return DrainSummary(finished: object?["finished"] as? Int, interrupted: object?["interrupted"] as? Int)
    }

    /// Checks the invariants and records a failure for each violation.
    @discardableResult
    func expectInvariants(
        acknowledged: Set<String> = [],
        db: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> InvariantReport {
        let db = db ?? database
        let report =
            isPostgresURL(db)
            ? try PostgresInvariantChecker.check(url: db, acknowledged: acknowledged)
            : try InvariantChecker.check(db: db, acknowledged: acknowledged)
        #expect(report.violations.isEmpty, "invariants: \(report)", sourceLocation: sourceLocation)
        return report
    }

    /// Compares the witness log with the history and records a failure for anything lost, duplicated,
    /// unexpected or overlapping.
    @discardableResult
    func expectWitness(
        log: String,
        jobs: Set<String>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> WitnessReport {
        let report = try WitnessReport.compare(logPath: log, probe: probe(), jobs: jobs)
        #expect(report.isClean, "witness: \(report)", sourceLocation: sourceLocation)
        return report
    }

    /// Resumes the jobs the product paused because their runs kept dying with the runner (guarantee 5), as an
    /// operator would, so that a scenario keeps exercising them. Returns how many it resumed.
    func resumeJobsPausedByAbandonment() async throws -> Int {
        let paused = try probe().jobs().filter {
            $0.state == "paused" && $0.stateReason?.range(of: "abandoned", options: .caseInsensitive) != nil
        }.map(\.name)
        for name in paused { try await jobctlOK(["resume", name]) }
        return paused.count
    }

    /// A probe on the scenario's database (SQLite or PostgreSQL).
    func probe() throws -> any StoreProbe { try storeProbe(database) }

    /// Each job's run count, by name.
    func runCounts() throws -> [String: Int64] { try probe().runCounts() }
}

/// What `jobctl drain --json` reported.
struct DrainSummary: Sendable, CustomStringConvertible {
    var finished: Int?
    var interrupted: Int?
    var description: String {
        "finished \(finished.map(String.init) ?? "?"), interrupted \(interrupted.map(String.init) ?? "?")"
    }
}

/// Reading `jobctl … --json` output into plain values, synchronously (JSON objects are not Sendable).
enum JSONText {
    static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    static func array(_ text: String) -> [[String: Any]]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]]
    }

    /// The string fields `keys` of a JSON object (absent or non-string fields are left out).
    static func strings(_ text: String, _ keys: [String]) -> [String: String]? {
        guard let object = object(text) else { return nil }
        var result: [String: String] = [:]
        for key in keys { result[key] = object[key] as? String }
        return result
    }

    /// The string field `key` of each object of a JSON array.
    static func column(_ text: String, _ key: String) -> [String]? {
        array(text)?.map { ($0[key] as? String) ?? "<\(key) missing>" }
    }
}

/// Milliseconds for `Task.sleep` from a random integer.
extension Duration {
    static func randomMilliseconds(_ range: ClosedRange<Int>, using random: inout SeededRandom) -> Duration {
        .milliseconds(Int.random(in: range, using: &random))
    }
}
