/// RFC 3339 parsing and formatting for instants expressed as `Int64` Unix microseconds (UTC),
/// plus the proleptic-Gregorian calendar arithmetic used by the scheduler.
///
/// Calendar conversion is done by hand (days-from-civil) so it is fast, allocation-light
/// and independent of `DateFormatter`/ICU.
package enum Timestamp {
    /// Parses an RFC 3339 timestamp into Unix microseconds (UTC).
    ///
    /// Accepted form: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, for example
    /// `2026-11-25T10:00:00Z`, `2026-11-25T10:00:00.123456Z` or `2026-11-25T11:00:00+01:00`.
    /// - The date/time separator may be `T`, `t` or a single space; `Z` may be lowercase.
    /// - The fraction may have any number of digits; digits beyond the sixth
    ///   (sub-microsecond) are truncated.
    /// - An offset is required; `-00:00` is treated as UTC.
    /// - Leap seconds (`:60`) are rejected, as are impossible dates such as `2026-02-29`.
    package static func parseRFC3339(_ text: String) throws(ScheduleError) -> Int64 {
        let b = Array(text.utf8)
        let quoted = ScheduleError.quote(text)
        func fail(_ detail: String) -> ScheduleError {
            ScheduleError(
                "invalid timestamp \(quoted): \(detail) (expected RFC 3339, e.g. 2026-11-25T10:00:00Z)")
        }
        var i = 0
        func digits(_ count: Int, _ what: String) throws(ScheduleError) -> Int64 {
            guard i + count <= b.count else { throw fail("missing \(what)") }
            var value: Int64 = 0
            for k in i..<(i + count) {
                let c = b[k]
                guard c >= 0x30, c <= 0x39 else { throw fail("expected \(count) digits for the \(what)") }
                value = value * 10 + Int64(c - 0x30)
            }
            i += count
            return value
        }
        func expect(_ chars: String, _ what: String) throws(ScheduleError) {
            guard i < b.count, chars.utf8.contains(b[i]) else { throw fail("expected \(what)") }
            i += 1
        }

        let year = try digits(4, "year")
        try expect("-", "\"-\" after the year")
        let month = try digits(2, "month")
        try expect("-", "\"-\" after the month")
        let day = try digits(2, "day")
        try expect("Tt ", "\"T\" between date and time")
        let hour = try digits(2, "hour")
        try expect(":", "\":\" after the hour")
        let minute = try digits(2, "minute")
        try expect(":", "\":\" after the minute")
        let second = try digits(2, "second")

        var micros: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            var scale: Int64 = 100_000
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                micros += Int64(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            if i == fractionStart { throw fail("expected digits after the decimal point") }
        }

        var offsetSeconds: Int64 = 0
        guard i < b.count else { throw fail("missing time zone offset (Z or ±HH:MM)") }
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            let offsetHour = try digits(2, "offset hours")
            try expect(":", "\":\" in the offset")
            let offsetMinute = try digits(2, "offset minutes")
            if offsetHour > 23 { throw fail("offset hour \(offsetHour) is out of range 0-23") }
            if offsetMinute > 59 { throw fail("offset minute \(offsetMinute) is out of range 0-59") }
            offsetSeconds = sign * (offsetHour * 3_600 + offsetMinute * 60)
        default:
            throw fail("missing time zone offset (Z or ±HH:MM)")
        }
        if i != b.count { throw fail("unexpected text after the offset") }

        if month < 1 || month > 12 { throw fail("month \(month) is out of range 1-12") }
        let monthDays = daysInMonth(year: year, month: Int(month))
        if day < 1 || day > monthDays {
            throw fail("day \(day) does not exist in \(monthName(Int(month))) \(year)")
        }
        if hour > 23 { throw fail("hour \(hour) is out of range 0-23") }
        if minute > 59 { throw fail("minute \(minute) is out of range 0-59") }
        if second == 60 { throw fail("leap seconds are not supported") }
        if second > 59 { throw fail("second \(second) is out of range 0-59") }

        let days = daysFromCivil(year: year, month: Int(month), day: Int(day))
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds
        // In UTC the instant must still be a year 0000-9999, or it could not be written back.
        let firstSecond = daysFromCivil(year: 0, month: 1, day: 1) * 86_400
        let lastSecond = daysFromCivil(year: 9999, month: 12, day: 31) * 86_400 + 86_399
        if seconds < firstSecond || seconds > lastSecond {
            throw fail("the instant falls outside the years 0000-9999 in UTC")
        }
        return seconds * 1_000_000 + micros
    }

    /// Formats Unix microseconds as RFC 3339 in UTC: `2026-11-25T10:00:00Z` when the
    /// sub-second part is zero, otherwise always six fraction digits
    /// (`2026-11-25T10:00:00.123456Z`, `2026-11-25T10:00:00.500000Z`).
    ///
    /// `parseRFC3339(formatRFC3339UTC(x)) == x` for every instant in years 0000-9999.
    package static func formatRFC3339UTC(_ micros: Int64) -> String {
        let seconds = floorDivide(micros, 1_000_000)
        let fraction = micros - seconds * 1_000_000
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        var out = ""
        out.reserveCapacity(27)
        if year >= 0 && year <= 9_999 {
            out += pad(year, 4)
        } else {
            out += String(year)
        }
        out += "-" + pad(Int64(month), 2) + "-" + pad(Int64(day), 2)
        out += "T" + pad(secondOfDay / 3_600, 2) + ":" + pad(secondOfDay % 3_600 / 60, 2)
        out += ":" + pad(secondOfDay % 60, 2)
        if fraction != 0 {
            out += "." + pad(fraction, 6)
        }
        out += "Z"
        return out
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, UTC)

    /// Floor division (rounds toward negative infinity); `divisor` must be positive.
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let q = value / divisor
        return (value % divisor < 0) ? q - 1 : q
    }

    /// Days since 1970-01-01 for a civil date (`month` 1-12, `day` 1-31).
    static func daysFromCivil(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Civil date (year, month 1-12, day 1-31) for a count of days since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Day of the week (0 = Sunday … 6 = Saturday) for a count of days since 1970-01-01.
    static func weekday(days: Int64) -> Int {
        Int((floorDivide(days, 7) * -7 + days + 4) % 7)
    }

    /// Whether `year` is a Gregorian leap year.
    static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Number of days in `month` (1-12) of `year`.
    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// English month name for `month` (1-12).
    static func monthName(_ month: Int) -> String {
        let names = [
            "January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December",
        ]
        return (1...12).contains(month) ? names[month - 1] : "month \(month)"
    }
}
