import Foundation
import Synchronization

#if canImport(Glibc)
    package import Glibc
#endif

/// A test's private world: a fresh `jobrunner-NAME-TAG` directory with a database path in it, the
/// processes started in it (all tagged through their environment, so that even orphans of orphans are
/// found), and what to undo before the directory goes. ``cleanup()`` kills, undoes and deletes all of it.
///
/// Its processes cannot reach the user's own database: HOME and XDG_STATE_HOME point into the sandbox,
/// and JOBCTL_DB is either the sandbox's database or unset.
package final class Sandbox: Sendable {
    /// The environment variable that tags every process of a sandbox with its ``tag``.
    package static let tagVariable = "JOBRUNNER_TEST_SANDBOX"

    package let root: String
    /// The database's path (the file is not created).
    package let db: String
    package let tag: String
    package let jobctlPath: String
    /// HOME and XDG_STATE_HOME for the processes: jobctl's default database would land under here.
    package let home: String
    package let stateHome: String
    /// What the processes get unless told otherwise: the test's environment with the above.
    package let environment: [String: String]

    private let children = Mutex<[ChildProcess]>([])
    private let strays = Mutex<[pid_t]>([])
    private let cleanups = Mutex<[@Sendable () -> Void]>([])
    private let counter = Atomic<Int>(0)

    /// A fresh sandbox named `name` (for the directory's name). With `exportsDatabase`, JOBCTL_DB names
    /// ``db``, so that `jobctl` needs no `--db`; without, JOBCTL_DB is unset, so that a `jobctl` given no
    /// `--db` uses its default location (``stateHome``).
    package init(_ name: String, exportsDatabase: Bool) throws {
        jobctlPath = try PackageLayout.requireJobctl()
        tag = UUID().uuidString
        root = FileManager.default.temporaryDirectory.appendingPathComponent("jobrunner-\(name)-\(tag)").path
        try FileManager.default.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        home = root + "/home"
        stateHome = root + "/state"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        db = root + "/jobs.sqlite"
        var environment = ProcessInfo.processInfo.environment
        environment["JOBCTL_DB"] = exportsDatabase ? db : nil
        environment["HOME"] = home
        environment["XDG_STATE_HOME"] = stateHome
        environment[Sandbox.tagVariable] = tag
        self.environment = environment
    }

    /// The sandbox's environment with `changes` made (a nil value removes the variable).
    package func environment(changing changes: [String: String?]) -> [String: String] {
        var environment = self.environment
        for (key, value) in changes { environment[key] = value }
        return environment
    }

    /// Something to undo before the directory is removed (restoring permissions, unmounting); the last
    /// registered is undone first.
    package func onCleanup(_ action: @escaping @Sendable () -> Void) {
        cleanups.withLock { $0.append(action) }
    }

    /// A process the test knows of that is not a child of ours (a command a runner started), killed at
    /// clean-up if it still runs.
    package func adoptStray(_ pid: pid_t) {
        strays.withLock { $0.append(pid) }
    }

    // MARK: Processes

    /// Starts a program (tagged, and killed at clean-up); its output goes to files under `logs/`. It runs
    /// in `directory` (the sandbox's root unless given) with `environment` (the sandbox's unless given).
    package func launch(
        executable: String,
        bytes arguments: [[UInt8]],
        environment: [String: String]? = nil,
        directory: String? = nil,
        label: String? = nil,
        withInput: Bool = false
    ) throws -> ChildProcess {
        let label = label ?? URL(fileURLWithPath: executable).lastPathComponent
        let number = counter.add(1, ordering: .relaxed).newValue
        let child = try ChildProcess.spawn(
            executable: executable, arguments: arguments, environment: environment ?? self.environment,
            directory: directory ?? root,
            outputBase: "\(root)/logs/\(number)-\(label.replacingOccurrences(of: "/", with: "_"))", label: label,
            withInput: withInput)
        children.withLock { $0.append(child) }
        return child
    }

    /// Starts a program with text arguments.
    package func launch(
        executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        label: String? = nil,
        withInput: Bool = false
    ) throws -> ChildProcess {
        try launch(
            executable: executable, bytes: arguments.map { Array($0.utf8) }, environment: environment,
            directory: directory, label: label, withInput: withInput)
    }

    /// Runs a program to completion; kills it and fails after `timeout`.
    package func run(
        executable: String,
        bytes arguments: [[UInt8]],
        environment: [String: String]? = nil,
        directory: String? = nil,
        label: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        let process = try launch(
            executable: executable, bytes: arguments, environment: environment, directory: directory, label: label)
        guard await process.waitForExit(timeout: timeout) else {
            process.killAndReap()
            throw HarnessError(
                "`\(process.commandLine.joined(separator: " "))` did not exit within \(timeout); killed it")
        }
        return process.result()
    }

    /// Runs a program with text arguments to completion; kills it and fails after `timeout`.
    package func run(
        executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        directory: String? = nil,
        label: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> ProcessResult {
        try await run(
            executable: executable, bytes: arguments.map { Array($0.utf8) }, environment: environment,
            directory: directory, label: label, timeout: timeout)
    }

    // MARK: Clean-up

    /// Kills every process the test started, every process that inherited the sandbox's tag (orphaned
    /// command jobs and their children) and every adopted stray; undoes what was registered with
    /// ``onCleanup(_:)``, last first; and deletes the directory.
    package func cleanup() {
        for child in children.withLock({ $0 }) { child.killAndReap() }
        for pid in ProcessTable.processes(withEnvironment: Sandbox.tagVariable, value: tag) { kill(pid, SIGKILL) }
        for pid in strays.withLock({ $0 }) where ProcessTable.isLiving(pid) { kill(pid, SIGKILL) }
        for action in cleanups.withLock({ $0 }).reversed() { action() }
        try? FileManager.default.removeItem(atPath: root)
    }
}
