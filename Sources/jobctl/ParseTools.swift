import ArgumentParser
import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Parse {
    /// A claim lead (`--claim-lead`): a duration of at most 1 s, the most the runner applies.
    static func claimLead(_ text: String) throws -> Duration {
        let lead = try duration(text, flag: "--claim-lead")
        guard lead <= .seconds(1) else { throw ValidationError("--claim-lead must be at most 1s; got \(text)") }
        return lead
    }

    /// A point in the past for `--since`: a duration ago (`1h`, `30m`, `1h30m`, also `1h ago`), a local
    /// date (`2026-11-30`, its midnight) or local date and time (`2026-11-30 10:00`,
    /// `2026-11-30 10:00:30`, with a space or `T`), or an RFC 3339 instant.
    static func since(_ text: String, flag: String, now: UnixMicros) throws -> UnixMicros {
        if let instant = try? Timestamp.parseRFC3339(text) { return instant }
        if let instant = try localDateTime(text, flag: flag) { return instant }
        var durationText = text
        if durationText.hasSuffix(" ago") { durationText.removeLast(4) }
        if let duration = try? DurationFormat.parse(durationText) {
            let (result, overflow) = now.subtractingReportingOverflow(duration.microseconds)
            if overflow { throw ValidationError("\(flag): \(JobRunnerErrorText.quoted(text)) is too long ago") }
            return result
        }
        throw ValidationError(
            "\(flag): expected a duration ago (1h, 30m, 2d), a local date or time (2026-11-30, 2026-11-30 10:00) or an RFC 3339 instant, not \(JobRunnerErrorText.quoted(text))"
        )
    }

    /// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS` in the machine's zone ($TZ); nil when
    /// the text does not have that shape. A wall time that a DST change skips is taken as the
    /// instant just after the gap (as `mktime` does).
    static func localDateTime(_ text: String, flag: String) throws -> UnixMicros? {
        let bytes = Array(text.utf8)
        let shapes = ["dddd-dd-dd", "dddd-dd-dd dd:dd", "dddd-dd-dd dd:dd:dd"]
        let matches = shapes.contains { shape in
            let pattern = Array(shape.utf8)
            guard pattern.count == bytes.count else { return false }
            return zip(pattern, bytes).allSatisfy { p, b in
                switch p {
                case UInt8(ascii: "d"): b >= 0x30 && b <= 0x39
                case UInt8(ascii: " "): b == UInt8(ascii: " ") || b == UInt8(ascii: "T")
                default: p == b
                }
            }
        }
        guard matches else { return nil }
        var wall = String(text.prefix(10)) + "T" + (bytes.count > 10 ? String(text.dropFirst(11)) : "00:00")
        if wall.count == 16 { wall += ":00" }
        // The calendar checks (month, day of the month, hour, …) are RFC 3339's.
        do {
            _ = try Timestamp.parseRFC3339(wall + "Z")
        } catch {
            throw ValidationError("\(flag): \(JobRunnerErrorText.quoted(text)) is not a valid date or time")
        }
        let numbers = wall.split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) }
        var parts = tm()
        parts.tm_year = numbers[0] - 1900
        parts.tm_mon = numbers[1] - 1
        parts.tm_mday = numbers[2]
        parts.tm_hour = numbers[3]
        parts.tm_min = numbers[4]
        parts.tm_sec = numbers[5]
        parts.tm_isdst = -1
        let seconds = mktime(&parts)
        if seconds == -1 && !(numbers[0] == 1969 || numbers[0] == 1970) {
            throw ValidationError("\(flag): \(JobRunnerErrorText.quoted(text)) cannot be placed in local time")
        }
        return Int64(seconds) * 1_000_000
    }
}
