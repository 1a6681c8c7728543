import Foundation
import JobRunner
import TestSupport
import Testing

extension Reliability {
    /// Scenario 10, fuzzing (guarantee 7): thousands of random durations, cron expressions, time zones and
    /// instants never crash or hang; valid ones mean what they say. Time is measured in bulk: on average
    /// each input is answered within a millisecond.
    @Suite("10. hostile input: fuzzing")
    struct Fuzzing {
        static let budgetPerInput: Duration = .milliseconds(1)

        @Test("random durations: parsed exactly or refused, never a crash", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func durations() throws {
            let count = ChaosMode.count(short: 5000, long: 100_000)
            let seed = ChaosMode.seed()
            var random = SeededRandom(seed: seed)
            let units: [(name: String, micros: Int64)] = [
                ("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000), ("s", 1_000_000), ("ms", 1000),
                ("us", 1),
            ]
            var accepted = 0
            var refused = 0
            var wrong: [String] = []
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                for index in 0..<count {
                    if index % 2 == 0 {
                        // A valid duration, built from known parts.
                        var text = ""
                        var expected: Int64 = 0
                        for unit in units where random.chance(0.45) || (text.isEmpty && unit.name == "us") {
                            let whole = Int64.random(in: 0...99_999, using: &random)
                            var part = "\(whole)"
                            expected += whole * unit.micros
                            if unit.micros >= 1_000_000 && random.chance(0.3) {
                                let fraction = Int64.random(in: 0...999, using: &random)
                                part += "." + String(format: "%03lld", fraction)
                                expected += fraction * unit.micros / 1000
                            }
                            text += (text.isEmpty || !random.chance(0.3) ? "" : " ") + part + unit.name
                        }
                        do {
                            let micros = try DurationFormat.parseMicroseconds(text)
                            accepted += 1
                            if micros != expected { wrong.append("\(text) -> \(micros), expected \(expected)") }
                        } catch {
                            wrong.append("valid \(text) refused: \(error)")
                        }
                    } else {
                        let text = Self.mutate(
                            random.pick([
                                "250ms", "30s", "1h30m", "2d", "1.5s", "500us", "0s", "1h 30m", "99999999999999999999d",
                            ]),
                            alphabet: Array("0123456789.dhmsuµ +-_\t\nxé,:;eE∞"), using: &random)
                        do {
                            let micros = try DurationFormat.parseMicroseconds(text)
                            accepted += 1
                            if micros < 0 { wrong.append("\(text.debugDescription) -> negative \(micros)") }
                            let again = try? DurationFormat.parseMicroseconds(
                                DurationFormat.format(microseconds: micros))
                            if again != micros { wrong.append("\(text.debugDescription) does not round-trip") }
                        } catch {
                            refused += 1
                            if "\(error)".isEmpty { wrong.append("\(text.debugDescription): an empty error") }
                        }
                    }
                }
            }
            #expect(wrong.isEmpty, "\(wrong.count) wrong answers (seed \(seed)), e.g. \(wrong.prefix(5))")
            #expect(elapsed < Self.budgetPerInput * count, "\(count) durations took \(elapsed)")
            Figures.report(
                "10e fuzzed durations",
                [
                    "inputs": count, "accepted": accepted, "refused": refused, "wrong": wrong.count,
                    "microseconds_per_input": elapsed.seconds * 1e6 / Double(count), "seed": "\(seed)",
                ])
        }

        @Test(
            "random cron expressions: valid ones fire exactly when they should, the rest are refused; never a hang",
            .timeLimit(ChaosMode.timeLimit(short: 3))
        )
        func cronExpressions() throws {
            let count = ChaosMode.count(short: 3000, long: 50_000)
            let seed = ChaosMode.seed()
            var random = SeededRandom(seed: seed)
            let zones = try [
                "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
            ]
            .map { try TimeZoneName.resolve($0) }
            let utc = zones[0]
            var accepted = 0
            var refused = 0
            var checkedExactly = 0
            var wrong: [String] = []
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                for index in 0..<count {
                    let instant =
                        Int64.random(in: 946_684_800...4_102_444_800, using: &random) * 1_000_000
                        + Int64.random(in: 0..<1_000_000, using: &random)
                    if index % 2 == 0 {
                        let spec = CronSpec.random(using: &random)
                        let expression: CronExpression
                        do {
                            expression = try CronExpression(spec.text)
                        } catch {
                            // Only day-of-month values a month never has (30 February) may be refused.
                            if !spec.mayNeverFire { wrong.append("valid \(spec.text) refused: \(error)") }
                            refused += 1
                            continue
                        }
                        accepted += 1
                        let zone = random.chance(0.5) ? utc : random.pick(zones)
                        guard let next = expression.next(after: instant, in: zone) else {
                            if !spec.mayNeverFire { wrong.append("\(spec.text) never fires after \(instant)") }
                            continue
                        }
                        if next <= instant || next % 1_000_000 != 0 {
                            wrong.append("\(spec.text) in \(zone.identifier): \(next) after \(instant)")
                        }
                        if zone == utc {
                            if !spec.matches(utcSeconds: next / 1_000_000) {
                                wrong.append("\(spec.text) fired at \(next) in UTC, which does not match")
                            }
                            // No earlier match: scan every second (6 fields) or minute (5) up to it, if near.
                            let step: Int64 = spec.hasSeconds ? 1 : 60
                            let from = (instant / 1_000_000 / step + 1) * step
                            if (next / 1_000_000 - from) / step <= 20_000 {
                                checkedExactly += 1
                                var t = from
                                while t < next / 1_000_000 {
                                    if spec.matches(utcSeconds: t) {
                                        wrong.append("\(spec.text) skipped \(t) before \(next / 1_000_000)")
                                        break
                                    }
                                    t += step
                                }
                            }
                        }
                    } else {
                        let text = Self.mutate(
                            random.pick([
                                "*/5 * * * *", "0 3 * * MON-FRI", "30 2 29 2 *", "@daily", "0 0 1,15 * *",
                                "*/10 * * * * *",
                            ]),
                            alphabet: Array("0123456789*/,-?LW#@ abcdefghijklmnopqrstuvwxyzJANFEBMONSUN\t"),
                            using: &random)
                        do {
                            let expression = try CronExpression(text)
                            accepted += 1
                            if let next = expression.next(after: instant, in: random.pick(zones)), next <= instant {
                                wrong.append("\(text.debugDescription): next \(next) not after \(instant)")
                            }
                        } catch {
                            refused += 1
                        }
                    }
                }
            }
            #expect(wrong.isEmpty, "\(wrong.count) wrong answers (seed \(seed)), e.g. \(wrong.prefix(5))")
            #expect(elapsed < Self.budgetPerInput * count, "\(count) cron expressions took \(elapsed)")
            Figures.report(
                "10f fuzzed cron expressions",
                [
                    "inputs": count, "accepted": accepted, "refused": refused,
                    "checked_against_reference": checkedExactly,
                    "wrong": wrong.count, "microseconds_per_input": elapsed.seconds * 1e6 / Double(count),
                    "seed": "\(seed)",
                ])
        }

        @Test(
            "random time zones and RFC 3339 instants: refused or exact, never a crash",
            .timeLimit(ChaosMode.timeLimit(short: 2)))
        func zonesAndInstants() throws {
            let count = ChaosMode.count(short: 2000, long: 40_000)
            let seed = ChaosMode.seed()
            var random = SeededRandom(seed: seed)
            var wrong: [String] = []
            var accepted = 0
            // The edges first: an instant is accepted only if it can be shown (and read back) in RFC 3339.
            for text in ["9999-12-31T23:59:59-23:59", "0000-01-01T00:00:00+23:59", "9999-12-31T23:59:59.999999Z"] {
                guard let value = try? Timestamp.parseRFC3339(text) else { continue }
                if (try? Timestamp.parseRFC3339(Timestamp.formatRFC3339UTC(value))) != value {
                    wrong.append(
                        "\(text) is accepted but shown as \(Timestamp.formatRFC3339UTC(value)), which is not RFC 3339")
                }
            }
            let clock = ContinuousClock()
            let elapsed = clock.measure {
                for index in 0..<count {
                    if index % 2 == 0 {
                        let text = Self.mutate(
                            random.pick([
                                "Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "../../etc/passwd",
                                "Etc/GMT+5",
                            ]),
                            alphabet: Array("abcdefghijklmnopqrstuvwxyzABCXYZ/_+-0123456789 .\u{0}é"), using: &random)
                        if (try? TimeZoneName.resolve(text)) != nil { accepted += 1 }
                    } else {
                        let text = Self.mutate(
                            random.pick([
                                "2026-11-26T01:54:30.043364Z", "2026-12-01T03:00:00+01:00", "1970-01-01T00:00:00Z",
                                "9999-12-31T23:59:59-23:59",
                            ]),
                            alphabet: Array("0123456789-:T.Zz+ "), using: &random)
                        guard let value = try? Timestamp.parseRFC3339(text) else { continue }
                        accepted += 1
                        if (try? Timestamp.parseRFC3339(Timestamp.formatRFC3339UTC(value))) != value {
                            wrong.append("\(text.debugDescription) -> \(value) does not round-trip")
                        }
                    }
                }
            }
            #expect(wrong.isEmpty, "\(wrong.count) wrong answers (seed \(seed)), e.g. \(wrong.prefix(5))")
            #expect(elapsed < Self.budgetPerInput * count, "\(count) zones and instants took \(elapsed)")
            Figures.report(
                "10g fuzzed time zones and instants",
                ["inputs": count, "accepted": accepted, "wrong": wrong.count, "seed": "\(seed)"])
        }

        @Test(
            "random durations and cron expressions through jobctl: exit 0 or 64 with one line, quickly",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func throughTheCommandLine() async throws {
            let count = ChaosMode.count(short: 40, long: 400)
            let seed = ChaosMode.seed()
            var random = SeededRandom(seed: seed)
            try await Sandbox.with("fuzz-cli") { sandbox in
                var accepted = 0
                var slowest: Duration = .zero
                for index in 0..<count {
                    let arguments: [String]
                    if index % 2 == 0 {
                        let text = Self.mutate("1h30m", alphabet: Array("0123456789.dhmsu -"), using: &random)
                        arguments = ["add", "fuzz-\(index)", "--every", text, "--handler", "tick"]
                    } else {
                        let text = Self.mutate(
                            "*/5 1-3 * JAN MON", alphabet: Array("0123456789*/,- ?LWJANMON@"), using: &random)
                        arguments = ["add", "fuzz-\(index)", "--cron", text, "--handler", "tick"]
                    }
                    let result = try await sandbox.jobctl(arguments, timeout: .seconds(30))
                    slowest = max(slowest, result.elapsed)
                    if result.status == .exited(0) {
                        accepted += 1
                    } else {
                        #expect(result.status == .exited(64), "\(result)")
                        #expect(result.stderrLines.count == 1, "\(result)")
                    }
                }
                #expect(slowest < .seconds(5), "the slowest answer took \(slowest)")
                if accepted > 0 { try sandbox.expectInvariants() }
                Figures.report(
                    "10h fuzzed command lines",
                    ["inputs": count, "accepted": accepted, "slowest_seconds": slowest.seconds, "seed": "\(seed)"])
            }
        }

        /// A few random edits (insert, delete, replace, duplicate) of `text`.
        static func mutate(_ text: String, alphabet: [Character], using random: inout SeededRandom) -> String {
            var characters = Array(text)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 0...characters.count, using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0: characters.insert(random.pick(alphabet), at: position)
                case 1 where position < characters.count: characters.remove(at: position)
                case 2 where position < characters.count: characters[position] = random.pick(alphabet)
                case 3:
                    characters.insert(
                        contentsOf: characters.prefix(Int.random(in: 0...8, using: &random)), at: position)
                default:
                    characters.insert(
                        contentsOf: Array(String(UInt64.random(in: 0...UInt64.max, using: &random))), at: position)
                }
            }
            return String(characters)
        }
    }
}

/// A random, valid cron expression together with the sets of values it stands for: a reference to check
/// the product's answers against (in UTC, where no daylight-saving rule applies).
struct CronSpec {
    var text: String
    var hasSeconds: Bool
    var seconds: Set<Int>
    var minutes: Set<Int>
    var hours: Set<Int>
    var daysOfMonth: Set<Int>
    var months: Set<Int>
    var daysOfWeek: Set<Int>  // 0 = Sunday
    var dayOfMonthStar: Bool
    var dayOfWeekStar: Bool

    /// Day-of-month values some month lacks (29–31) may make an expression that never fires.
    var mayNeverFire: Bool { !dayOfMonthStar && daysOfMonth.contains(where: { $0 >= 29 }) }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    static func random(using random: inout SeededRandom) -> CronSpec {
        func field(_ low: Int, _ high: Int, names: [String]? = nil, nameBase: Int = 0) -> (String, Set<Int>, Bool) {
            func render(_ value: Int) -> String {
                if let names, random.chance(0.3), value - nameBase < names.count { return names[value - nameBase] }
                return "\(value)"
            }
            func atom() -> (String, Set<Int>) {
                let a = Int.random(in: low...high, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: return (render(a), [a])
                case 1:
                    let b = Int.random(in: a...high, using: &random)
                    return ("\(render(a))-\(render(b))", Set(a...b))
                default:
                    // Steps are 1 to the field's span (documented: `*/24` is refused for hours).
                    let b = Int.random(in: a...high, using: &random)
                    let step = Int.random(in: 1...max(1, min(b - a + 1, high - low)), using: &random)
                    return ("\(render(a))-\(render(b))/\(step)", Set(stride(from: a, through: b, by: step)))
                }
            }
            switch Int.random(in: 0..<6, using: &random) {
            case 0: return ("*", Set(low...high), true)
            case 1:
                let step = Int.random(in: 1...(high - low), using: &random)
                return ("*/\(step)", Set(stride(from: low, through: high, by: step)), true)
            case 2, 3:
                let (text, values) = atom()
                return (text, values, false)
            default:
                var texts: [String] = []
                var values: Set<Int> = []
                for _ in 0..<Int.random(in: 2...4, using: &random) {
                    let (text, set) = atom()
                    texts.append(text)
                    values.formUnion(set)
                }
                return (texts.joined(separator: ","), values, false)
            }
        }
        let hasSeconds = random.chance(0.3)
        let second = hasSeconds ? field(0, 59) : ("0", [0], false)
        let minute = field(0, 59)
        let hour = field(0, 23)
        let dayOfMonth = field(1, 31)
        let month = field(1, 12, names: monthNames, nameBase: 1)
        let dayOfWeek = field(0, 6, names: dayNames)
        var text = [minute.0, hour.0, dayOfMonth.0, month.0, dayOfWeek.0].joined(separator: " ")
        if hasSeconds { text = second.0 + " " + text }
        return CronSpec(
            text: text, hasSeconds: hasSeconds, seconds: second.1, minutes: minute.1, hours: hour.1,
            daysOfMonth: dayOfMonth.1, months: month.1, daysOfWeek: dayOfWeek.1, dayOfMonthStar: dayOfMonth.2,
            dayOfWeekStar: dayOfWeek.2)
    }

    /// Whether the UTC second `t` matches (Vixie rule: the day fields are OR-ed when neither starts with `*`).
    func matches(utcSeconds t: Int64) -> Bool {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secondOfDay = Int(t - days * 86_400)
        let (_, month, day) = CronSpec.civil(fromDays: days)
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
        guard seconds.contains(secondOfDay % 60), minutes.contains(secondOfDay / 60 % 60),
            hours.contains(secondOfDay / 3600), months.contains(month)
        else { return false }
        let dayOfMonthMatches = daysOfMonth.contains(day)
        let dayOfWeekMatches = daysOfWeek.contains(weekday)
        if dayOfMonthStar || dayOfWeekStar { return dayOfMonthMatches && dayOfWeekMatches }
        return dayOfMonthMatches || dayOfWeekMatches
    }

    /// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian; days-to-civil by eras).
    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
