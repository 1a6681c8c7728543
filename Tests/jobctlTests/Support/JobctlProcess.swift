import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - A sandbox per test

/// Which `--db` a jobctl invocation gets.
enum DatabaseChoice: Sendable {
    /// The sandbox's own database.
    case sandbox
    /// Another file.
    case path(String)
    /// No `--db` at all.
    case omitted

    func path(sandbox: String) -> String? {
        switch self {
        case .sandbox: sandbox
        case .path(let path): path
        case .omitted: nil
        }
    }
}

/// jobctl's commands run in a sandbox whose environment names no database, so that each invocation
/// says which one it uses (`--db`, as ``DatabaseChoice`` says) and one that says none finds the default.
extension Sandbox {
    convenience init() throws {
        try self.init("jobctl", exportsDatabase: false)
    }

    /// Where the default database would be with this sandbox's environment.
    var defaultDatabasePath: String { stateHome + "/jobrunner/jobs.sqlite" }

    /// `arguments` with `--db PATH` added (before `--`, if there is one: options go to the subcommand).
    func withDatabase(_ arguments: [String], db: String?) -> [String] {
        guard let db else { return arguments }
        var arguments = arguments
        let index = arguments.firstIndex(of: "--") ?? arguments.endIndex
        arguments.insert(contentsOf: ["--db", db], at: index)
        return arguments
    }

    /// Starts jobctl (with `--db` unless `db` is nil).
    func launchJobctl(_ arguments: [String], db: DatabaseChoice = .sandbox, environment: [String: String]? = nil) throws
        -> ChildProcess
    {
        let database = db.path(sandbox: self.db)
        return try launch(executable: jobctlPath, withDatabase(arguments, db: database), environment: environment)
    }

    /// Runs jobctl to completion, with `--db` as `db` says.
    func jobctl(
        _ arguments: [String], db: DatabaseChoice = .sandbox, environment: [String: String]? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        let database = db.path(sandbox: self.db)
        return try await run(
            executable: jobctlPath, withDatabase(arguments, db: database), environment: environment, timeout: timeout)
    }

    /// Runs jobctl, requires exit 0 and parses stdout as one JSON document.
    func json(_ arguments: [String], db: DatabaseChoice = .sandbox) async throws -> Any {
        let result = try await jobctl(arguments, db: db)
        guard result.exitedNormally, result.status == 0 else {
            throw HarnessError("expected success:\n\(result)")
        }
        do {
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8), options: [.fragmentsAllowed])
        } catch {
            throw HarnessError("stdout is not one JSON document (\(error)):\n\(result)")
        }
    }

    func jsonObject(_ arguments: [String], db: DatabaseChoice = .sandbox) async throws -> [String: Any] {
        let value = try await json(arguments, db: db)
        guard let object = value as? [String: Any] else {
            throw HarnessError("expected a JSON object from \(arguments), got \(value)")
        }
        return object
    }

    func jsonArray(_ arguments: [String], db: DatabaseChoice = .sandbox) async throws -> [[String: Any]] {
        let value = try await json(arguments, db: db)
        guard let array = value as? [[String: Any]] else {
            throw HarnessError("expected a JSON array of objects from \(arguments), got \(value)")
        }
        return array
    }

    /// Runs jobctl and requires exit 0.
    @discardableResult
    func succeed(_ arguments: [String], db: DatabaseChoice = .sandbox) async throws -> ProcessResult {
        let result = try await jobctl(arguments, db: db)
        guard result.exitedNormally, result.status == 0 else {
            throw HarnessError("expected success:\n\(result)")
        }
        return result
    }

    // MARK: Reading the database through jobctl

    /// `list --json`, by name.
    func jobs(db: DatabaseChoice = .sandbox) async throws -> [String: [String: Any]] {
        var byName: [String: [String: Any]] = [:]
        for job in try await jsonArray(["list", "--json"], db: db) {
            if let name = job["name"] as? String { byName[name] = job }
        }
        return byName
    }

    /// `show NAME --json`.
    func show(_ name: String) async throws -> [String: Any] {
        try await jsonObject(["show", name, "--json"])
    }

    /// Every run (of one job, or all), newest first.
    func history(_ name: String? = nil, status: String? = nil) async throws -> [[String: Any]] {
        var arguments = ["history"]
        if let name { arguments.append(name) }
        if let status { arguments += ["--status", status] }
        return try await jsonArray(arguments + ["--limit", "100000", "--json"])
    }

    func status() async throws -> [String: Any] {
        try await jsonObject(["status", "--json"])
    }
}

// MARK: - JSON field checks

enum JSONFields {
    /// Required by issue 3 for `list --json` (and `show --json`).
    static let job = [
        "name", "queue", "kind", "schedule", "state", "nextRunAt", "runCount", "okCount", "failedCount",
        "lastOutcome",
    ]
    /// Required for `history --json` (and `recentRuns`).
    static let run = [
        "id", "job", "attempt", "scheduledFor", "startedAt", "finishedAt", "outcome", "exitCode", "error", "output",
        "runner",
    ]
    /// Required for `status --json`.
    static let status = ["jobs", "runs", "runners", "inFlight", "due", "perJob"]
    /// Required for each runner in `status --json`.
    static let runner = ["id", "host", "pid", "state", "startedAt", "heartbeatAt"]
    /// Required for `drain --json`.
    static let drain = ["runners", "finished", "interrupted"]
    static let jobStates: Set<String> = ["active", "paused", "stopped", "done"]
    static let outcomes: Set<String> = ["running", "ok", "failed", "timeout", "interrupted", "abandoned"]
}

/// Expects every key to be present (a null value counts as present).
func expectKeys(
    _ object: [String: Any], _ keys: [String], in what: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let missing = keys.filter { object[$0] == nil }
    #expect(missing.isEmpty, "\(what) lacks \(missing) (has \(object.keys.sorted()))", sourceLocation: sourceLocation)
}

func isNull(_ value: Any?) -> Bool { value is NSNull }

func int(_ value: Any?) -> Int? {
    guard let number = value as? NSNumber else { return nil }
    return number.intValue
}

/// RFC 3339 UTC (`…Z`) as Unix microseconds, or nil if it is not one.
func rfc3339Micros(_ value: Any?) -> Int64? {
    guard let text = value as? String, text.hasSuffix("Z"), text.count >= 20 else { return nil }
    let body = String(text.dropLast())
    let parts = body.split(separator: ".", maxSplits: 1)
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: String(parts[0]) + "Z") else { return nil }
    var micros = Int64(date.timeIntervalSince1970.rounded()) * 1_000_000
    if parts.count == 2 {
        let digits = parts[1]
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isNumber) else { return nil }
        let padded = (digits + String(repeating: "0", count: 9 - digits.count)).prefix(6)
        micros += Int64(padded) ?? 0
    }
    return micros
}

/// Now, in Unix microseconds.
func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

/// Expects a failure the way DESIGN.md promises: the status, nothing on stdout, one line on stderr
/// starting `jobctl: error:` and naming the problem.
func expectOneLineError(
    _ result: ProcessResult, status: Int32, mentioning: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(result.exitedNormally, "\(result)", sourceLocation: sourceLocation)
    #expect(result.status == .exited(status), "expected exit \(status): \(result)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, "expected nothing on stdout: \(result)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(
        lines.count == 2 && lines[1].isEmpty && !lines[0].isEmpty,
        "expected exactly one line on stderr: \(result)", sourceLocation: sourceLocation)
    #expect(
        result.stderr.hasPrefix("jobctl: error: "), "expected `jobctl: error: …`: \(result)",
        sourceLocation: sourceLocation)
    if let mentioning {
        #expect(
            result.stderr.lowercased().contains(mentioning.lowercased()),
            "expected the error to mention \(mentioning): \(result)", sourceLocation: sourceLocation)
    }
}

// MARK: - A command job the test holds in flight

/// A command job that records that it started (its pid) and then blocks reading a FIFO until the test
/// releases it, so "a run is in flight" holds for exactly as long as the test needs, whatever the load.
/// (In-process handlers are held with TestSupport's `HandlerGate`.)
final class HeldCommand: Sendable {
    let startedPath: String
    let fifoPath: String

    init(_ sandbox: Sandbox, name: String) throws {
        startedPath = "\(sandbox.root)/\(name).started"
        fifoPath = "\(sandbox.root)/\(name).fifo"
        guard mkfifo(fifoPath, 0o600) == 0 else { throw HarnessError("mkfifo \(fifoPath): errno \(errno)") }
    }

    /// The job's argv (for `jobctl add … -- <command>`).
    var command: [String] {
        [
            "sh", "-c",
            "echo $$ > '\(startedPath).tmp' && mv '\(startedPath).tmp' '\(startedPath)' && read line < '\(fifoPath)'",
        ]
    }

    /// Waits until the command runs; returns its pid (which the sandbox kills at the end if need be).
    @discardableResult
    func waitUntilStarted(_ sandbox: Sandbox, timeout: Duration = .seconds(30)) async throws -> pid_t {
        try await waitUntil("the held command started", timeout: timeout) {
            FileManager.default.fileExists(atPath: startedPath)
        }
        let text = try String(contentsOfFile: startedPath, encoding: .utf8)
        guard let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw HarnessError("no pid in \(startedPath): \(text)")
        }
        sandbox.adoptStray(pid)
        return pid
    }

    /// Lets the command finish (exit 0).
    func release() throws {
        let fd = open(fifoPath, O_WRONLY | O_NONBLOCK)
        guard fd >= 0 else { throw HarnessError("the held command is not waiting (open: errno \(errno))") }
        defer { close(fd) }
        let line = Array("go\n".utf8)
        guard write(fd, line, line.count) == line.count else {
            throw HarnessError("write to the held command's FIFO failed")
        }
    }
}
