/// Pure slot arithmetic used for misfire handling. Instants are `Int64` Unix microseconds.
///
/// The generic functions work with any schedule described by a `next` function, where
/// `next(x)` returns the smallest slot strictly greater than `x` (or nil when there is none).
/// The slots of a job are `first`, `next(first)`, `next(next(first))`, …; `next` must be
/// consistent for *arbitrary* `x >= first` (not only for slots), which holds for
/// ``CronExpression/next(after:in:)`` and for fixed-rate schedules. None of the functions
/// iterate over every missed slot: they use O(log(now - first)) calls to `next`.
///
/// The fixed-rate functions are closed forms over `anchor + k * interval`, so they never
/// drift no matter how many slots are chained.
package enum OccurrenceMath {
    /// The last slot `s` with `first <= s <= now`.
    ///
    /// Searches backwards from `now` with doubling windows (1µs, 2µs, 4µs, …) until a window
    /// `[now - w, now]` contains a slot, then binary-searches inside it. Cost is about
    /// `2 * log2(now - latestSlot)` calls to `next`, even with millions of missed slots.
    ///
    /// - Precondition: `first <= now`.
    package static func latestSlot(
        atOrBefore now: Int64, startingAt first: Int64, next: (Int64) -> Int64?
    ) -> Int64 {
        precondition(first <= now, "latestSlot requires first <= now")
        if first == now { return first }
        // Smallest slot >= p (p > first), provided it is <= now.
        func slotAtOrAfter(_ p: Int64) -> Int64? {
            guard let s = next(p - 1), s <= now else { return nil }
            return s
        }
        if slotAtOrAfter(now) != nil { return now }
        // Invariant: a slot exists in [low, now]; none exists in [high, now].
        var low = first
        var high = now
        var window: Int64 = 1
        let span = now.subtractingReportingOverflow(first)
        while true {
            if span.overflow == false, window >= span.partialValue { break }  // reached `first`
            let probe = now - window
            if probe <= first { break }
            if slotAtOrAfter(probe) != nil {
                low = probe
                break
            }
            high = probe
            let (doubled, overflow) = window.multipliedReportingOverflow(by: 2)
            if overflow { break }
            window = doubled
        }
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if slotAtOrAfter(mid) != nil { low = mid } else { high = mid }
        }
        // No slot in [low + 1, now] but one in [low, now]: it is `low` itself.
        return low
    }

    /// The last `limit` slots in `[first, now]`, in ascending order (fewer if there are
    /// fewer slots; empty when `limit <= 0`). Cost is about `limit * 2 * log2(gap)` calls.
    ///
    /// - Precondition: `first <= now`.
    package static func recentSlots(
        atOrBefore now: Int64, startingAt first: Int64, limit: Int, next: (Int64) -> Int64?
    ) -> [Int64] {
        precondition(first <= now, "recentSlots requires first <= now")
        guard limit > 0 else { return [] }
        var result: [Int64] = []
        var bound = now
        while result.count < limit {
            let slot = latestSlot(atOrBefore: bound, startingAt: first, next: next)
            result.append(slot)
            if slot == first { break }
            bound = slot - 1
        }
        return result.reversed()
    }

    // MARK: - Fixed rate (closed form)

    /// Slot number `index` of a fixed-rate schedule: `anchor + index * interval`, or nil on
    /// overflow. `interval` is in microseconds and must be positive.
    package static func fixedRateSlot(index: Int64, anchor: Int64, interval: Int64) -> Int64? {
        precondition(interval > 0, "interval must be positive")
        let (product, o1) = index.multipliedReportingOverflow(by: interval)
        let (slot, o2) = anchor.addingReportingOverflow(product)
        return o1 || o2 ? nil : slot
    }

    /// The first fixed-rate slot strictly after `instant` (the anchor itself when
    /// `instant < anchor`), or nil on overflow.
    package static func nextFixedRateSlot(after instant: Int64, anchor: Int64, interval: Int64) -> Int64? {
        precondition(interval > 0, "interval must be positive")
        guard let latest = latestFixedRateSlot(atOrBefore: instant, anchor: anchor, interval: interval) else {
            return anchor
        }
        let (slot, overflow) = latest.addingReportingOverflow(interval)
        return overflow ? nil : slot
    }

    /// The last fixed-rate slot at or before `now`, or nil when `now < anchor`.
    /// Exact for any pair of `Int64` values (the difference is computed in `UInt64`).
    package static func latestFixedRateSlot(atOrBefore now: Int64, anchor: Int64, interval: Int64) -> Int64? {
        precondition(interval > 0, "interval must be positive")
        if now < anchor { return nil }
        let elapsed = UInt64(bitPattern: now &- anchor)
        let step = UInt64(interval)
        let offset = elapsed / step * step  // <= elapsed, so anchor + offset <= now fits
        return Int64(bitPattern: UInt64(bitPattern: anchor) &+ offset)
    }

    /// Number of fixed-rate slots in `[anchor, now]` (0 when `now < anchor`; clamped to
    /// `Int64.max`).
    package static func fixedRateSlotCount(atOrBefore now: Int64, anchor: Int64, interval: Int64) -> Int64 {
        precondition(interval > 0, "interval must be positive")
        if now < anchor { return 0 }
        let intervals = UInt64(bitPattern: now &- anchor) / UInt64(interval)
        return intervals >= UInt64(Int64.max) ? Int64.max : Int64(intervals) + 1
    }

    /// The last `limit` fixed-rate slots in `[anchor, now]`, ascending.
    package static func recentFixedRateSlots(
        atOrBefore now: Int64, anchor: Int64, interval: Int64, limit: Int
    ) -> [Int64] {
        guard limit > 0, let latest = latestFixedRateSlot(atOrBefore: now, anchor: anchor, interval: interval)
        else { return [] }
        let available = fixedRateSlotCount(atOrBefore: now, anchor: anchor, interval: interval)
        let count = Int(min(Int64(limit), available))
        // Each slot is >= anchor, so stepping back from `latest` cannot overflow.
        return (0..<count).reversed().map { latest - Int64($0) * interval }
    }
}
