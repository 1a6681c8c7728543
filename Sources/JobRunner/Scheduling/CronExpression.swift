public import Foundation

/// A parsed cron schedule, matched against local wall-clock time in a given time zone.
///
/// ## Syntax
/// Five fields `minute hour day-of-month month day-of-week`, or six fields with a leading
/// `second` field. Fields are separated by spaces or tabs.
///
/// | field        | values                      |
/// |--------------|-----------------------------|
/// | second       | 0-59                        |
/// | minute       | 0-59                        |
/// | hour         | 0-23                        |
/// | day-of-month | 1-31                        |
/// | month        | 1-12 or JAN-DEC             |
/// | day-of-week  | 0-7 or SUN-SAT (0 and 7 are Sunday) |
///
/// Each field is a comma-separated list of items; an item is `*`, a value `a`, a range `a-b`,
/// optionally followed by a step `/n` (`*/n`, `a-b/n`, and `a/n` meaning `a-max/n`).
/// Names are case-insensitive. A step must lie in `1...(max - min)` of its field; ranges must
/// not be reversed, except that a day-of-week range may end with the name `SUN`
/// (`FRI-SUN` means Friday through Sunday). With five fields the second is 0.
///
/// Macros: `@yearly`/`@annually` (`0 0 1 1 *`), `@monthly` (`0 0 1 * *`),
/// `@weekly` (`0 0 * * 0`), `@daily`/`@midnight` (`0 0 * * *`), `@hourly` (`0 * * * *`).
///
/// ## Day matching (Vixie cron rule)
/// If both day-of-month and day-of-week are restricted, a day matches when **either** field
/// matches (`0 0 13 * FRI` fires on every 13th and on every Friday). If either of them is
/// unrestricted, both must match. As in Vixie cron, a field counts as unrestricted when its
/// text starts with `*` (so `*/2` in day-of-month is "unrestricted" for this rule).
///
/// Expressions that can never fire (`0 0 30 2 *`, `0 0 31 4 *`) are rejected when parsed;
/// `0 0 29 2 *` is accepted (it fires in leap years).
///
/// ## Time zones and daylight-saving time
/// Fields are matched against local wall-clock time in the zone passed to ``next(after:in:)``:
/// - **Gap (spring forward):** a matching wall time that does not exist fires once, at the
///   first instant after the gap (the transition instant). If several skipped wall times match,
///   or the first wall time after the gap also matches, they all collapse into that single
///   firing. Example: Europe/Berlin 2026-03-29, `30 2 * * *` fires at 03:00 CEST = 01:00Z.
/// - **Overlap (fall back):** a wall time that occurs twice fires only at its first occurrence;
///   nothing fires during the repeated stretch. Example: America/New_York 2026-11-01,
///   `30 1 * * *` fires at 05:30Z only, and `*/15 * * * *` fires 05:00Z…05:45Z and then 07:00Z.
///
/// Equality and hashing compare the schedule (the sets of matching values and the
/// day-matching mode), not the text: `0 0 * * 7` equals `0 0 * * SUN`.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    private let secondMask: UInt64
    private let minuteMask: UInt64
    private let hourMask: UInt64
    private let dayOfMonthMask: UInt64
    private let monthMask: UInt64
    private let dayOfWeekMask: UInt64
    /// Vixie rule: OR the day fields only when neither starts with `*`.
    private let dayFieldsAreOred: Bool
    private let normalized: String

    /// How far ``next(after:in:)`` searches before giving up: 40 years, enough for any
    /// combination of a date (including February 29) with a weekday to recur.
    package static let searchHorizonSeconds: Int64 = 40 * 366 * 86_400

    /// Parses a five- or six-field cron expression or a macro such as `@daily`.
    ///
    /// Never hangs: parsing is linear in the input length, and errors name the field and
    /// the problem, e.g. `cron minute field "0-99999999": 99999999 is out of range 0-59`.
    /// - Throws: ``ScheduleError`` for an expression that does not parse.
    public init(_ text: String) throws {
        try self.init(parsing: text)
    }

    /// ``init(_:)`` with its one error type.
    package init(parsing text: String) throws(ScheduleError) {
        let bytes = Array(text.utf8)
        var fields: [ArraySlice<UInt8>] = []
        var i = 0
        while i < bytes.count {
            while i < bytes.count, Self.isBlank(bytes[i]) { i += 1 }
            let start = i
            while i < bytes.count, !Self.isBlank(bytes[i]) { i += 1 }
            if start < i {
                fields.append(bytes[start..<i])
                if fields.count > 6 { break }  // already too many; no need to keep scanning
            }
        }
        let quoted = ScheduleError.quote(text)
        if fields.isEmpty {
            throw ScheduleError("invalid cron expression \(quoted): it is empty")
        }

        var sourceFields = fields
        var normalizedText: String?
        if let first = fields[0].first, first == UInt8(ascii: "@") {
            let name = String(decoding: fields[0], as: UTF8.self).lowercased()
            let expansion: String
            switch name {
            case "@yearly", "@annually": expansion = "0 0 1 1 *"
            case "@monthly": expansion = "0 0 1 * *"
            case "@weekly": expansion = "0 0 * * 0"
            case "@daily", "@midnight": expansion = "0 0 * * *"
            case "@hourly": expansion = "0 * * * *"
            default:
                throw ScheduleError(
                    "invalid cron expression \(quoted): unknown macro \(ScheduleError.quote(name, limit: 20)) (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)"
                )
            }
            if fields.count != 1 {
                throw ScheduleError(
                    "invalid cron expression \(quoted): macro \(name) cannot be followed by other fields")
            }
            sourceFields = Array(expansion.utf8).split(separator: 0x20)
            normalizedText = name
        }

        guard sourceFields.count == 5 || sourceFields.count == 6 else {
            let count = fields.count > 6 ? "more than 6" : String(fields.count)
            throw ScheduleError(
                "invalid cron expression \(quoted): expected 5 fields (minute hour day-of-month month day-of-week) or 6 (with a leading second), got \(count)"
            )
        }
        let hasSeconds = sourceFields.count == 6
        let specs = hasSeconds ? Self.specs : Array(Self.specs.dropFirst())
        var masks: [UInt64] = []
        var startsWithStar: [Bool] = []
        var parts: [String] = []
        for (field, spec) in zip(sourceFields, specs) {
            let parsed = try Self.parseField(field, spec)
            masks.append(parsed.mask)
            startsWithStar.append(field.first == UInt8(ascii: "*"))
            parts.append(parsed.normalized)
        }
        let offset = hasSeconds ? 1 : 0
        secondMask = hasSeconds ? masks[0] : 1
        minuteMask = masks[offset]
        hourMask = masks[offset + 1]
        dayOfMonthMask = masks[offset + 2]
        monthMask = masks[offset + 3]
        var dow = masks[offset + 4]
        if dow & (1 << 7) != 0 { dow = (dow & ~(1 << 7)) | 1 }
        dayOfWeekMask = dow
        dayFieldsAreOred = !startsWithStar[offset + 2] && !startsWithStar[offset + 4]
        normalized = normalizedText ?? parts.joined(separator: " ")

        if !dayFieldsAreOred {
            try Self.checkDayOfMonthPossible(
                dayOfMonth: dayOfMonthMask, months: monthMask, quoted: quoted)
        }
    }

    /// The normalised expression text: fields separated by single spaces, names upper-cased
    /// (`0 9 * * MON-FRI`), macros lower-cased (`@daily`).
    public var description: String { normalized }

    /// Whether two expressions describe the same schedule (text is ignored).
    public static func == (lhs: CronExpression, rhs: CronExpression) -> Bool {
        lhs.secondMask == rhs.secondMask && lhs.minuteMask == rhs.minuteMask
            && lhs.hourMask == rhs.hourMask && lhs.dayOfMonthMask == rhs.dayOfMonthMask
            && lhs.monthMask == rhs.monthMask && lhs.dayOfWeekMask == rhs.dayOfWeekMask
            && lhs.dayFieldsAreOred == rhs.dayFieldsAreOred
    }

    /// Hashes the schedule (consistent with `==`).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(secondMask)
        hasher.combine(minuteMask)
        hasher.combine(hourMask)
        hasher.combine(dayOfMonthMask)
        hasher.combine(monthMask)
        hasher.combine(dayOfWeekMask)
        hasher.combine(dayFieldsAreOred)
    }

    // MARK: - Next occurrence

    /// The first firing instant strictly after `instant`, in Unix microseconds (always a whole
    /// second), or nil when there is none within 40 years, or the instant is outside the supported
    /// range of roughly ±300,000 years.
    ///
    /// Fields are matched against local wall-clock time in `timeZone`; see the type
    /// documentation for the daylight-saving rules (gap → once at the transition,
    /// overlap → first occurrence only).
    public func next(after instant: Int64, in timeZone: TimeZone) -> Int64? {
        let t = Timestamp.floorDivide(instant, 1_000_000)
        let bound: Int64 = 9_000_000_000_000
        guard t > -bound, t < bound else { return nil }
        let zone = ZoneClock(timeZone)
        let wallNow = t + zone.offset(atUTC: t)
        let limit = wallNow + Self.searchHorizonSeconds
        var wall = wallNow + 1
        for _ in 0..<10_000 {
            guard let match = nextMatchingWall(atOrAfter: wall, limit: limit) else { return nil }
            let fire = zone.firstInstant(forWall: match)
            if fire > t {
                let (micros, overflow) = fire.multipliedReportingOverflow(by: 1_000_000)
                return overflow ? nil : micros
            }
            // The match's first occurrence is already past: `t` lies in the repeated
            // stretch after a fall-back transition. Skip to the end of that stretch.
            wall = max(match + 1, zone.wallAfterOverlap(firstOccurrence: fire, now: t) ?? match + 1)
        }
        return nil
    }

    /// Throws when the expression has no firing within ``searchHorizonSeconds`` after
    /// `instant` in `timeZone`. Call this when a job is added; statically impossible
    /// expressions such as `0 0 30 2 *` are already rejected by the initializer.
    package func validateFires(from instant: Int64, in timeZone: TimeZone) throws(ScheduleError) {
        if next(after: instant, in: timeZone) == nil {
            throw ScheduleError(
                "invalid cron expression \(ScheduleError.quote(normalized)): it never fires within 40 years after \(Timestamp.formatRFC3339UTC(instant))"
            )
        }
    }

    /// Whether the local wall-clock second `wall` (seconds since 1970-01-01T00:00:00 local)
    /// matches every field.
    func matches(wall: Int64) -> Bool {
        let days = Timestamp.floorDivide(wall, 86_400)
        let secondOfDay = wall - days * 86_400
        let (year, month, day) = Timestamp.civilFromDays(days)
        return Self.has(monthMask, month) && dayMatches(year: year, month: month, day: day)
            && Self.has(hourMask, Int(secondOfDay / 3_600))
            && Self.has(minuteMask, Int(secondOfDay % 3_600 / 60))
            && Self.has(secondMask, Int(secondOfDay % 60))
    }

    private func dayMatches(year: Int64, month: Int, day: Int) -> Bool {
        let domOK = Self.has(dayOfMonthMask, day)
        if dayFieldsAreOred && domOK { return true }
        if !dayFieldsAreOred && !domOK { return false }
        let weekday = Timestamp.weekday(days: Timestamp.daysFromCivil(year: year, month: month, day: day))
        return Self.has(dayOfWeekMask, weekday)
    }

    /// The smallest matching local wall-clock second `>= start` and `<= limit`.
    /// Skips whole months, days, hours and minutes that cannot match.
    func nextMatchingWall(atOrAfter start: Int64, limit: Int64) -> Int64? {
        let startDays = Timestamp.floorDivide(start, 86_400)
        let secondOfDay = start - startDays * 86_400
        var (year, month, day) = Timestamp.civilFromDays(startDays)
        var hour = Int(secondOfDay / 3_600)
        var minute = Int(secondOfDay % 3_600 / 60)
        var second = Int(secondOfDay % 60)

        // Moves to the first second of the next month; false once beyond `limit`.
        func advanceMonth(to newMonth: Int? = nil) -> Bool {
            if let newMonth, newMonth > month {
                month = newMonth
            } else {
                year += 1
                month = newMonth ?? 1
            }
            day = 1
            hour = 0
            minute = 0
            second = 0
            return Timestamp.daysFromCivil(year: year, month: month, day: 1) * 86_400 <= limit
        }
        func advanceDay() {
            day += 1
            hour = 0
            minute = 0
            second = 0
        }

        while true {
            if !Self.has(monthMask, month) {
                let target = Self.nextBit(monthMask, from: month + 1) ?? Self.nextBit(monthMask, from: 1)!
                guard advanceMonth(to: target) else { return nil }
                continue
            }
            if day > Timestamp.daysInMonth(year: year, month: month) {
                let target = Self.nextBit(monthMask, from: month + 1) ?? Self.nextBit(monthMask, from: 1)!
                guard advanceMonth(to: target) else { return nil }
                continue
            }
            if !dayMatches(year: year, month: month, day: day) {
                if !dayFieldsAreOred {
                    // Both must match: jump straight to the next allowed day-of-month.
                    if let nextDay = Self.nextBit(dayOfMonthMask, from: day + 1) {
                        day = nextDay
                        hour = 0
                        minute = 0
                        second = 0
                    } else {
                        day = 32
                    }
                } else {
                    advanceDay()
                }
                continue
            }
            guard let h = Self.nextBit(hourMask, from: hour) else {
                advanceDay()
                continue
            }
            if h != hour {
                hour = h
                minute = 0
                second = 0
            }
            guard let m = Self.nextBit(minuteMask, from: minute) else {
                hour += 1
                minute = 0
                second = 0
                continue
            }
            if m != minute {
                minute = m
                second = 0
            }
            guard let s = Self.nextBit(secondMask, from: second) else {
                minute += 1
                second = 0
                continue
            }
            let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
            let wall = days * 86_400 + Int64(hour * 3_600 + minute * 60 + s)
            return wall <= limit ? wall : nil
        }
    }

    // MARK: - Bit helpers

    private static func has(_ mask: UInt64, _ value: Int) -> Bool {
        value >= 0 && value < 64 && mask & (1 << UInt64(value)) != 0
    }

    /// Smallest set bit index `>= from`, or nil.
    private static func nextBit(_ mask: UInt64, from: Int) -> Int? {
        guard from < 64 else { return nil }
        let shifted = mask >> UInt64(max(from, 0))
        return shifted == 0 ? nil : max(from, 0) + shifted.trailingZeroBitCount
    }

    private static func isBlank(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }

    // MARK: - Parsing

    private struct FieldSpec {
        let name: String
        let min: Int
        let max: Int
        /// Three-letter names; index + `nameBase` is the value.
        let names: [String]
        let nameBase: Int
    }

    private static let specs: [FieldSpec] = [
        FieldSpec(name: "second", min: 0, max: 59, names: [], nameBase: 0),
        FieldSpec(name: "minute", min: 0, max: 59, names: [], nameBase: 0),
        FieldSpec(name: "hour", min: 0, max: 23, names: [], nameBase: 0),
        FieldSpec(name: "day-of-month", min: 1, max: 31, names: [], nameBase: 1),
        FieldSpec(
            name: "month", min: 1, max: 12,
            names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
            nameBase: 1),
        FieldSpec(
            name: "day-of-week", min: 0, max: 7,
            names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], nameBase: 0),
    ]

    private static func parseField(
        _ field: ArraySlice<UInt8>, _ spec: FieldSpec
    ) throws(ScheduleError) -> (mask: UInt64, normalized: String) {
        let fieldText = String(decoding: field, as: UTF8.self)
        func fail(_ detail: String) -> ScheduleError {
            ScheduleError("cron \(spec.name) field \(ScheduleError.quote(fieldText)): \(detail)")
        }
        var mask: UInt64 = 0
        for item in field.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            if item.isEmpty { throw fail("empty list item") }
            let pieces = item.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            if pieces.count > 2 { throw fail("more than one \"/\" in \(show(item))") }
            let base = pieces[0]
            if base.isEmpty { throw fail("missing value before \"/\" in \(show(item))") }
            var step = 1
            var hasStep = false
            if pieces.count == 2 {
                hasStep = true
                let stepText = pieces[1]
                if stepText.isEmpty { throw fail("missing step after \"/\" in \(show(item))") }
                guard let value = smallNumber(stepText) else {
                    throw fail("step \(show(stepText)) is not a number")
                }
                let maxStep = spec.max - spec.min
                if value == 0 { throw fail("step 0 is not allowed (it must be 1-\(maxStep))") }
                if value > maxStep { throw fail("step \(show(stepText)) is out of range 1-\(maxStep)") }
                step = value
            }
            var low: Int
            var high: Int
            if base.count == 1, base.first == UInt8(ascii: "*") {
                low = spec.min
                high = spec.max
            } else {
                let bounds = base.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
                if bounds.count > 2 { throw fail("more than one \"-\" in \(show(item))") }
                if bounds.contains(where: { $0.isEmpty }) {
                    throw fail("incomplete range \(show(base))")
                }
                let (lowValue, _) = try value(bounds[0], spec, fail)
                low = lowValue
                if bounds.count == 2 {
                    let (highValue, wasName) = try value(bounds[1], spec, fail)
                    high = highValue
                    if spec.name == "day-of-week", wasName, high == 0, low > 0 { high = 7 }
                    if low > high {
                        throw fail("range \(show(base)) is reversed (the start must not exceed the end)")
                    }
                } else {
                    high = hasStep ? spec.max : low
                }
            }
            var v = low
            while v <= high {
                mask |= 1 << UInt64(v)
                v += step
            }
        }
        return (mask, fieldText.uppercased())
    }

    /// Parses a value (number or name) and checks its range; also reports whether it was a name.
    private static func value(
        _ text: ArraySlice<UInt8>, _ spec: FieldSpec, _ fail: (String) -> ScheduleError
    ) throws(ScheduleError) -> (Int, Bool) {
        if let first = text.first, first >= 0x30, first <= 0x39 {
            guard let number = smallNumber(text) else {
                if text.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    throw fail("\(show(text)) is out of range \(spec.min)-\(spec.max)")
                }
                throw fail("\(show(text)) is not a number")
            }
            if number < spec.min || number > spec.max {
                throw fail("\(number) is out of range \(spec.min)-\(spec.max)")
            }
            return (number, false)
        }
        let upper = String(decoding: text, as: UTF8.self).uppercased()
        if let index = spec.names.firstIndex(of: upper) {
            return (index + spec.nameBase, true)
        }
        if spec.names.isEmpty {
            throw fail("\(show(text)) is not a number")
        }
        let expected = "\(spec.names.first ?? "")-\(spec.names.last ?? "")"
        throw fail("unknown name \(show(text)) (expected \(spec.min)-\(spec.max) or \(expected))")
    }

    /// Decimal digits only, at most 4 of them (enough for every field); otherwise nil.
    private static func smallNumber(_ text: ArraySlice<UInt8>) -> Int? {
        guard !text.isEmpty, text.count <= 4 else { return nil }
        var value = 0
        for b in text {
            guard b >= 0x30, b <= 0x39 else { return nil }
            value = value * 10 + Int(b - 0x30)
        }
        return value
    }

    /// Short, single-line rendering of a piece of user input for messages.
    private static func show(_ text: ArraySlice<UInt8>) -> String {
        let string = String(decoding: text, as: UTF8.self)
        return string.utf8.count > 24 ? String(string.prefix(24)) + "…" : string
    }

    /// Rejects AND-mode day fields whose day-of-month never occurs in any allowed month.
    private static func checkDayOfMonthPossible(
        dayOfMonth: UInt64, months: UInt64, quoted: String
    ) throws(ScheduleError) {
        guard let firstDay = nextBit(dayOfMonth, from: 1) else { return }
        var impossible: [String] = []
        for month in 1...12 where has(months, month) {
            let longest = month == 2 ? 29 : Timestamp.daysInMonth(year: 2001, month: month)
            if firstDay <= longest { return }
            impossible.append("\(Timestamp.monthName(month)) \(firstDay)")
        }
        throw ScheduleError(
            "invalid cron expression \(quoted): it never fires (no \(impossible.joined(separator: " or ")))")
    }
}

/// UTC-offset lookups for one zone, plus the wall-clock ↔ instant rules used by cron.
/// All values are in whole seconds.
private struct ZoneClock {
    let zone: TimeZone

    init(_ zone: TimeZone) { self.zone = zone }

    /// Offset from UTC (seconds) in effect at the UTC instant `u`.
    func offset(atUTC u: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(u))))
    }

    /// The instant at which wall-clock time `wall` first occurs; for a wall time inside a
    /// spring-forward gap, the transition instant (first instant after the gap).
    func firstInstant(forWall wall: Int64) -> Int64 {
        let before = offset(atUTC: wall - 86_400)
        let after = offset(atUTC: wall + 86_400)
        if before == after { return wall - before }
        let withBefore = wall - before
        let withAfter = wall - after
        let beforeValid = offset(atUTC: withBefore) == before
        let afterValid = offset(atUTC: withAfter) == after
        switch (beforeValid, afterValid) {
        case (true, true): return min(withBefore, withAfter)
        case (true, false): return withBefore
        case (false, true): return withAfter
        case (false, false):
            // Gap: the transition lies between the two candidates.
            let low = min(withBefore, withAfter)
            let high = max(withBefore, withAfter)
            return firstChange(after: low, upTo: high) ?? high
        }
    }

    /// Given the first occurrence `first` of a repeated wall time and a later instant `now`
    /// in the repeated stretch, returns the wall time at which the repetition ends.
    func wallAfterOverlap(firstOccurrence first: Int64, now: Int64) -> Int64? {
        guard let transition = firstChange(after: first, upTo: now) else { return nil }
        return transition + offset(atUTC: first)
    }

    /// First instant in `(low, high]` whose offset differs from the offset at `low`
    /// (binary search; assumes a single change in the interval).
    private func firstChange(after low: Int64, upTo high: Int64) -> Int64? {
        let base = offset(atUTC: low)
        if offset(atUTC: high) == base { return nil }
        var lo = low
        var hi = high
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if offset(atUTC: mid) == base { lo = mid } else { hi = mid }
        }
        return hi
    }
}
