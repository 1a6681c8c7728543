import Foundation

/// Which machine and PID namespace a runner lives in.
///
/// A runner that died on this host is rescued at once when its pid is gone, instead of after its
/// lease. That shortcut is only sound when the pid means the same process here: the same running
/// kernel (the boot id) and the same PID namespace. Two containers that share a host name, or a host
/// that rebooted, must not mistake each other's processes, so the name alone never decides.
package struct HostIdentity: Sendable, Hashable {
    /// The host name, as shown by `jobctl status`.
    package var name: String
    /// `/proc/sys/kernel/random/boot_id`: changes at every boot. Empty where the system has none.
    package var bootID: String
    /// The PID namespace (`/proc/self/ns/pid`, such as `pid:[4026531836]`). Empty where the
    /// system has none.
    package var pidNamespace: String

    /// Creates an identity.
    package init(name: String, bootID: String, pidNamespace: String) {
        self.name = name
        self.bootID = bootID
        self.pidNamespace = pidNamespace
    }

    /// This process's host.
    package static let current = HostIdentity(
        name: ProcessInfo.processInfo.hostName,
        bootID: Self.firstLine(of: "/proc/sys/kernel/random/boot_id") ?? "",
        pidNamespace: Self.link("/proc/self/ns/pid") ?? ""
    )

    /// This process's host, shown under another name (the boot id and PID namespace stay this host's).
    package func named(_ name: String) -> HostIdentity {
        HostIdentity(name: name, bootID: bootID, pidNamespace: pidNamespace)
    }

    /// What the store compares: two runners with the same key see the same pids. Where the system
    /// gives neither a boot id nor a PID namespace, the name stands in, as it did before.
    package var key: String {
        bootID.isEmpty && pidNamespace.isEmpty ? "name:\(name)" : "\(bootID)/\(pidNamespace)"
    }

    private static func firstLine(of path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.isEmpty ? nil : line
    }

    private static func link(_ path: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: path)
    }
}
