import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

extension PackageLayout {
    /// The witness command (scripts/reliability/witness).
    static var witness: String { root + "/scripts/reliability/witness" }
}

/// A scenario's sandbox: its processes find its database through JOBCTL_DB, and the file systems it
/// mounts are unmounted at clean-up.
extension Sandbox {
    /// Runs `body` in a fresh sandbox and cleans up afterwards, whatever happens.
    static func with<T>(_ name: String, _ body: (Sandbox) async throws -> T) async throws -> T {
        guard FileManager.default.isExecutableFile(atPath: PackageLayout.witness) else {
            throw HarnessError("the witness command \(PackageLayout.witness) is missing or not executable")
        }
        let sandbox = try Sandbox("rel-\(name)", exportsDatabase: true)
        // Clean-up waits for processes (a lab's server stopping, its namespaces going): off the pool.
        do {
            let result = try await body(sandbox)
            await offThePool { sandbox.cleanup() }
            return result
        } catch {
            await offThePool { sandbox.cleanup() }
            throw error
        }
    }

    /// The witness command.
    var witnessPath: String { PackageLayout.witness }

    // MARK: Processes

    /// Starts a process (tagged and registered for clean-up) with `extra` changes to the environment.
    func spawn(
        _ executable: String,
        _ arguments: [[UInt8]],
        environment extra: [String: String?] = [:],
        directory: String? = nil,
        label: String
    ) throws -> ChildProcess {
        try launch(
            executable: executable, bytes: arguments, environment: scenarioEnvironment(extra), directory: directory,
            label: label)
    }

    /// The sandbox's environment with JOBCTL_DB naming the scenario's database (a SQLite file or a
    /// PostgreSQL URL), then `extra` changes.
    func scenarioEnvironment(_ extra: [String: String?]) -> [String: String] {
        var changes: [String: String?] = ["JOBCTL_DB": database]
        for (key, value) in extra { changes[key] = value }
        return environment(changing: changes)
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
        return try await run(
            executable: jobctlPath, bytes: arguments, environment: scenarioEnvironment(extra), directory: directory,
            label: "jobctl-\(first)", timeout: timeout)
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

    /// Starts `jobctl run` on `db` (the scenario's unless given) and returns it (not yet registered).
    /// It keeps every run (`--keep-history off`): the invariant checker holds counters to history rows.
    func startRunner(_ extra: [String] = [], db: String? = nil) throws -> RunnerProcess {
        var arguments = ["run", "--keep-history", "off"]
        if let db { arguments += ["--db", db] }
        let child = try startJobctl(arguments + extra)
        return RunnerProcess(child: child, db: db ?? database)
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
        onCleanup { umount2(path, Int32(MNT_DETACH)) }
    }

    /// Remounts a mount of this sandbox read-only or read-write.
    func remount(_ path: String, readOnly: Bool, options: String) throws {
        let flags = UInt(MS_REMOUNT) | (readOnly ? UInt(MS_RDONLY) : 0)
        guard Glibc.mount("none", path, nil, flags, options) == 0 else {
            throw HarnessError("remount \(path) \(readOnly ? "ro" : "rw"): \(String(cString: strerror(errno)))")
        }
    }
}

/// A `jobctl run` process.
struct RunnerProcess: Sendable {
    let child: ChildProcess
    let db: String

    var pid: pid_t { child.pid }

    /// Its runner id (latest registration of its pid that is live), if registered.
    func runnerID() throws -> Int64? {
        guard isPostgresURL(db) || FileManager.default.fileExists(atPath: db) else { return nil }
        return try storeProbe(db).runners().last {
            $0.pid == Int64(pid) && ["running", "draining"].contains($0.state)
        }?.id
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
