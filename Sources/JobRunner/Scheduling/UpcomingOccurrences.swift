/// The next firing times of a schedule or of a stored job, for previews such as `jobctl next`.
///
/// Built on the scheduler's own rules (``JobTransition`` for the first occurrence, the same
/// slot function for the following ones), so a preview never disagrees with what a runner does.
extension Schedule {
    /// The first `count` occurrences of a job with this schedule, were it added at `now`.
    ///
    /// A one-shot schedule has one occurrence. A fixed-delay schedule's later runs depend on when
    /// each run ends: they are shown for runs that take no time (each one interval after the previous).
    /// Jitter is not included. Cron occurrences follow the documented DST rules.
    ///
    /// ```swift
    /// let berlin = try Schedule.cron("30 2 * * *", timeZone: "Europe/Berlin")
    /// let times = berlin.upcomingOccurrences(addedAt: now, count: 5)
    /// ```
    public func upcomingOccurrences(addedAt now: UnixMicros, initialDelay: Duration? = nil, count: Int) -> [UnixMicros]
    {
        let probe = JobDefinition(
            name: "preview", action: .handler("preview"), schedule: self, initialDelay: initialDelay)
        let first = JobTransition.firstOccurrence(of: probe, now: now)
        guard let occurrence = first.occurrence else { return [] }
        return following(occurrence, anchor: first.anchor ?? occurrence, count: count)
    }

    /// `start` and the occurrences after it, `count` in all.
    func following(_ start: UnixMicros, anchor: UnixMicros, count: Int) -> [UnixMicros] {
        guard count > 0 else { return [] }
        var result = [start]
        var current = start
        while result.count < count {
            let next: UnixMicros?
            switch self {
            case .at, .after:
                next = nil
            case .every(_, true):
                next = slot(afterRunEndedAt: current)
            case .every, .cron:
                next = slot(after: current, anchor: anchor)
            }
            guard let next, next > current else { break }
            result.append(next)
            current = next
        }
        return result
    }
}

extension JobRecord {
    /// The job's next `count` runs as its schedule stands: the next run as stored (which includes
    /// jitter, a pending retry or a missed occurrence not yet resolved), then the schedule's following
    /// slots. Empty for a stopped or done job, or one with nothing scheduled. A paused job's times
    /// are those it keeps for when it is resumed.
    public func upcomingOccurrences(count: Int) -> [UnixMicros] {
        guard count > 0, state == .active || state == .paused, let nextRunAt else { return [] }
        if case .every(_, true) = definition.schedule {
            // Fixed delay: each following run is one interval after the one before (for runs that take no time).
            return definition.schedule.following(nextRunAt, anchor: nextRunAt, count: count)
        }
        let slot = occurrenceAt ?? nextRunAt
        let rest = definition.schedule.following(slot, anchor: anchorAt ?? slot, count: count + 1).dropFirst()
        return Array(([nextRunAt] + rest.filter { $0 > nextRunAt }).prefix(count))
    }
}
