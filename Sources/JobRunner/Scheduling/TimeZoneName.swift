package import Foundation

/// Resolution of user-supplied time-zone names.
package enum TimeZoneName {
    /// The zone's name for people: its identifier, but `UTC` for the zone Foundation calls `GMT`.
    package static func displayName(_ zone: TimeZone) -> String {
        zone.identifier == "GMT" && zone.secondsFromGMT() == 0 ? "UTC" : zone.identifier
    }

    /// Resolves a time-zone name to a `TimeZone`.
    ///
    /// - `UTC` (any case) is UTC.
    /// - `local` (any case) is the machine's current zone, `TimeZone.current`. It is resolved
    ///   at call time, so the same job can behave differently on differently configured hosts;
    ///   prefer an explicit IANA name for anything persisted.
    /// - Anything else must be an identifier Foundation knows, normally an IANA name such as
    ///   `Europe/Berlin` or `America/New_York` (matching is exact and case-sensitive). Offset
    ///   spellings (`UTC+3`, `GMT-0500`) are refused: POSIX and Foundation read them oppositely.
    ///
    /// - Throws: ``ScheduleError`` such as `unknown time zone "Mars/Olympus"`.
    package static func resolve(_ name: String) throws(ScheduleError) -> TimeZone {
        let lowered = name.lowercased()
        if lowered == "utc" {
            if let utc = TimeZone(identifier: "UTC") { return utc }
            return TimeZone(secondsFromGMT: 0) ?? .current
        }
        if lowered == "local" {
            return .current
        }
        let looksValid =
            !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: "/") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
                    || b == UInt8(ascii: "+")
            }
        // Foundation also takes "UTC+3" or "GMT-0500" as an offset from UTC, where POSIX TZ reads
        // "UTC+3" as 3 hours *behind* UTC: refused as ambiguous (Etc/GMT-3 is the IANA name for +03:00).
        let offsetLike = (lowered.hasPrefix("utc") || lowered.hasPrefix("gmt")) && name.count > 3
        guard looksValid, !offsetLike, let zone = TimeZone(identifier: name) else {
            throw ScheduleError(
                "unknown time zone \(ScheduleError.quote(name)) (expected an IANA name such as Europe/Berlin, or UTC or local)"
            )
        }
        return zone
    }
}
