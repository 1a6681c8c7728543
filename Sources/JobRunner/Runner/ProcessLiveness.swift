import Foundation

/// Whether a process exists on this host.
enum ProcessLiveness {
    /// True unless `kill(pid, 0)` says there is no such process.
    @Sendable static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) == 0 { return true }
        return errno != ESRCH
    }

    /// The start time of a process (`/proc/PID/stat` field 22, clock ticks since boot), or nil.
    static func startTime(_ pid: Int32) -> Int64? {
        statFields(pid).flatMap { $0.count > 19 ? Int64($0[19]) : nil }
    }

    /// The fields of `/proc/PID/stat` after the command name (which may contain spaces), so that
    /// index 0 is field 3; nil if the process does not exist.
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// Kills what is left of a command's process group (its runner died), unless the group's leader
    /// pid now belongs to another process (checked by start time). A pid is never reused while any
    /// process still has it as its group id, so with the leader gone the remaining members are ours.
    @Sendable static func killGroup(_ pgid: Int32, leaderStart: Int64?) {
        guard pgid > 1 else { return }
        if let current = startTime(pgid), let leaderStart, current != leaderStart { return }
        kill(-pgid, SIGKILL)
    }

    /// Kills the process groups of every process on this host that runs for `runID` of `database`
    /// (found by the `JOB_RUN_ID` and `JOB_DATABASE` its runner gave it). This covers a runner that
    /// died between spawning a command and recording its process group.
    @Sendable static func killProcesses(ofRun runID: Int64, database: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return }
        let wanted = [Array("JOB_RUN_ID=\(runID)".utf8), Array("JOB_DATABASE=\(database)".utf8)]
        for entry in entries {
            guard let pid = Int32(entry), pid > 1, pid != getpid(),
                let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ")
            else { continue }
            let variables = environ.split(separator: 0, omittingEmptySubsequences: true).map(Array.init)
            guard wanted.allSatisfy({ variables.contains($0) }) else { continue }
            if let group = processGroup(pid), group > 1 { kill(-group, SIGKILL) } else { kill(pid, SIGKILL) }
        }
    }

    /// The process group of a process (`/proc/PID/stat` field 5), or nil.
    static func processGroup(_ pid: Int32) -> Int32? {
        statFields(pid).flatMap { $0.count > 2 ? Int32($0[2]) : nil }
    }

    /// The canonical path of a database file, as given to its commands in `JOB_DATABASE`.
    static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return URL(fileURLWithPath: path).standardizedFileURL.path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
