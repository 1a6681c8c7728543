import TestSupport
import Testing

@testable import JobRunner

@Suite("DurationFormat")
struct DurationFormatTests {
    @Test(
        "parses valid durations",
        arguments: [
            ("250ms", Int64(250_000)),
            ("30s", 30_000_000),
            ("5m", 300_000_000),
            ("1h30m", 5_400_000_000),
            ("1h 30m", 5_400_000_000),
            ("  2d  ", 172_800_000_000),
            ("500us", 500),
            ("500µs", 500),
            ("1.5s", 1_500_000),
            ("0.25h", 900_000_000),
            ("1.000s", 1_000_000),
            ("0.000001s", 1),
            ("1d2h3m4s5ms6us", 93_784_005_006),
            ("0s", 0),
            ("0ms", 0),
            ("106751991d", 9_223_372_022_400_000_000),
        ])
    func parsesValid(text: String, micros: Int64) throws {
        #expect(try DurationFormat.parseMicroseconds(text) == micros)
        #expect(try DurationFormat.parse(text) == .microseconds(micros))
    }

    @Test(
        "rejects invalid durations",
        arguments: [
            "banana", "", "   ", "-5s", "+5s", "5", "0", "5x", "1s1s", "30m1h", "1ms1s",
            "99999999999999d", "99999999999999999999999999s", "1.5us", "0.0000001s", "5 s",
            ".5s", "5.s", "1h-30m", "1hh", "5S", "1e3s", "∞s",
        ])
    func rejectsInvalid(text: String) {
        #expect(throws: ScheduleError.self) { try DurationFormat.parse(text) }
    }

    @Test("error messages name the problem")
    func errorMessages() {
        func message(_ text: String) -> String {
            do {
                _ = try DurationFormat.parse(text)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(
            message("banana")
                == #"invalid duration "banana": expected a number followed by a unit (us, ms, s, m, h, d), e.g. 250ms, 30s, 1h30m"#
        )
        #expect(message("").contains("empty"))
        #expect(message("-5s").contains("negative"))
        #expect(message("5").contains("missing unit"))
        #expect(message("5x").contains(#"unknown unit "x""#))
        #expect(message("1s1s").contains("more than once"))
        #expect(message("30m1h").contains("largest to smallest"))
        #expect(message("99999999999999d").contains("too large"))
        #expect(message("1.5us").contains("finer than one microsecond"))
        #expect(!message(String(repeating: "x", count: 10_000)).contains("\n"))
        #expect(message(String(repeating: "x", count: 10_000)).utf8.count < 300)
    }

    @Test("parsePositive rejects zero")
    func positive() throws {
        #expect(try DurationFormat.parsePositive("1us") == .microseconds(1))
        #expect(throws: ScheduleError("invalid duration \"0s\": must be greater than zero")) {
            try DurationFormat.parsePositive("0s")
        }
        #expect(throws: ScheduleError.self) { try DurationFormat.parsePositive("0h0m") }
    }

    @Test(
        "formats canonically",
        arguments: [
            (Int64(0), "0s"),
            (1, "1us"),
            (250_000, "250ms"),
            (1_500_000, "1s500ms"),
            (5_400_000_000, "1h30m"),
            (172_800_000_000, "2d"),
            (93_784_005_006, "1d2h3m4s5ms6us"),
            (-1_500_000, "-1s500ms"),
            (Int64.max, "106751991d4h54s775ms807us"),
        ])
    func formats(micros: Int64, text: String) {
        #expect(DurationFormat.format(microseconds: micros) == text)
        if micros >= 0 {
            #expect(DurationFormat.format(.microseconds(micros)) == text)
        }
    }

    @Test("format truncates sub-microsecond parts and handles negative Durations")
    func formatEdges() {
        #expect(DurationFormat.format(.nanoseconds(1_500)) == "1us")
        #expect(DurationFormat.format(.nanoseconds(999)) == "0s")
        #expect(DurationFormat.format(.milliseconds(-1_500)) == "-1s500ms")
        #expect(DurationFormat.microseconds(of: .nanoseconds(1_999)) == 1)
        #expect(DurationFormat.microseconds(of: .seconds(Int64.max)) == nil)
    }

    @Test("parse(format(d)) == d for microsecond durations")
    func roundTrip() throws {
        var rng = SeededRandom(seed: 42)
        var samples: [Int64] = [0, 1, 999, 1_000, 59_999_999, 86_400_000_000, Int64.max]
        for _ in 0..<5_000 {
            let magnitude = rng.next() % 5
            let limits: [UInt64] = [1_000, 1_000_000, 1_000_000_000, 1 << 40, UInt64(Int64.max)]
            samples.append(Int64(rng.next() % limits[Int(magnitude)]))
        }
        for micros in samples {
            let d = Duration.microseconds(micros)
            #expect(try DurationFormat.parse(DurationFormat.format(d)) == d)
        }
    }
}
