import Foundation
import TestSupport
import Testing

@testable import JobRunner

@Suite("OccurrenceMath")
struct OccurrenceMathTests {
    /// Brute force: chain `next` from `first` while <= now.
    func bruteForceSlots(now: Int64, first: Int64, next: (Int64) -> Int64?) -> [Int64] {
        var slots = [first]
        while let n = next(slots[slots.count - 1]), n <= now { slots.append(n) }
        return slots
    }

    @Test("latestSlot and recentSlots match brute force on small cases")
    func smallCases() throws {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<300 {
            // Irregular slot set: a random subset of a small grid, via a sorted table.
            let grid = Int64(1 + rng.next() % 50)
            var table: [Int64] = []
            var x = Int64(rng.next() % 100)
            for _ in 0..<Int(1 + rng.next() % 60) {
                table.append(x)
                x += grid * Int64(1 + rng.next() % 4)
            }
            let first = table[Int(rng.next() % UInt64(table.count))]
            let next: (Int64) -> Int64? = { t in table.first { $0 > t } }
            let now = first + Int64(rng.next() % UInt64(x - first + 100))
            let slots = bruteForceSlots(now: now, first: first, next: next)
            #expect(OccurrenceMath.latestSlot(atOrBefore: now, startingAt: first, next: next) == slots.last)
            let limit = Int(rng.next() % 6)
            #expect(
                OccurrenceMath.recentSlots(atOrBefore: now, startingAt: first, limit: limit, next: next)
                    == Array(slots.suffix(limit)))
        }
    }

    @Test("first slot off the cron grid, now equal to first, limit 0")
    func edges() throws {
        let cron = try CronExpression("0 * * * *")
        let utc = try SchedulingFixtures.zone("UTC")
        let next: (Int64) -> Int64? = { cron.next(after: $0, in: utc) }
        let first = try SchedulingFixtures.instant("2026-01-01T00:07:00Z")
        #expect(OccurrenceMath.latestSlot(atOrBefore: first, startingAt: first, next: next) == first)
        #expect(
            OccurrenceMath.latestSlot(
                atOrBefore: try SchedulingFixtures.instant("2026-01-01T00:59:59Z"), startingAt: first, next: next)
                == first)
        #expect(
            OccurrenceMath.latestSlot(
                atOrBefore: try SchedulingFixtures.instant("2026-01-01T01:00:00Z"), startingAt: first, next: next)
                == (try SchedulingFixtures.instant("2026-01-01T01:00:00Z")))
        #expect(
            OccurrenceMath.recentSlots(
                atOrBefore: try SchedulingFixtures.instant("2026-01-01T03:30:00Z"), startingAt: first, limit: 10,
                next: next)
                == [
                    first, try SchedulingFixtures.instant("2026-01-01T01:00:00Z"),
                    try SchedulingFixtures.instant("2026-01-01T02:00:00Z"),
                    try SchedulingFixtures.instant("2026-01-01T03:00:00Z"),
                ])
        #expect(OccurrenceMath.recentSlots(atOrBefore: first, startingAt: first, limit: 0, next: next) == [])
    }

    @Test("huge gaps are fast: per-second cron after a month of downtime")
    func hugeGaps() throws {
        let everySecond = try CronExpression("* * * * * *")
        let januaryOnly = try CronExpression("* * * * JAN *")
        let berlin = try SchedulingFixtures.zone("Europe/Berlin")
        let first = try SchedulingFixtures.instant("2026-01-01T00:00:00Z")
        let now = try SchedulingFixtures.instant("2026-02-01T12:34:56.789Z")
        var calls = 0
        let clock = ContinuousClock()
        var latest: Int64 = 0
        var recent: [Int64] = []
        var sparse: Int64 = 0
        let elapsed = clock.measure {
            for _ in 0..<100 {
                latest = OccurrenceMath.latestSlot(atOrBefore: now, startingAt: first) {
                    calls += 1
                    return everySecond.next(after: $0, in: berlin)
                }
                recent = OccurrenceMath.recentSlots(atOrBefore: now, startingAt: first, limit: 3) {
                    everySecond.next(after: $0, in: berlin)
                }
                // Millions of slots in January, then nothing for eleven months.
                sparse = OccurrenceMath.latestSlot(
                    atOrBefore: try! SchedulingFixtures.instant("2026-12-15T00:00:00Z"), startingAt: first
                ) { januaryOnly.next(after: $0, in: berlin) }
            }
        }
        #expect(latest == (try SchedulingFixtures.instant("2026-02-01T12:34:56Z")))
        #expect(
            recent == [
                try SchedulingFixtures.instant("2026-02-01T12:34:54Z"),
                try SchedulingFixtures.instant("2026-02-01T12:34:55Z"),
                try SchedulingFixtures.instant("2026-02-01T12:34:56Z"),
            ])
        // Last second of January in Berlin (UTC+1).
        #expect(sparse == (try SchedulingFixtures.instant("2026-01-31T22:59:59Z")))
        #expect(calls / 100 < 200, "latestSlot used \(calls / 100) calls")
        print(
            "OccurrenceMath: 100 x (latestSlot + recentSlots(3) + sparse latestSlot) over a month gap: \(elapsed); \(calls / 100) next() calls per latestSlot"
        )
    }

    @Test("fixed-rate closed forms", arguments: [Int64(100_000), 333_333, 1, 86_400_000_000])
    func fixedRate(interval: Int64) throws {
        let anchor = try SchedulingFixtures.instant("2026-01-01T00:00:00.123456Z")
        // Chain 100,000 successive next slots: no drift.
        var slot = anchor
        for _ in 0..<100_000 {
            slot = try #require(OccurrenceMath.nextFixedRateSlot(after: slot, anchor: anchor, interval: interval))
        }
        #expect(slot == anchor + 100_000 * interval)
        #expect(OccurrenceMath.fixedRateSlot(index: 100_000, anchor: anchor, interval: interval) == slot)
        #expect(OccurrenceMath.nextFixedRateSlot(after: anchor - 5, anchor: anchor, interval: interval) == anchor)
        #expect(OccurrenceMath.latestFixedRateSlot(atOrBefore: anchor - 1, anchor: anchor, interval: interval) == nil)
        #expect(
            OccurrenceMath.latestFixedRateSlot(atOrBefore: slot + interval - 1, anchor: anchor, interval: interval)
                == slot)
        #expect(OccurrenceMath.fixedRateSlotCount(atOrBefore: slot, anchor: anchor, interval: interval) == 100_001)
        #expect(
            OccurrenceMath.recentFixedRateSlots(atOrBefore: slot, anchor: anchor, interval: interval, limit: 2)
                == [slot - interval, slot])
        // The generic algorithm agrees with the closed form.
        let generic = OccurrenceMath.latestSlot(atOrBefore: slot + interval / 2, startingAt: anchor) {
            OccurrenceMath.nextFixedRateSlot(after: $0, anchor: anchor, interval: interval)
        }
        #expect(generic == slot)
    }

    @Test("fixed-rate overflow is reported, not trapped")
    func fixedRateOverflow() {
        #expect(OccurrenceMath.fixedRateSlot(index: Int64.max, anchor: 0, interval: 2) == nil)
        #expect(OccurrenceMath.nextFixedRateSlot(after: Int64.max - 1, anchor: 0, interval: 1_000_000) == nil)
        #expect(OccurrenceMath.latestFixedRateSlot(atOrBefore: Int64.max, anchor: Int64.min, interval: 1) == Int64.max)
        #expect(
            OccurrenceMath.latestFixedRateSlot(atOrBefore: Int64.max, anchor: Int64.min, interval: 2) == Int64.max - 1)
        #expect(OccurrenceMath.fixedRateSlotCount(atOrBefore: Int64.max, anchor: Int64.min, interval: 1) == Int64.max)
        #expect(
            OccurrenceMath.recentFixedRateSlots(atOrBefore: Int64.max, anchor: Int64.min, interval: 1, limit: 2)
                == [Int64.max - 1, Int64.max])
    }
}
