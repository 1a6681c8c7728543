import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// How a child process ended.
struct ExitStatus: Sendable, Equatable, CustomStringConvertible {
    /// The exit status, if it exited.
    var code: Int32?
    /// The terminating signal, if a signal ended it.
    var signal: Int32?

    static func exited(_ code: Int32) -> ExitStatus { ExitStatus(code: code, signal: nil) }
    static func killed(_ signal: Int32) -> ExitStatus { ExitStatus(code: nil, signal: signal) }

    var description: String {
        if let code { return "exit \(code)" }
        if let signal { return "killed by signal \(signal)" }
        return "unknown"
    }

    /// Decodes a `waitpid` status (the WIFEXITED/WTERMSIG macros are not visible to Swift).
    init(waitStatus raw: Int32) {
        let low = raw & 0x7f
        if low == 0 {
            self.init(code: (raw >> 8) & 0xff, signal: nil)
        } else {
            self.init(code: nil, signal: low)
        }
    }

    init(code: Int32?, signal: Int32?) {
        self.code = code
        self.signal = signal
    }
}

/// A process started by a test with `posix_spawn`: raw-byte arguments (so invalid UTF-8 can be passed),
/// stdin on /dev/null, stdout and stderr in files (nothing can block on a full pipe), default signal
/// dispositions, and no descriptor of the test process other than 0–2.
///
/// Only this object reaps its pid, so a signal sent through it can never reach a recycled pid.
final class ChildProcess: Sendable {
    let pid: pid_t
    let label: String
    let stdoutPath: String
    let stderrPath: String
    private let status = Mutex<ExitStatus?>(nil)

    private init(pid: pid_t, label: String, stdoutPath: String, stderrPath: String) {
        self.pid = pid
        self.label = label
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    /// Starts `executable` with `arguments` (argv[1...]).
    static func spawn(
        executable: String,
        arguments: [[UInt8]],
        environment: [String: String],
        directory: String?,
        outputBase: String,
        label: String
    ) throws -> ChildProcess {
        let stdoutPath = outputBase + ".stdout"
        let stderrPath = outputBase + ".stderr"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard let closeFrom = GNUSpawn.addCloseFrom, let changeDirectory = GNUSpawn.addChangeDirectory else {
            throw HarnessError("glibc 2.34 or newer is needed (posix_spawn_file_actions_addclosefrom_np)")
        }
        _ = closeFrom(&actions, 3)
        if let directory { _ = changeDirectory(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = CStringArray([Array(executable.utf8)] + arguments)
        let envp = CStringArray(environment.sorted { $0.key < $1.key }.map { Array("\($0.key)=\($0.value)".utf8) })
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers)
        argv.free()
        envp.free()
        guard rc == 0 else {
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        return ChildProcess(pid: pid, label: label, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// The exit status if the process has ended (reaping it), else nil.
    func poll() -> ExitStatus? {
        status.withLock { known in
            if let known { return known }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                known = ExitStatus(waitStatus: raw)
            } else if result < 0 && errno == ECHILD {
                known = ExitStatus(code: nil, signal: nil)
            }
            return known
        }
    }

    var isRunning: Bool { poll() == nil }

    /// Sends `signal` unless the process has already been reaped.
    func send(_ signal: Int32) {
        status.withLock { known in
            guard known == nil else { return }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                known = ExitStatus(waitStatus: raw)
                return
            }
            kill(pid, signal)
        }
    }

    /// True once every thread of the process is stopped (state `T` in `/proc/PID/task/*/stat`).
    ///
    /// `kill(pid, SIGSTOP)` returns before the process has stopped: the stop begins only when one of
    /// its threads is scheduled to take the signal, and until then the others run on, which on a
    /// loaded machine can be milliseconds.
    var isStopped: Bool {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task"),
            !threads.isEmpty
        else { return false }
        return threads.allSatisfy { thread in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            // The state is the first field after the command name, which is in parentheses.
            return stat[close...].dropFirst(2).first == "T"
        }
    }

    /// Waits for the process to end; throws after `timeout`.
    @discardableResult
    func wait(timeout: Duration) async throws -> ExitStatus {
        try await waitFor("\(label) (pid \(pid)) exits", timeout: timeout, interval: .milliseconds(5)) { poll() }
    }

    /// SIGKILLs the process if it still runs and reaps it (synchronously; for clean-up paths).
    func killAndReap() {
        send(SIGKILL)
        status.withLock { known in
            guard known == nil else { return }
            var raw: Int32 = 0
            if waitpid(pid, &raw, 0) == pid { known = ExitStatus(waitStatus: raw) }
        }
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var stderrBytes: [UInt8] { (FileManager.default.contents(atPath: stderrPath)).map { Array($0) } ?? [] }

    /// A readable account of what it did, for failure messages.
    func transcript(limit: Int = 3000) -> String {
        let out = stdout
        let err = stderr
        return "\(label) (pid \(pid), \(poll()?.description ?? "running"))\n--- stdout:\n\(out.suffix(limit))"
            + "\n--- stderr:\n\(err.suffix(limit))"
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` and `…_addchdir_np`, which Swift's Glibc module
/// does not show (they need `_GNU_SOURCE`): looked up once with `dlsym`.
private enum GNUSpawn {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias ChangeDirectory =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addCloseFrom: CloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    static let addChangeDirectory: ChangeDirectory? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}

/// A NULL-terminated array of C strings built from raw bytes.
private struct CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int

    init(_ strings: [[UInt8]]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, bytes) in strings.enumerated() {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (offset, byte) in bytes.enumerated() { buffer[offset] = CChar(bitPattern: byte) }
            buffer[bytes.count] = 0
            pointers[index] = buffer
        }
        pointers[strings.count] = nil
    }

    func free() {
        for index in 0..<count { pointers[index]?.deallocate() }
        pointers.deallocate()
    }
}
