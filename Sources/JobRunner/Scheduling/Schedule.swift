public import Foundation

/// When a job runs.
///
/// ```swift
/// let prune: Schedule = .every(.seconds(300))                       // fixed rate, anchored: no drift
/// let rotate = try Schedule.cron("0 3 * * *", timeZone: "Europe/Berlin")
/// let retry: Schedule = .after(.seconds(30))                      // once, 30 s after it is added
/// ```
public enum Schedule: Sendable, Hashable {
    /// Once, at an instant.
    case at(UnixMicros)
    /// Once, this long after the job is added.
    case after(Duration)
    /// Periodically. At a fixed rate (the default), slots are anchored to when the job was added,
    /// so there is no drift. With `fixedDelay`, the next run is due `interval` after the last run ended.
    case every(Duration, fixedDelay: Bool = false)
    /// On a cron expression, matched against local wall-clock time in `timeZone`.
    case cron(CronExpression, timeZone: TimeZone)

    /// A cron schedule from its text and an IANA time zone name.
    ///
    /// - Throws: ``ScheduleError`` for an invalid expression, an unknown zone, or an expression that never fires.
    public static func cron(_ expression: String, timeZone: String = "UTC") throws -> Schedule {
        let zone = try TimeZoneName.resolve(timeZone)
        return .cron(try CronExpression(expression), timeZone: zone)
    }

    /// True for the schedules that re-queue themselves.
    public var isPeriodic: Bool {
        switch self {
        case .at, .after: false
        case .every, .cron: true
        }
    }

    /// The readable form shown by `jobctl list`, such as `every 100ms` or `cron 0 3 * * * (Europe/Berlin)`.
    public var description: String {
        switch self {
        case .at(let instant): "once at \(Timestamp.formatRFC3339UTC(instant))"
        case .after(let delay): "once, \(DurationFormat.format(delay)) after it was added"
        case .every(let interval, let fixedDelay):
            "every \(DurationFormat.format(interval))" + (fixedDelay ? " (fixed delay)" : "")
        case .cron(let expression, let zone): "cron \(expression) (\(TimeZoneName.displayName(zone)))"
        }
    }

    var kindName: String {
        switch self {
        case .at, .after: "once"
        case .every: "every"
        case .cron: "cron"
        }
    }

    /// Checks that the schedule can fire; rejects zero or negative intervals.
    func validate(now: UnixMicros) throws {
        switch self {
        case .at: break
        case .after(let delay):
            if delay < .zero { throw ScheduleError("delay must not be negative") }
        case .every(let interval, _):
            if interval.microseconds <= 0 {
                throw ScheduleError("interval must be at least 1us, got \(DurationFormat.format(interval))")
            }
        case .cron(let expression, let zone):
            try expression.validateFires(from: now, in: zone)
        }
    }
}

extension Schedule {
    /// The first slot strictly after `instant` for a periodic schedule (fixed rate or cron),
    /// `anchor` being the fixed-rate origin. Nil for one-shot schedules, a cron that never fires again,
    /// or a slot past the end of 9999 (``JobDefinition/latestInstant``): the schedule ends there.
    func slot(after instant: UnixMicros, anchor: UnixMicros) -> UnixMicros? {
        unboundedSlot(after: instant, anchor: anchor).flatMap { $0 <= JobDefinition.latestInstant ? $0 : nil }
    }

    /// For a fixed-delay schedule, when the run after one that ended at `end` is due: one interval
    /// later. Nil past the end of 9999 (the schedule ends there), and for any other schedule.
    func slot(afterRunEndedAt end: UnixMicros) -> UnixMicros? {
        guard case .every(let interval, true) = self else { return nil }
        let (next, overflow) = end.addingReportingOverflow(interval.microseconds)
        return overflow || next > JobDefinition.latestInstant ? nil : next
    }

    private func unboundedSlot(after instant: UnixMicros, anchor: UnixMicros) -> UnixMicros? {
        switch self {
        case .at, .after:
            return nil
        case .every(let interval, _):
            return OccurrenceMath.nextFixedRateSlot(after: instant, anchor: anchor, interval: interval.microseconds)
        case .cron(let expression, let zone):
            return expression.next(after: instant, in: zone)
        }
    }
}
