/// Closed-form slot arithmetic for fixed-rate schedules: slots are `anchor + k × interval`, k ≥ 0.
///
/// Every slot is computed from the anchor, never by adding to the previous slot, so no error
/// accumulates however many ticks have passed.
enum FixedRate {
    /// The first slot strictly after `instant`.
    static func slot(after instant: Int64, anchor: Int64, interval: Int64) -> Int64 {
        precondition(interval > 0)
        if instant < anchor { return anchor }
        let k = (instant - anchor) / interval + 1
        return anchor + k * interval
    }

    /// The last slot at or before `instant`, or nil when `instant` is before the anchor.
    static func slot(atOrBefore instant: Int64, anchor: Int64, interval: Int64) -> Int64? {
        precondition(interval > 0)
        if instant < anchor { return nil }
        return anchor + (instant - anchor) / interval * interval
    }
}
