/// Parsing and canonical formatting of human-written durations such as `250ms`,
/// `30s`, `1h30m` or `1.5s`.
///
/// Grammar (after trimming leading and trailing whitespace):
///
///     duration  = component *( [spaces] component )
///     component = digits [ "." digits ] unit
///     unit      = "d" | "h" | "m" | "s" | "ms" | "us" | "µs"
///
/// Rules:
/// - Every number needs a unit (`5` is rejected, so is `0`; write `0s`).
/// - Units are lowercase and must appear from largest to smallest
///   (`1h30m` is fine, `30m1h` is rejected); a unit may appear only once (`1s1s` is rejected).
/// - Whitespace is allowed *between* components (`1h 30m`), never between a number and its unit.
/// - Decimal fractions are allowed (`1.5s`, `0.25h`) as long as the result is a whole number
///   of microseconds (`1.5us` is rejected).
/// - Signs are rejected (`-5s`, `+5s`); the result is always zero or positive.
/// - The total must fit in `Int64` microseconds (about 106751991 days).
///
/// ``format(_:)`` produces the canonical form: the non-zero components from days down to
/// microseconds, concatenated without spaces (`1h30m`, `1s500ms`, `2d`, `0s` for zero),
/// and `parse(format(d)) == d` for every non-negative, microsecond-precision duration.
package enum DurationFormat {
    /// Units in canonical (descending) order with their size in microseconds.
    private static let units: [(name: String, micros: Int64)] = [
        ("d", 86_400_000_000),
        ("h", 3_600_000_000),
        ("m", 60_000_000),
        ("s", 1_000_000),
        ("ms", 1_000),
        ("us", 1),
    ]

    private static let hint =
        "expected a number followed by a unit (us, ms, s, m, h, d), e.g. 250ms, 30s, 1h30m"

    /// Parses a duration such as `250ms`, `30s`, `1h30m`, `1h 30m`, `2d`, `500us` or `1.5s`.
    ///
    /// - Returns: a zero or positive duration with microsecond precision.
    /// - Throws: ``ScheduleError`` naming the problem (empty input, sign, missing or unknown
    ///   unit, duplicate or out-of-order unit, sub-microsecond precision, overflow).
    package static func parse(_ text: String) throws(ScheduleError) -> Duration {
        .microseconds(try parseMicroseconds(text))
    }

    /// Like ``parse(_:)`` but also rejects a zero duration (`0s`, `0ms`, …).
    package static func parsePositive(_ text: String) throws(ScheduleError) -> Duration {
        let micros = try parseMicroseconds(text)
        if micros == 0 {
            throw ScheduleError(
                "invalid duration \(ScheduleError.quote(text)): must be greater than zero")
        }
        return .microseconds(micros)
    }

    /// Parses a duration (same grammar as ``parse(_:)``) and returns it as a whole number
    /// of microseconds (zero or positive).
    package static func parseMicroseconds(_ text: String) throws(ScheduleError) -> Int64 {
        let bytes = Array(text.utf8)
        let quoted = ScheduleError.quote(text)
        func fail(_ detail: String?) -> ScheduleError {
            if let detail {
                return ScheduleError("invalid duration \(quoted): \(detail); \(hint)")
            }
            return ScheduleError("invalid duration \(quoted): \(hint)")
        }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        if start == end { throw fail("it is empty") }

        let overflow = ScheduleError(
            "invalid duration \(quoted): too large (the maximum is 106751991 days)")
        var i = start
        var total: Int64 = 0
        var lastRank = -1
        while i < end {
            if bytes[i] == UInt8(ascii: "-") { throw fail("negative durations are not allowed") }
            guard isDigit(bytes[i]) else { throw fail(nil) }
            // Integer part. Overflow here is only an error once we know a unit follows.
            var whole: Int64 = 0
            var wholeOverflow = false
            let numberStart = i
            while i < end, isDigit(bytes[i]) {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                if o1 || o2 { wholeOverflow = true }
                whole = a
                i += 1
            }
            // Optional fraction: keep digits without trailing zeros.
            var fraction: [UInt8] = []
            if i < end, bytes[i] == UInt8(ascii: ".") {
                i += 1
                let fractionStart = i
                while i < end, isDigit(bytes[i]) { i += 1 }
                if i == fractionStart { throw fail("expected digits after the decimal point") }
                fraction = Array(bytes[fractionStart..<i])
                while let last = fraction.last, last == 0x30 { fraction.removeLast() }
            }
            let numberText = String(decoding: bytes[numberStart..<i], as: UTF8.self)
            // Unit.
            let unitStart = i
            while i < end, !isDigit(bytes[i]), !isSpace(bytes[i]), bytes[i] != UInt8(ascii: ".") {
                i += 1
            }
            if unitStart == i { throw fail("missing unit after \(numberText.debugDescription)") }
            var unitName = String(decoding: bytes[unitStart..<i], as: UTF8.self)
            if unitName == "µs" || unitName == "μs" { unitName = "us" }
            guard let rank = units.firstIndex(where: { $0.name == unitName }) else {
                throw fail("unknown unit \(ScheduleError.quote(unitName, limit: 20))")
            }
            if rank == lastRank {
                throw fail("unit \(unitName.debugDescription) appears more than once")
            }
            if rank < lastRank {
                throw fail(
                    "units must go from largest to smallest (d, h, m, s, ms, us), but \(unitName.debugDescription) follows \(units[lastRank].name.debugDescription)"
                )
            }
            lastRank = rank
            let unitMicros = units[rank].micros

            if wholeOverflow { throw overflow }
            let (wholeMicros, o1) = whole.multipliedReportingOverflow(by: unitMicros)
            if o1 { throw overflow }
            guard let fractionMicros = fractionValue(fraction, unitMicros: unitMicros) else {
                throw fail("\(numberText)\(unitName) is finer than one microsecond")
            }
            let (component, o2) = wholeMicros.addingReportingOverflow(fractionMicros)
            let (sum, o3) = total.addingReportingOverflow(component)
            if o2 || o3 { throw overflow }
            total = sum

            // Whitespace may separate components.
            while i < end, isSpace(bytes[i]) { i += 1 }
        }
        return total
    }

    /// Value of `0.<digits>` units in microseconds, or nil when it is not a whole
    /// number of microseconds. Never overflows: the result is below `unitMicros`.
    private static func fractionValue(_ digits: [UInt8], unitMicros: Int64) -> Int64? {
        if digits.isEmpty { return 0 }
        // unitMicros divides 86_400_000_000 < 10^11, so more than 11 significant digits
        // can never describe a whole number of microseconds.
        if digits.count > 11 { return nil }
        var numerator: Int64 = 0
        var denominator: Int64 = 1
        for d in digits {
            numerator = numerator * 10 + Int64(d - 0x30)
            denominator *= 10
        }
        let g = gcd(unitMicros, denominator)
        let reducedDenominator = denominator / g
        guard numerator % reducedDenominator == 0 else { return nil }
        return (numerator / reducedDenominator) * (unitMicros / g)
    }

    private static func gcd(_ a: Int64, _ b: Int64) -> Int64 {
        var (x, y) = (a, b)
        while y != 0 { (x, y) = (y, x % y) }
        return x
    }

    /// Formats a duration in canonical short form: non-zero components from days down to
    /// microseconds, e.g. `1h30m`, `250ms`, `1s500ms`, `2d`; zero is `0s`.
    ///
    /// Sub-microsecond parts are truncated. Negative durations are formatted with a leading
    /// `-` (which ``parse(_:)`` rejects).
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let negative = seconds < 0 || attoseconds < 0
        let wholeSeconds = seconds.magnitude
        let subMicros = attoseconds.magnitude / 1_000_000_000_000
        let days = wholeSeconds / 86_400
        let hours = wholeSeconds % 86_400 / 3_600
        let minutes = wholeSeconds % 3_600 / 60
        let secs = wholeSeconds % 60
        let values: [UInt64] = [days, hours, minutes, secs, subMicros / 1_000, subMicros % 1_000]
        var out = negative ? "-" : ""
        for (index, value) in values.enumerated() where value != 0 {
            out += String(value) + units[index].name
        }
        return out.isEmpty || out == "-" ? "0s" : out
    }

    /// Formats a number of microseconds in canonical short form (see ``format(_:)``).
    package static func format(microseconds: Int64) -> String {
        let magnitude = microseconds.magnitude
        let seconds = magnitude / 1_000_000
        let micros = magnitude % 1_000_000
        let d = Duration(
            secondsComponent: Int64(seconds), attosecondsComponent: Int64(micros) * 1_000_000_000_000)
        return (microseconds < 0 ? "-" : "") + format(d)
    }

    /// Converts a duration to whole microseconds, truncating toward zero any
    /// sub-microsecond part; nil when the value does not fit in `Int64`.
    package static func microseconds(of duration: Duration) -> Int64? {
        let (seconds, attoseconds) = duration.components
        let (scaled, o1) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (sum, o2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        return o1 || o2 ? nil : sum
    }
}
