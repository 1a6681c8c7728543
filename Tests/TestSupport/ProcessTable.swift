import Foundation

#if canImport(Glibc)
    package import Glibc
#endif

/// Reads Linux's /proc: which processes exist, their groups, environment, descriptors and memory.
package enum ProcessTable {
    package struct Entry: Sendable {
        package var pid: pid_t
        package var state: Character
        package var parent: pid_t
        package var group: pid_t
    }

    /// Every process, from /proc/<pid>/stat.
    package static func all() -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { Int32($0) }.compactMap(entry)
    }

    package static func entry(_ pid: pid_t) -> Entry? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm) ": state ppid pgrp …
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 3, let state = fields[0].first, let parent = Int32(fields[1]),
            let group = Int32(fields[2])
        else { return nil }
        return Entry(pid: pid, state: state, parent: parent, group: group)
    }

    /// Processes of group `pgid` that still run (zombies waiting to be reaped do not count).
    package static func livingMembers(ofGroup pgid: pid_t) -> [pid_t] {
        all().filter { $0.group == pgid && $0.state != "Z" && $0.state != "X" }.map(\.pid)
    }

    /// True if `pid` exists and is not a zombie.
    package static func isLiving(_ pid: pid_t) -> Bool {
        guard let entry = entry(pid) else { return false }
        return entry.state != "Z" && entry.state != "X"
    }

    /// The environment a process was started with (or changed to).
    package static func environment(of pid: pid_t) -> [String: String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        var result: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return result
    }

    /// Living processes whose environment carries `key=value`.
    package static func processes(withEnvironment key: String, value: String) -> [pid_t] {
        let needle = Data("\(key)=\(value)".utf8)
        return all().filter { $0.state != "Z" && $0.state != "X" }.compactMap { entry in
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry.pid)/environ") else { return nil }
            return data.split(separator: 0).contains { Data($0) == needle } ? entry.pid : nil
        }
    }

    /// A process's open descriptors and what they point to.
    package static func descriptors(of pid: pid_t) -> [Int: String] {
        let directory = "/proc/\(pid)/fd"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
        var result: [Int: String] = [:]
        for name in names {
            guard let fd = Int(name) else { continue }
            result[fd] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(name)")) ?? "?"
        }
        return result
    }

    package static func workingDirectory(of pid: pid_t) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")
    }

    /// A line of /proc/<pid>/status in KiB (`VmHWM`: peak resident set, `VmRSS`: now).
    package static func memoryKiB(of pid: pid_t, field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
        }
        return nil
    }
}
