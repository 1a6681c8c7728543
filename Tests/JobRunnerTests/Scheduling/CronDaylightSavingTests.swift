import Foundation
import TestSupport
import Testing

@testable import JobRunner

@Suite("CronExpression.next across DST transitions")
struct CronDaylightSavingTests {
    // Europe/Berlin 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00Z (02:00-02:59 local skipped).
    @Test("Berlin spring forward")
    func berlinSpring() throws {
        #expect(
            try SchedulingFixtures.firings("30 2 * * *", after: "2026-03-28T12:00:00Z", in: "Europe/Berlin", count: 2)
                == ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
        #expect(
            try SchedulingFixtures.firings("0 * * * *", after: "2026-03-28T23:30:00Z", in: "Europe/Berlin", count: 3)
                == ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"])
        // 02:00, 02:15, 02:30, 02:45 and 03:00 all collapse into one firing at 01:00Z.
        #expect(
            try SchedulingFixtures.firings("*/15 * * * *", after: "2026-03-29T00:30:00Z", in: "Europe/Berlin", count: 3)
                == ["2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"])
        #expect(
            try SchedulingFixtures.firings("30 2 * * *", after: "2026-03-29T00:59:59.5Z", in: "Europe/Berlin", count: 1)
                == ["2026-03-29T01:00:00Z"])
    }

    // Europe/Berlin 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00Z (02:00-02:59 local twice).
    @Test("Berlin fall back")
    func berlinFall() throws {
        #expect(
            try SchedulingFixtures.firings("30 2 * * *", after: "2026-10-24T12:00:00Z", in: "Europe/Berlin", count: 2)
                == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        #expect(
            try SchedulingFixtures.firings("0 * * * *", after: "2026-10-24T23:30:00Z", in: "Europe/Berlin", count: 3)
                == ["2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z"])
        #expect(
            try SchedulingFixtures.firings("*/15 * * * *", after: "2026-10-25T00:30:00Z", in: "Europe/Berlin", count: 3)
                == ["2026-10-25T00:45:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:15:00Z"])
        // Asked from inside the repeated hour: nothing more until it ends.
        #expect(
            try SchedulingFixtures.firings("*/15 * * * *", after: "2026-10-25T01:10:00Z", in: "Europe/Berlin", count: 1)
                == ["2026-10-25T02:00:00Z"])
        #expect(
            try SchedulingFixtures.firings("30 2 * * *", after: "2026-10-25T01:10:00Z", in: "Europe/Berlin", count: 1)
                == ["2026-10-26T01:30:00Z"])
    }

    // America/New_York 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z.
    @Test("New York spring forward")
    func newYorkSpring() throws {
        #expect(
            try SchedulingFixtures.firings(
                "30 2 * * *", after: "2026-03-07T12:00:00Z", in: "America/New_York", count: 2)
                == ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"])
        #expect(
            try SchedulingFixtures.firings("0 * * * *", after: "2026-03-08T05:30:00Z", in: "America/New_York", count: 3)
                == ["2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"])
        #expect(
            try SchedulingFixtures.firings(
                "*/15 * * * *", after: "2026-03-08T06:40:00Z", in: "America/New_York", count: 3)
                == ["2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"])
    }

    // America/New_York 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z (01:00-01:59 local twice).
    @Test("New York fall back")
    func newYorkFall() throws {
        #expect(
            try SchedulingFixtures.firings(
                "30 1 * * *", after: "2026-10-31T12:00:00Z", in: "America/New_York", count: 2)
                == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
        #expect(
            try SchedulingFixtures.firings(
                "*/15 * * * *", after: "2026-11-01T04:50:00Z", in: "America/New_York", count: 6)
                == [
                    "2026-11-01T05:00:00Z", "2026-11-01T05:15:00Z", "2026-11-01T05:30:00Z",
                    "2026-11-01T05:45:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:15:00Z",
                ])
        #expect(
            try SchedulingFixtures.firings("0 * * * *", after: "2026-11-01T04:30:00Z", in: "America/New_York", count: 3)
                == ["2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"])
        #expect(
            try SchedulingFixtures.firings(
                "30 1 * * *", after: "2026-11-01T06:10:00Z", in: "America/New_York", count: 1)
                == ["2026-11-02T06:30:00Z"])
        #expect(
            try SchedulingFixtures.firings(
                "*/15 * * * *", after: "2026-11-01T06:10:00Z", in: "America/New_York", count: 1)
                == ["2026-11-01T07:00:00Z"])
        // Per-second schedule asked from inside the repeat: resumes when the repeat ends.
        #expect(
            try SchedulingFixtures.firings(
                "* * * * * *", after: "2026-11-01T06:00:00Z", in: "America/New_York", count: 1)
                == ["2026-11-01T07:00:00Z"])
    }

    @Test("fixed-offset and half-hour zones")
    func fixedZones() throws {
        #expect(
            try SchedulingFixtures.firings("0 9 * * *", after: "2026-06-01T00:00:00Z", in: "Asia/Kolkata", count: 2)
                == ["2026-06-01T03:30:00Z", "2026-06-02T03:30:00Z"])
        #expect(
            try SchedulingFixtures.firings("@daily", after: "2026-06-01T00:00:00Z", in: "Asia/Tokyo", count: 1)
                == ["2026-06-01T15:00:00Z"])
    }

    @Test("validateFires reports when nothing fires within the horizon")
    func validateFiresHorizon() throws {
        let cron = try CronExpression("@hourly")
        let utc = try SchedulingFixtures.zone("UTC")
        try cron.validateFires(from: try SchedulingFixtures.instant("2026-01-01T00:00:00Z"), in: utc)
        #expect(cron.next(after: 9_000_000_000_000_000_000, in: utc) == nil)
        #expect {
            try cron.validateFires(from: 9_000_000_000_000_000_000, in: utc)
        } throws: { error in
            (error as? ScheduleError)?.message.hasPrefix(
                "invalid cron expression \"@hourly\": it never fires within 40 years after") == true
        }
    }

    @Test("agrees with a brute-force model of the DST rules")
    func bruteForceDST() throws {
        let cases: [(String, String)] = [
            ("Europe/Berlin", "2026-03-28T20:00:00Z"), ("Europe/Berlin", "2026-10-24T20:00:00Z"),
            ("America/New_York", "2026-03-08T00:00:00Z"), ("America/New_York", "2026-10-31T23:00:00Z"),
            ("Australia/Lord_Howe", "2026-04-04T10:00:00Z"), ("Australia/Lord_Howe", "2026-10-03T10:00:00Z"),
        ]
        let expressions = [
            "* * * * *", "*/15 * * * *", "0 * * * *", "30 2 * * *", "30 1 * * *", "0,30 1-3 * * *",
            "45 2 * * *", "5 3 * * *", "59 1 * * *", "0 2 * * *", "*/7 0-4 * * *", "0 0 * * *",
        ]
        for (zoneName, startText) in cases {
            let tz = try SchedulingFixtures.zone(zoneName)
            let start = try SchedulingFixtures.instant(startText) / 1_000_000
            let end = start + 12 * 3_600
            func wall(_ u: Int64) -> Int64 { u + Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(u)))) }
            for text in expressions {
                let cron = try CronExpression(text)
                // Model: walk UTC minutes; a new wall minute fires if it matches; a jump
                // forward fires once if any skipped wall minute (or the landing one) matches;
                // wall minutes already seen (a fall-back repeat) never fire again.
                var expected: [Int64] = []
                var highestWall = wall(start)
                var u = start + 60
                while u <= end {
                    let w = wall(u)
                    let previous = wall(u - 60)
                    if w <= highestWall {
                        // repeated wall time
                    } else if w > previous + 60 {
                        var any = cron.matches(wall: w)
                        var skipped = previous + 60
                        while !any && skipped < w {
                            any = cron.matches(wall: skipped)
                            skipped += 60
                        }
                        if any { expected.append(u) }
                    } else if cron.matches(wall: w) {
                        expected.append(u)
                    }
                    highestWall = max(highestWall, w)
                    u += 60
                }
                var actual: [Int64] = []
                var t = start * 1_000_000
                while let n = cron.next(after: t, in: tz), n <= end * 1_000_000 {
                    actual.append(n / 1_000_000)
                    t = n
                }
                #expect(actual == expected, "\(text) in \(zoneName) from \(startText)")
            }
        }
    }

    /// Long chains of next() land where the calendar says; the time per call is printed, for
    /// reading only (speed is `jobctl bench`'s and the fuzzing scenarios' business, not a unit test's).
    @Test("next() in long chains")
    func bulkSpeed() throws {
        let clock = ContinuousClock()
        let berlin = try SchedulingFixtures.zone("Europe/Berlin")
        let utc = try SchedulingFixtures.zone("UTC")
        let expressions = try ["*/15 * * * *", "0 9 * * MON-FRI", "0 0 1 * *", "*/10 * * * * *"].map {
            try CronExpression($0)
        }
        var results: [String] = []
        for tz in [utc, berlin] {
            for cron in expressions {
                var t = try SchedulingFixtures.instant("2026-01-01T00:00:00Z")
                var count = 0
                let elapsed = clock.measure {
                    for _ in 0..<25_000 {
                        guard let n = cron.next(after: t, in: tz) else { break }
                        t = n
                        count += 1
                    }
                }
                #expect(count == 25_000)
                results.append("\(cron) in \(tz.identifier): \(elapsed / 25_000) per call")
            }
        }
        // 100,000 chained calls of a common expression in a DST zone.
        let quarter = try CronExpression("*/15 * * * *")
        var t = try SchedulingFixtures.instant("2026-01-01T00:00:00Z")
        let elapsed = clock.measure {
            for _ in 0..<100_000 {
                t = quarter.next(after: t, in: berlin) ?? t
            }
        }
        // 100,000 quarter hours = 1041d16h, plus 3h for the three skipped fall-back repeats.
        #expect(t == (try SchedulingFixtures.instant("2028-11-07T19:00:00Z")))
        results.append("100,000 x */15 in Europe/Berlin: \(elapsed)")
        print(results.joined(separator: "\n"))
    }

    @Test("random expressions and zones never crash and always move forward")
    func randomProperty() throws {
        var rng = SeededRandom(seed: 77)
        let zones = try ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"].map(
            SchedulingFixtures.zone)
        let alphabet = Array("0123456789*/-,@ abcdefghijklmnopqrstuvwxyzMONSUNJANFEB?#L\t")
        let clock = ContinuousClock()
        var parsed = 0
        var rejected = 0
        let elapsed = try clock.measure {
            for round in 0..<20_000 {
                let text: String
                if round % 2 == 0 {
                    text = SchedulingFixtures.randomExpression(&rng, sixFields: rng.next() % 3 == 0)
                } else {
                    let length = Int(rng.next() % 40)
                    text = String((0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
                }
                guard let cron = try? CronExpression(text) else {
                    rejected += 1
                    continue
                }
                parsed += 1
                let tz = zones[Int(rng.next() % UInt64(zones.count))]
                let t = try SchedulingFixtures.instant("2026-01-01T00:00:00Z") + Int64(rng.next() % 40_000_000_000_000)
                if let n = cron.next(after: t, in: tz) {
                    #expect(n > t, "\(text)")
                    #expect(n % 1_000_000 == 0)
                    if let m = cron.next(after: n, in: tz) { #expect(m > n, "\(text)") }
                }
            }
        }
        #expect(parsed > 5_000)
        #expect(rejected > 5_000)
        print("random property: \(parsed) parsed, \(rejected) rejected in \(elapsed)")
    }
}
