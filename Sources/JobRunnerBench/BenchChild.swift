import Foundation
import JobRunner
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A child process of the benchmark (`jobctl run`, `jobctl add`, `jobctl drain`, `sqlite3`, the C
/// reference), spawned with `posix_spawn` and reaped by a dedicated thread that notes the exact
/// wall-clock time of its exit.
final class BenchChild: Sendable {
    /// How a child ended.
    struct Exit: Sendable {
        /// The exit status, or the signal number when `signaled`.
        var status: Int32
        var signaled: Bool
        /// When `waitpid` returned, in Unix microseconds.
        var at: UnixMicros
        var succeeded: Bool { !signaled && status == 0 }
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    let arguments: [String]
    /// When it was spawned, in Unix microseconds.
    let spawnedAt: UnixMicros
    private let state = Mutex<(exit: Exit?, waiters: [CheckedContinuation<Exit, Never>])>((nil, []))

    /// Children not yet reaped, so that an interrupted benchmark can end them.
    private static let live = Mutex<Set<pid_t>>([])

    /// Spawns `arguments` (the first is an absolute path) with stdin from /dev/null, stdout to
    /// `output` and stderr to `errors` (both /dev/null unless given), and no other descriptors.
    init(_ arguments: [String], output: String = "/dev/null", errors: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        // No other descriptor reaches the child, even one opened without close-on-exec.
        for fd in BenchChild.inheritableDescriptors() { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawnedAt = BenchClock.now()
        let rc = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard rc == 0 else {
            throw SpawnError(description: "cannot run \(arguments[0]): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        self.arguments = arguments
        self.spawnedAt = spawnedAt
        BenchChild.live.withLock { _ = $0.insert(pid) }
        let thread = Thread { [self] in self.reap() }
        thread.name = "bench reaper \(pid)"
        thread.start()
    }

    /// Open descriptors above 2 that lack FD_CLOEXEC.
    private static func inheritableDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }.filter { fd in
            guard fd > 2 else { return false }
            let flags = fcntl(fd, F_GETFD)
            return flags >= 0 && flags & FD_CLOEXEC == 0
        }
    }

    private func reap() {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let at = BenchClock.now()
        BenchChild.live.withLock { _ = $0.remove(pid) }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        let signal = status & 0x7F
        let exit = Exit(status: signal == 0 ? (status >> 8) & 0xFF : signal, signaled: signal != 0, at: at)
        let waiters = state.withLock { s in
            s.exit = exit
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: exit) }
    }

    /// Waits for the child to exit.
    func exit() async -> Exit {
        await withCheckedContinuation { continuation in
            let done = state.withLock { s -> Exit? in
                if let exit = s.exit { return exit }
                s.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// The exit, if it has happened.
    var exited: Exit? { state.withLock { $0.exit } }

    /// Sends a signal if the child has not been reaped yet.
    func signal(_ number: Int32) {
        if exited == nil { kill(pid, number) }
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
        let child = try BenchChild(arguments, output: output, errors: errors)
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
        for pid in live.withLock({ Array($0) }) { kill(pid, SIGKILL) }
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
