#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Keeps database passwords out of the process's command line, which anyone on the host can read
/// (`ps`, `/proc/PID/cmdline`): `jobctl run --db postgres://app:PASSWORD@db/jobs` would show it for as
/// long as the runner lives.
enum ProcessTitle {
    /// Overwrites, in place, every password of a PostgreSQL URL among the arguments with `*`. Call it
    /// once the arguments have been read (``CommandLine/arguments`` keeps its own copy).
    static func hideCredentials() {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeMutableBufferPointer(
                start: UnsafeMutableRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw))
            for range in passwordRanges(in: Array(bytes)) {
                for offset in range { bytes[offset] = UInt8(ascii: "*") }
            }
        }
    }

    /// Where the passwords are in `argument`: in each `postgres://` or `postgresql://` URL it contains,
    /// the user information's `:PASSWORD@`, and the value of a `password=` query parameter.
    static func passwordRanges(in argument: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var searchFrom = 0
        while let authorityStart = nextAuthority(in: argument, from: searchFrom) {
            // The authority runs to the path or the query; its user information to its last `@`.
            let authorityEnd =
                argument[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
                ?? argument.endIndex
            let authority = argument[authorityStart..<authorityEnd]
            if let at = authority.lastIndex(of: UInt8(ascii: "@")),
                let colon = argument[authorityStart..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at
            {
                ranges.append((colon + 1)..<at)
            }
            // The query, up to the end of the argument or of the URL (a space, another URL).
            let urlEnd = argument[authorityEnd...].firstIndex { $0 == UInt8(ascii: " ") } ?? argument.endIndex
            if let question = argument[authorityEnd..<urlEnd].firstIndex(of: UInt8(ascii: "?")) {
                var start = question + 1
                while start < urlEnd {
                    let end = argument[start..<urlEnd].firstIndex(of: UInt8(ascii: "&")) ?? urlEnd
                    let key = Array("password=".utf8)
                    if end - start > key.count, Array(argument[start..<(start + key.count)]) == key {
                        ranges.append((start + key.count)..<end)
                    }
                    start = end + 1
                }
            }
            searchFrom = max(authorityEnd, authorityStart + 1)
        }
        return ranges
    }

    /// Where the authority (after `//`) of the next `postgres://` or `postgresql://` at or after
    /// `from` starts.
    private static func nextAuthority(in argument: [UInt8], from: Int) -> Int? {
        let schemes = [Array("postgresql://".utf8), Array("postgres://".utf8)]
        var index = from
        while index < argument.count {
            for scheme in schemes
            where index + scheme.count <= argument.count && Array(argument[index..<(index + scheme.count)]) == scheme {
                return index + scheme.count
            }
            index += 1
        }
        return nil
    }
}
