import ArgumentParser

/// A `HOST:PORT` to listen on (`--listen`, `--metrics-listen`): `127.0.0.1:8080`, `[::1]:8080`,
/// `localhost:9100`, `0.0.0.0:8080`. Port 0 asks the system for a free port.
struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    /// Parses `HOST:PORT`; the error names `flag`.
    init(parsing text: String, flag: String) throws {
        let quoted = JobRunnerErrorText.quoted(text)
        guard let colon = text.lastIndex(of: ":") else {
            throw ValidationError("\(flag) must be HOST:PORT, such as 127.0.0.1:8080; got \(quoted)")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw ValidationError("\(flag): write an IPv6 address in brackets, such as [::1]:8080; got \(quoted)")
        }
        guard !host.isEmpty else {
            throw ValidationError("\(flag) needs a host, such as 127.0.0.1:8080; got \(quoted)")
        }
        guard
            host.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || "0123456789.-:".unicodeScalars.contains($0))
            })
        else {
            throw ValidationError("\(flag): \(JobRunnerErrorText.quoted(host)) is not a host name or address")
        }
        guard let port = Int(portText), (0...65_535).contains(port), portText.allSatisfy(\.isNumber) else {
            throw ValidationError("\(flag): the port must be a number from 0 to 65535; got \(quoted)")
        }
        self.host = host
        self.port = port
    }

    /// Whether only this machine can connect: `localhost`, 127.0.0.0/8 or `::1`.
    var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
