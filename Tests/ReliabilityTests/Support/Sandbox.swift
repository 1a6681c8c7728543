import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

extension PackageLayout {
    /// The witness command (scripts/reliability/witness).
    static var witness: String { root + "/scripts/reliability/witness" }
}

/// A scenario's private world: a fresh directory with the database in it, the processes it started
/// (all tagged through their environment, so even orphans of orphans are found), and the file systems
/// it mounted. ``cleanUp()`` kills, unmounts and deletes all of it.
final class Sandbox: Sendable {
    let root: String
    let db: String
    let tag: String
    let jobctlPath: String
    let witnessPath: String
    let environment: [String: String]

    private let children = Mutex<[ChildProcess]>([])
    private let mounts = Mutex<[String]>([])
    private let counter = Atomic<Int>(0)

    static let tagVariable = "JOBRUNNER_RELIABILITY_TAG"

    init(_ name: String) throws {
        let jobctl = try PackageLayout.requireJobctl()
        guard FileManager.default.isExecutableFile(atPath: PackageLayout.witness) else {
            throw HarnessError("the witness command \(PackageLayout.witness) is missing or not executable")
        }
        jobctlPath = jobctl
        witnessPath = PackageLayout.witness
        tag = UUID().uuidString
        root = FileManager.default.temporaryDirectory.appendingPathComponent("jobrunner-rel-\(name)-\(tag)").path
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/state", withIntermediateDirectories: true)
        db = root + "/jobs.sqlite"
        var environment = ProcessInfo.processInfo.environment
        environment["JOBCTL_DB"] = db
        environment["XDG_STATE_HOME"] = root + "/state"
        environment[Sandbox.tagVariable] = tag
        self.environment = environment
    }

    /// Runs `body` in a fresh sandbox and cleans up afterwards, whatever happens.
    static func with<T>(_ name: String, _ body: (Sandbox) async throws -> T) async throws -> T {
        let sandbox = try Sandbox(name)
        do {
            let result = try await body(sandbox)
            sandbox.cleanUp()
            return result
        } catch {
            sandbox.cleanUp()
            throw error
        }
    }

    /// A fresh path in the sandbox's log directory.
    func logPath(_ stem: String) -> String {
        "\(root)/logs/\(counter.add(1, ordering: .relaxed).newValue)-\(stem)"
    }

    // MARK: Processes

    /// Starts a process (tagged and registered for clean-up).
    func spawn(
        _ executable: String,
        _ arguments: [[UInt8]],
        environment extra: [String: String?] = [:],
        directory: String? = nil,
        label: String
    ) throws -> ChildProcess {
        var environment = self.environment
        for (key, value) in extra { environment[key] = value }
        let child = try ChildProcess.spawn(
            executable: executable, arguments: arguments, environment: environment, directory: directory ?? root,
            outputBase: logPath(label.replacingOccurrences(of: "/", with: "_")), label: label)
        children.withLock { $0.append(child) }
        return child
    }

    /// Starts `jobctl` with these arguments (the database is the sandbox's, through `JOBCTL_DB`).
    func startJobctl(
        _ arguments: [String],
        environment extra: [String: String?] = [:],
        directory: String? = nil
    ) throws -> ChildProcess {
        try spawn(
            jobctlPath, arguments.map { Array($0.utf8) }, environment: extra, directory: directory,
            label: "jobctl-\(arguments.first ?? "")")
    }

    /// Runs `jobctl` to completion (raw-byte arguments).
    func jobctl(
        bytes arguments: [[UInt8]],
        environment extra: [String: String?] = [:],
        directory: String? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> ProcessResult {
        let first = arguments.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let child = try spawn(jobctlPath, arguments, environment: extra, directory: directory, label: "jobctl-\(first)")
        try await child.wait(timeout: timeout)
        return child.result()
    }

    /// Runs `jobctl` to completion.
    func jobctl(
        _ arguments: [String],
        environment extra: [String: String?] = [:],
        directory: String? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> ProcessResult {
        try await jobctl(
            bytes: arguments.map { Array($0.utf8) }, environment: extra, directory: directory, timeout: timeout)
    }

    /// Runs `jobctl` and fails unless it exits 0.
    @discardableResult
    func jobctlOK(_ arguments: [String], directory: String? = nil) async throws -> ProcessResult {
        let result = try await jobctl(arguments, directory: directory)
        guard result.status == .exited(0) else { throw HarnessError("expected success: \(result)") }
        return result
    }

    /// Starts `jobctl run` on `db` (the sandbox's unless given) and returns it (not yet registered).
    /// It keeps every run (`--keep-history off`): the invariant checker holds counters to history rows.
    func startRunner(_ extra: [String] = [], db: String? = nil) throws -> RunnerProcess {
        var arguments = ["run", "--keep-history", "off"]
        if let db { arguments += ["--db", db] }
        let child = try startJobctl(arguments + extra)
        return RunnerProcess(child: child, db: db ?? self.db)
    }

    /// Starts a runner and waits until it has registered in the database.
    func startRegisteredRunner(_ extra: [String] = [], db: String? = nil) async throws -> RunnerProcess {
        let runner = try startRunner(extra, db: db)
        _ = try await runner.waitRegistered()
        return runner
    }

    /// Mounts a file system for the scenario (unmounted at clean-up); throws with the system's reason.
    func mount(type: String, at path: String, options: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard Glibc.mount(type, path, type, 0, options) == 0 else {
            throw HarnessError("mount -t \(type) -o \(options) \(path): \(String(cString: strerror(errno)))")
        }
        mounts.withLock { $0.append(path) }
    }

    /// Remounts a mount of this sandbox read-only or read-write.
    func remount(_ path: String, readOnly: Bool, options: String) throws {
        let flags = UInt(MS_REMOUNT) | (readOnly ? UInt(MS_RDONLY) : 0)
        guard Glibc.mount("none", path, nil, flags, options) == 0 else {
            throw HarnessError("remount \(path) \(readOnly ? "ro" : "rw"): \(String(cString: strerror(errno)))")
        }
    }

    /// Kills every process the scenario started (and every process that inherited its tag: orphaned
    /// command jobs and their children), unmounts, and deletes the directory.
    func cleanUp() {
        for child in children.withLock({ $0 }) { child.killAndReap() }
        for pid in leftoverProcesses() { kill(pid, SIGKILL) }
        for path in mounts.withLock({ $0 }).reversed() { umount2(path, Int32(MNT_DETACH)) }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Living processes carrying this sandbox's tag that are not the scenario's own direct children.
    func leftoverProcesses() -> [pid_t] {
        let own = Set(children.withLock { $0 }.filter { !$0.hasExited }.map(\.pid))
        return ProcessTable.processes(withEnvironment: Sandbox.tagVariable, value: tag).filter { !own.contains($0) }
    }
}

/// A `jobctl run` process.
struct RunnerProcess: Sendable {
    let child: ChildProcess
    let db: String

    var pid: pid_t { child.pid }

    /// Its id in the `runners` table (latest registration of its pid that is live), if registered.
    func runnerID() throws -> Int64? {
        guard FileManager.default.fileExists(atPath: db) else { return nil }
        let probe = try DatabaseProbe(db)
        return try probe.rows(
            "SELECT id FROM runners WHERE pid = ? AND state IN ('running', 'draining') ORDER BY id DESC LIMIT 1",
            [.integer(Int64(pid))]
        ).first?.first?.int
    }

    /// Waits until it has registered; fails early if it exits.
    @discardableResult
    func waitRegistered(timeout: Duration = .seconds(30)) async throws -> Int64 {
        try await waitFor("runner pid \(pid) registers", timeout: timeout) {
            if let status = child.poll() {
                throw HarnessError("the runner exited (\(status)) before registering\n\(child.transcript())")
            }
            // The schema may not exist yet while the runner migrates a new file.
            return try? runnerID()
        }
    }
}
