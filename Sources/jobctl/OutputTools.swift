import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Formatting used by `logs`, `list`, `next` and `history --follow`.
extension Output {
    /// Text for a terminal: control characters other than newline and tab shown in caret notation
    /// (`^[` for ESC, `^@` for NUL, `^?` for DEL), so that stored output cannot drive the terminal.
    static func terminalSafe(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x09: out.unicodeScalars.append(scalar)
            case 0..<0x20: out += "^" + String(UnicodeScalar(UInt8(scalar.value + 0x40)))
            case 0x7F: out += "^?"
            case 0x80..<0xA0: out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The last `lines` lines of `text`, each made safe for one table-like line.
    static func lastLines(_ text: String, lines: Int) -> [String] {
        var all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if all.last == "" { all.removeLast() }
        return all.suffix(lines).map { cell($0, limit: 200) }
    }

    /// A span for people, with two units at most: `45s`, `4m 10s`, `2h 5m`, `3d 4h`; under a second `0.25s`.
    static func span(micros: Int64) -> String {
        let magnitude = micros == .min ? Int64.max : abs(micros)
        if magnitude < 1_000_000 { return String(format: "%.2fs", Double(magnitude) / 1_000_000) }
        return short(micros: magnitude)
    }

    /// Local wall-clock time with the weekday and the zone's abbreviation, as `systemctl list-timers`
    /// shows it: `Mon 2026-11-30 10:00:00 CET`. `zone` nil means the machine's zone ($TZ); with a
    /// zone, its UTC offset stands for the abbreviation: `Sun 2026-03-29 03:00:00 +02:00`.
    static func zonedTime(_ instant: UnixMicros, zone: TimeZone? = nil) -> String {
        let seconds = Timestamp.floorSeconds(instant)
        if let zone {
            // Foundation names most zones' abbreviations GMT+1 on Linux: the offset says it plainly.
            let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
            return civil(seconds + offset) + " " + offsetText(offset)
        }
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        let abbreviation = parts.tm_zone.map { String(cString: $0) } ?? ""
        return civil(seconds + Int64(parts.tm_gmtoff)) + (abbreviation.isEmpty ? "" : " " + abbreviation)
    }

    /// `Mon 2026-11-30 10:00:00` for a count of seconds since the epoch already shifted to local time.
    private static func civil(_ shifted: Int64) -> String {
        let days = shifted >= 0 ? shifted / 86_400 : (shifted - 86_399) / 86_400
        let secondOfDay = shifted - days * 86_400
        // 1970-01-01 was a Thursday.
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        let utc = Timestamp.formatRFC3339UTC(days * 86_400_000_000)
        let date = utc.prefix(10)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday) \(date) \(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60)):\(two(secondOfDay % 60))"
    }

    /// `+02:00`, `-05:00`.
    static func offsetText(_ seconds: Int64) -> String {
        let magnitude = abs(seconds)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return (seconds < 0 ? "-" : "+") + two(magnitude / 3600) + ":" + two(magnitude % 3600 / 60)
    }

    /// UTC with the weekday: `Mon 2026-11-30 09:00:00 UTC`.
    static func utcTime(_ instant: UnixMicros) -> String {
        civil(Timestamp.floorSeconds(instant)) + " UTC"
    }
}

extension Timestamp {
    /// Whole seconds since the epoch, rounded down.
    static func floorSeconds(_ micros: UnixMicros) -> Int64 {
        micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    }
}

extension Output {
    /// RFC 3339 in the machine's local zone, with its offset: `2026-03-29T03:00:00+02:00`.
    static func rfc3339Local(_ instant: UnixMicros) -> String {
        let seconds = Timestamp.floorSeconds(instant)
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        let offset = Int64(parts.tm_gmtoff)
        let shifted = Timestamp.formatRFC3339UTC((seconds + offset) * 1_000_000)
        return String(shifted.dropLast()) + offsetText(offset)
    }
}
