import Foundation
import JobRunner
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A child process of the benchmark (`jobctl run`, `jobctl add`, `jobctl drain`, `sqlite3`, the C
/// reference), launched and reaped by swift-subprocess, as the runner launches commands: stdin on
/// /dev/null, no descriptor but 0, 1 and 2 inherited, signals sent through its pidfd.
///
/// The instant of its exit is what the drain and command timings measure, so it is not taken when
/// swift-subprocess returns (after its monitor thread has woken, a task has been scheduled to reap
/// the child, and the run has unwound): a thread of the child's own blocks in `poll(2)` on the
/// pidfd that swift-subprocess opened, and notes the wall-clock time the moment the kernel reports
/// the exit, as the `waitpid` of a reaper thread did. The run's closure, and so the pidfd, stays
/// open until then. Where the kernel gives no pidfd (before Linux 5.3) the exit is timed when
/// swift-subprocess returns.
final class BenchChild: Sendable {
    /// How a child ended.
    struct Exit: Sendable {
        /// The exit status, or the signal number when `signaled`.
        var status: Int32
        var signaled: Bool
        /// When the kernel reported the exit, in Unix microseconds.
        var at: UnixMicros
        var succeeded: Bool { !signaled && status == 0 }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    let arguments: [String]
    /// When it was launched, in Unix microseconds.
    let spawnedAt: UnixMicros
    private let run: Task<Exit, Never>
    private let ended: Ended

    /// The exit, once swift-subprocess has reaped the child.
    private final class Ended: Sendable {
        let exit = Mutex<Exit?>(nil)
    }

    /// Children that have not exited, with a way to signal each through its pidfd; an entry is
    /// removed before its run's closure returns, so that the pidfd is open whenever an entry is used
    /// (under this lock), and before the child is reaped, so that its pid is not yet anyone else's.
    private static let live = Mutex<[pid_t: @Sendable (Signal) -> Void]>([:])

    private init(pid: pid_t, arguments: [String], spawnedAt: UnixMicros, run: Task<Exit, Never>, ended: Ended) {
        self.pid = pid
        self.arguments = arguments
        self.spawnedAt = spawnedAt
        self.run = run
        self.ended = ended
    }

    /// Launches `arguments` (the first is an absolute path) with stdin from /dev/null, stdout to
    /// `output` (truncated) and stderr appended to `errors` (both /dev/null unless given).
    static func launch(
        _ arguments: [String],
        output: String = "/dev/null",
        errors: String = "/dev/null"
    ) async throws -> BenchChild {
        let spawnedAt = BenchClock.now()
        let standardOutput = try openForChild(output, O_TRUNC)
        let standardError: FileDescriptor
        do {
            standardError = try openForChild(errors, O_APPEND)
        } catch {
            try? standardOutput.close()
            throw error
        }
        let (launches, launched) = AsyncStream.makeStream(
            of: Result<pid_t, SpawnError>.self, bufferingPolicy: .bufferingNewest(1))
        let ended = Ended()
        let run = Task<Exit, Never> {
            let exit: Exit
            do {
                let result = try await Subprocess.run(
                    .path(FilePath(arguments[0])),
                    arguments: Arguments(Array(arguments.dropFirst())),
                    environment: .inherit,
                    workingDirectory: nil,
                    platformOptions: PlatformOptions(),
                    input: .none,
                    output: .fileDescriptor(standardOutput, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(standardError, closeAfterSpawningProcess: true)
                ) { execution in
                    let pid = execution.processIdentifier.value
                    live.withLock { $0[pid] = { signal in try? execution.send(signal: signal) } }
                    launched.yield(.success(pid))
                    let at = await exitInstant(of: execution.processIdentifier)
                    live.withLock { _ = $0.removeValue(forKey: pid) }
                    return at
                }
                let at = result.closureResult ?? BenchClock.now()
                switch result.terminationStatus {
                case .exited(let code): exit = Exit(status: code, signaled: false, at: at)
                case .signaled(let signal): exit = Exit(status: signal, signaled: true, at: at)
                }
            } catch {
                // Before the launch: the launcher reports it. After it (swift-subprocess could not
                // watch the child): the child is gone, with no status to report.
                let reason = (error as? SubprocessError)?.underlyingError.map { "\($0)" } ?? "\(error)"
                launched.yield(.failure(SpawnError(description: "cannot run \(arguments[0]): \(reason)")))
                exit = Exit(status: -1, signaled: false, at: BenchClock.now())
            }
            launched.finish()
            ended.exit.withLock { $0 = exit }
            return exit
        }
        var iterator = launches.makeAsyncIterator()
        switch await iterator.next() {
        case .success(let pid):
            return BenchChild(pid: pid, arguments: arguments, spawnedAt: spawnedAt, run: run, ended: ended)
        case .failure(let error):
            throw error
        case nil:
            throw SpawnError(description: "cannot run \(arguments[0])")
        }
    }

    /// Opens `path` for writing (created if missing, mode 0644), close-on-exec in this process:
    /// swift-subprocess hands it to the child as stdout or stderr and closes it here.
    private static func openForChild(_ path: String, _ mode: Int32) throws -> FileDescriptor {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0o644)
        guard fd >= 0 else {
            throw SpawnError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        return FileDescriptor(rawValue: fd)
    }

    /// Blocks a thread of its own in `poll(2)` on the child's pidfd, and returns the wall-clock
    /// instant it became readable: the child's exit. Nil where there is no pidfd.
    private static func exitInstant(of process: ProcessIdentifier) async -> UnixMicros? {
        let pidfd = process.processDescriptor
        guard pidfd >= 0 else { return nil }
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                while poll(&entry, 1, -1) < 0 && errno == EINTR {}
                continuation.resume(returning: BenchClock.now())
            }
            thread.name = "bench exit \(process.value)"
            thread.start()
        }
    }

    /// Waits for the child to exit.
    func exit() async -> Exit { await run.value }

    /// The exit, if it has happened.
    var exited: Exit? { ended.exit.withLock { $0 } }

    /// Sends a signal if the child has not exited yet.
    func signal(_ number: Int32) {
        BenchChild.live.withLock { $0[pid]?(Signal(rawValue: number)) }
    }

    /// Ends the child (SIGKILL) if it is still running, and waits for it.
    func terminate() async {
        signal(SIGKILL)
        _ = await exit()
    }

    /// Runs a child to completion and fails if it did not exit 0.
    @discardableResult
    static func run(_ arguments: [String], output: String = "/dev/null", errors: String = "/dev/null") async throws
        -> (child: BenchChild, exit: Exit)
    {
        let child = try await BenchChild.launch(arguments, output: output, errors: errors)
        let exit = await child.exit()
        guard exit.succeeded else {
            let detail = (try? String(contentsOfFile: errors, encoding: .utf8)).map { ": \($0.prefix(500))" } ?? ""
            throw SpawnError(
                description: "`\(arguments.joined(separator: " "))` "
                    + (exit.signaled ? "was killed by signal \(exit.status)" : "exited with status \(exit.status)")
                    + detail)
        }
        return (child, exit)
    }

    /// Kills every child still running (used when the benchmark is interrupted).
    static func killAll() {
        live.withLock { children in
            for send in children.values { send(.kill) }
        }
    }
}

/// Wall-clock time in Unix microseconds: the clock the runner records history with.
enum BenchClock {
    static func now() -> UnixMicros { SystemJobClock().now() }

    /// CPU time of the whole process (all threads), in microseconds.
    static func processCPU() -> Int64 {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return micros(usage.ru_utime) + micros(usage.ru_stime)
    }

    /// CPU time of reaped children, in microseconds.
    static func childrenCPU() -> Int64 {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        return micros(usage.ru_utime) + micros(usage.ru_stime)
    }

    /// CPU time of the calling thread, in nanoseconds.
    static func threadCPUNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private static func micros(_ value: timeval) -> Int64 { Int64(value.tv_sec) * 1_000_000 + Int64(value.tv_usec) }
}

/// What /proc says about another process.
enum BenchProc {
    /// CPU time of all its threads in nanoseconds, from each `/proc/PID/task/TID/schedstat`.
    static func cpuNanos(_ pid: pid_t) -> Int64? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var total: Int64 = 0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
                let first = text.split(separator: " ").first, let value = Int64(first)
            else { continue }
            total += value
        }
        return total
    }

    /// utime + stime in clock ticks, from `/proc/PID/stat` (counts threads that have exited too).
    static func cpuTicks(_ pid: pid_t) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14 and stime 15 (1-based).
        guard fields.count > 13, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return nil }
        return user + system
    }

    /// Resident memory now and at its peak, in KiB, from `/proc/PID/status`.
    static func memoryKiB(_ pid: pid_t) -> (rss: Int64, peak: Int64)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var rss: Int64?
        var peak: Int64?
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2 else { continue }
            if parts[0] == "VmRSS:" { rss = Int64(parts[1]) }
            if parts[0] == "VmHWM:" { peak = Int64(parts[1]) }
        }
        guard let rss, let peak else { return nil }
        return (rss, peak)
    }

    static var clockTicksPerSecond: Int64 { Int64(sysconf(Int32(_SC_CLK_TCK))) }
}
