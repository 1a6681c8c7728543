import Foundation
import Synchronization

// Linux only (glibc's posix_spawn extensions, /proc), as ReliabilityTests always was.
#if canImport(Glibc)
    package import Glibc
#endif

/// How a child process ended.
///
/// An integer literal stands for a normal exit with that code, so `result.status == 0` reads as the
/// shell's `$? == 0` and is false for a process that a signal ended.
package struct ExitStatus: Sendable, Equatable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The exit status, if it exited.
    package var code: Int32?
    /// The terminating signal, if a signal ended it.
    package var signal: Int32?

    package static func exited(_ code: Int32) -> ExitStatus { ExitStatus(code: code, signal: nil) }
    package static func killed(_ signal: Int32) -> ExitStatus { ExitStatus(code: nil, signal: signal) }

    package var description: String {
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

    package init(code: Int32?, signal: Int32?) {
        self.code = code
        self.signal = signal
    }

    package init(integerLiteral code: Int32) {
        self.init(code: code, signal: nil)
    }
}

/// What a finished process did.
package struct ProcessResult: Sendable, CustomStringConvertible {
    /// The executable's name, then its arguments (for messages).
    package var commandLine: [String]
    package var status: ExitStatus
    package var stdout: String
    package var stderr: String
    /// From just before it started until it was seen to have ended.
    package var elapsed: Duration

    /// True if it exited rather than being ended by a signal.
    package var exitedNormally: Bool { status.code != nil }

    /// The non-empty lines of stderr.
    package var stderrLines: [String] {
        stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    package var description: String {
        let shown = commandLine.map { $0.count > 120 ? String($0.prefix(117)) + "..." : $0 }.joined(separator: " ")
        return "`\(shown)` -> \(status) in \(elapsed)\n--- stdout:\n\(stdout.prefix(4000))"
            + "\n--- stderr:\n\(stderr.prefix(4000))"
    }
}

/// A process started by a test with `posix_spawn`: raw-byte arguments (so invalid UTF-8 can be passed),
/// stdin on /dev/null or on a pipe the test writes to, stdout and stderr in files (nothing can block on
/// a full pipe), default signal dispositions, and no descriptor of the test process other than 0–2.
///
/// Only this object reaps its pid, so a signal sent through it can never reach a recycled pid.
package final class ChildProcess: Sendable {
    package let pid: pid_t
    package let label: String
    /// The executable's name, then its arguments (for messages).
    package let commandLine: [String]
    package let stdoutPath: String
    package let stderrPath: String
    private let started: ContinuousClock.Instant
    private let state: Mutex<State>

    private struct State {
        var status: ExitStatus?
        /// When the end was first seen.
        var ended: ContinuousClock.Instant?
        /// The write end of the process's stdin, while it is open.
        var input: Int32?
    }

    private init(
        pid: pid_t, label: String, commandLine: [String], stdoutPath: String, stderrPath: String,
        started: ContinuousClock.Instant, input: Int32?
    ) {
        self.pid = pid
        self.label = label
        self.commandLine = commandLine
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.started = started
        self.state = Mutex(State(input: input))
    }

    deinit {
        state.withLock { state in
            if let input = state.input { close(input) }
        }
    }

    /// Starts `executable` with `arguments` (argv[1...]), its output in `outputBase`.stdout and .stderr.
    /// With `withInput`, its stdin is a pipe that ``write(_:)`` writes to and ``closeInput()`` closes.
    package static func spawn(
        executable: String,
        arguments: [[UInt8]],
        environment: [String: String],
        directory: String?,
        outputBase: String,
        label: String,
        withInput: Bool = false
    ) throws -> ChildProcess {
        let stdoutPath = outputBase + ".stdout"
        let stderrPath = outputBase + ".stderr"

        // The test keeps the write end; close-on-exec keeps it out of every other child.
        var pipeEnds: [Int32] = [-1, -1]
        if withInput {
            guard let pipe2 = GNU.pipe2, pipe2(&pipeEnds, O_CLOEXEC) == 0 else {
                throw HarnessError("cannot make a pipe for \(label): \(String(cString: strerror(errno)))")
            }
        }
        defer { if pipeEnds[0] >= 0 { close(pipeEnds[0]) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if withInput {
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard let closeFrom = GNU.addCloseFrom, let changeDirectory = GNU.addChangeDirectory else {
            if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
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
        let started = ContinuousClock.now
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers)
        argv.free()
        envp.free()
        guard rc == 0 else {
            if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        let commandLine =
            [URL(fileURLWithPath: executable).lastPathComponent]
            + arguments.map { String(decoding: $0, as: UTF8.self) }
        return ChildProcess(
            pid: pid, label: label, commandLine: commandLine, stdoutPath: stdoutPath, stderrPath: stderrPath,
            started: started, input: withInput ? pipeEnds[1] : nil)
    }

    /// The exit status if the process has ended (reaping it), else nil.
    package func poll() -> ExitStatus? {
        state.withLock { state in
            if let known = state.status { return known }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                state.status = ExitStatus(waitStatus: raw)
            } else if result < 0 && errno == ECHILD {
                state.status = ExitStatus(code: nil, signal: nil)
            }
            if state.status != nil { state.ended = ContinuousClock.now }
            return state.status
        }
    }

    package var hasExited: Bool { poll() != nil }

    /// Sends `signal` unless the process has already been reaped.
    package func signal(_ signal: Int32) {
        state.withLock { state in
            guard state.status == nil else { return }
            var raw: Int32 = 0
            if waitpid(pid, &raw, WNOHANG) == pid {
                state.status = ExitStatus(waitStatus: raw)
                state.ended = ContinuousClock.now
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
    package var isStopped: Bool {
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
    package func wait(timeout: Duration) async throws -> ExitStatus {
        try await waitFor("\(label) (pid \(pid)) exits", timeout: timeout, interval: .milliseconds(5)) { poll() }
    }

    /// Waits for the process to end; false if it still runs after `timeout`.
    package func waitForExit(timeout: Duration) async -> Bool {
        (try? await wait(timeout: timeout)) != nil
    }

    /// SIGKILLs the process if it still runs and reaps it (synchronously; for clean-up paths).
    package func killAndReap() {
        signal(SIGKILL)
        state.withLock { state in
            guard state.status == nil else { return }
            var raw: Int32 = 0
            if waitpid(pid, &raw, 0) == pid {
                state.status = ExitStatus(waitStatus: raw)
                state.ended = ContinuousClock.now
            }
        }
    }

    /// Writes `text` to the process's stdin.
    package func write(_ text: String) throws {
        try state.withLock { state in
            guard let input = state.input else { throw HarnessError("\(label) has no open stdin pipe") }
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { Glibc.write(input, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    throw HarnessError("write to \(label)'s stdin: \(String(cString: strerror(errno)))")
                }
                bytes = bytes.dropFirst(written)
            }
        }
    }

    /// Closes the process's stdin (end of file for it), if it has a pipe.
    package func closeInput() {
        state.withLock { state in
            if let input = state.input { close(input) }
            state.input = nil
        }
    }

    package var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    package var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// What it did; the status is "unknown" while it runs.
    package func result() -> ProcessResult {
        let status = poll()
        let ended = state.withLock { $0.ended } ?? ContinuousClock.now
        return ProcessResult(
            commandLine: commandLine, status: status ?? ExitStatus(code: nil, signal: nil), stdout: stdout,
            stderr: stderr, elapsed: ended - started)
    }

    /// A readable account of what it did, for failure messages.
    package func transcript(limit: Int = 3000) -> String {
        let out = stdout
        let err = stderr
        return "\(label) (pid \(pid), \(poll()?.description ?? "running"))\n--- stdout:\n\(out.suffix(limit))"
            + "\n--- stderr:\n\(err.suffix(limit))"
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np`, `…_addchdir_np` and `pipe2`, which Swift's Glibc
/// module does not show (they need `_GNU_SOURCE`): looked up once with `dlsym`.
private enum GNU {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias ChangeDirectory =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32

    static let addCloseFrom: CloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    static let addChangeDirectory: ChangeDirectory? = symbol("posix_spawn_file_actions_addchdir_np")
    static let pipe2: Pipe2? = symbol("pipe2")

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
