import TestSupport

@testable import JobRunner

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

enum CommandTestSupport {
    /// The deadline for a command to start or end, which only bounds a failure, so it is generous: on a
    /// 2-core machine the tests running alongside (a command pouring out gigabytes, builds) can keep the
    /// cooperative pool's two threads busy for more than 10 s, which delayed a command's start past a
    /// shorter deadline.
    static let deadline: Duration = .seconds(60)

    /// True once no process with this pid exists any more (reaped, not a zombie).
    static func processIsGone(_ pid: pid_t) -> Bool {
        kill(pid, 0) == -1 && errno == ESRCH
    }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/jobrunner-cmd-XXXXXX".utf8CString)
        let path: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let path else { throw HarnessError("mkdtemp failed: errno \(errno)") }
        return path
    }

    static func removeTree(_ path: String) async {
        _ = try? await CommandExecutor.run(
            CommandSpec(argv: ["rm", "-rf", path]),
            timeout: .seconds(30),
            terminationGrace: .seconds(1),
            outputLimit: 1024
        )
    }

    /// The process's peak resident set size so far, in KiB.
    static func peakResidentKilobytes() -> Int {
        var usage = rusage()
        _ = getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }

    static func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    static func writeFile(_ path: String, _ contents: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw HarnessError("open \(path) failed: errno \(errno)") }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw HarnessError("short write") }
        _ = fchmod(fd, mode)
    }
}
