import Foundation

/// Whether a process exists on this host.
enum ProcessLiveness {
    /// True unless `kill(pid, 0)` says there is no such process.
    @Sendable static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) == 0 { return true }
        return errno != ESRCH
    }
}
