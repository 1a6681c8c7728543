import Foundation
import TestSupport
import Testing

@testable import JobRunner

@Suite("Timestamp")
struct TimestampTests {
    @Test(
        "parses RFC 3339",
        arguments: [
            ("2026-11-25T10:00:00Z", Int64(1_795_600_800_000_000)),
            ("2026-11-25T10:00:00.123456Z", 1_795_600_800_123_456),
            ("2026-11-25T10:00:00.5Z", 1_795_600_800_500_000),
            ("2026-11-25T10:00:00.123456789Z", 1_795_600_800_123_456),
            ("2026-11-25T11:00:00+01:00", 1_795_600_800_000_000),
            ("2026-11-25T05:30:00-04:30", 1_795_600_800_000_000),
            ("2026-11-25t10:00:00z", 1_795_600_800_000_000),
            ("2026-11-25 10:00:00Z", 1_795_600_800_000_000),
            ("2026-11-25T10:00:00-00:00", 1_795_600_800_000_000),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999999Z", -1),
            ("2000-02-29T00:00:00Z", 951_782_400_000_000),
            ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
            ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ])
    func parses(text: String, micros: Int64) throws {
        #expect(try Timestamp.parseRFC3339(text) == micros)
    }

    @Test(
        "rejects malformed timestamps",
        arguments: [
            "", "2026-11-25", "2026-11-25T10:00:00", "2026-11-25T10:00Z", "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-25T24:00:00Z",
            "2026-11-25T10:60:00Z", "2026-11-25T10:00:60Z", "2026-11-25T10:00:00.Z",
            "2026-11-25T10:00:00+1:00", "2026-11-25T10:00:00+24:00", "2026-11-25T10:00:00Zjunk",
            "26-11-25T10:00:00Z", "2026-11-25X10:00:00Z", "banana",
        ])
    func rejects(text: String) {
        #expect(throws: ScheduleError.self) { try Timestamp.parseRFC3339(text) }
    }

    @Test("formats UTC, omitting a zero fraction")
    func formats() {
        #expect(Timestamp.formatRFC3339UTC(1_795_600_800_000_000) == "2026-11-25T10:00:00Z")
        #expect(Timestamp.formatRFC3339UTC(1_795_600_800_123_456) == "2026-11-25T10:00:00.123456Z")
        #expect(Timestamp.formatRFC3339UTC(1_795_600_800_500_000) == "2026-11-25T10:00:00.500000Z")
        #expect(Timestamp.formatRFC3339UTC(-1) == "1969-12-31T23:59:59.999999Z")
        #expect(Timestamp.formatRFC3339UTC(0) == "1970-01-01T00:00:00Z")
    }

    @Test("round trips random instants in years 0001-9999")
    func roundTrip() throws {
        var rng = SeededRandom(seed: 7)
        let low: Int64 = -62_135_596_800_000_000
        let high: Int64 = 253_402_300_799_999_999
        for _ in 0..<20_000 {
            let micros = low + Int64(rng.next() % UInt64(high - low))
            let text = Timestamp.formatRFC3339UTC(micros)
            #expect(try Timestamp.parseRFC3339(text) == micros)
        }
    }

    @Test("hand-written calendar agrees with Foundation")
    func calendarAgreesWithFoundation() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var rng = SeededRandom(seed: 99)
        for _ in 0..<2_000 {
            let days = Int64(rng.next() % 200_000) - 100_000  // ~1696 … ~2243
            let date = Date(timeIntervalSince1970: Double(days * 86_400))
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: date)
            let civil = Timestamp.civilFromDays(days)
            #expect(Int(civil.year) == parts.year)
            #expect(civil.month == parts.month)
            #expect(civil.day == parts.day)
            #expect(Timestamp.weekday(days: days) + 1 == parts.weekday)
            #expect(Timestamp.daysFromCivil(year: civil.year, month: civil.month, day: civil.day) == days)
        }
    }
}

@Suite("TimeZoneName")
struct TimeZoneNameTests {
    @Test("resolves known names")
    func resolves() throws {
        #expect(try TimeZoneName.resolve("UTC").secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 0)
        #expect(try TimeZoneName.resolve("utc").secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 0)
        #expect(try TimeZoneName.resolve("Europe/Berlin").identifier == "Europe/Berlin")
        #expect(try TimeZoneName.resolve("America/New_York").identifier == "America/New_York")
        #expect(try TimeZoneName.resolve("local") == TimeZone.current)
    }

    @Test("rejects unknown names")
    func rejects() {
        #expect(
            throws: ScheduleError(
                "unknown time zone \"Mars/Olympus\" (expected an IANA name such as Europe/Berlin, or UTC or local)")
        ) {
            try TimeZoneName.resolve("Mars/Olympus")
        }
        for name in ["", " ", "Europe/Berlin ", "../../etc/passwd", "Not a zone", String(repeating: "A", count: 5_000)]
        {
            #expect(throws: ScheduleError.self) { try TimeZoneName.resolve(name) }
        }
    }
}
