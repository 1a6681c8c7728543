import Foundation
import Testing

@testable import JobRunner

/// Pure schedule transitions with literal timestamps.
@Suite("JobTransition")
struct JobTransitionTests {
    static let second: Int64 = 1_000_000

    func record(
        _ schedule: Schedule,
        misfire: MisfirePolicy = .coalesce,
        occurrence: UnixMicros,
        anchor: UnixMicros? = nil,
        retry: RetryPolicy = .none
    ) -> JobRecord {
        JobRecord(
            id: 1,
            definition: JobDefinition(
                name: "j", action: .handler("tick"), schedule: schedule, retry: retry, misfire: misfire
            ),
            state: .active, stateReason: nil, nextRunAt: occurrence, occurrenceAt: occurrence, attempt: 1,
            triggerAt: nil, runningRunID: 1, runCount: 0, okCount: 0, failedCount: 0, lastOutcome: nil,
            lastStartedAt: nil, lastFinishedAt: nil, createdAt: 0, updatedAt: 0, abandonedStreak: 0,
            anchorAt: anchor ?? occurrence, runAt: nil
        )
    }

    @Test("fixed rate shows no drift over 100,000 ticks, even when every run ends late")
    func fixedRateNoDrift() {
        let anchor = newYear2026
        let interval: Int64 = 333_333
        var job = record(.every(.microseconds(interval)), occurrence: anchor)
        for _ in 0..<100_000 {
            let occurrence = job.occurrenceAt!
            // Each run starts and ends a little late; the next slot must not move.
            let after = JobTransition.afterRun(
                job, occurrence: occurrence, attempt: 1, triggered: false, outcome: .ok,
                finishedAt: occurrence + 1234
            )
            job.occurrenceAt = after.occurrenceAt
            job.nextRunAt = after.nextRunAt
        }
        #expect(job.occurrenceAt == anchor + 100_000 * interval)
        #expect(job.nextRunAt == anchor + 100_000 * interval)
    }

    @Test("fixed delay: the next run is one interval after the last run ended")
    func fixedDelay() {
        let job = record(.every(.seconds(10), fixedDelay: true), occurrence: newYear2026)
        let after = JobTransition.afterRun(
            job, occurrence: newYear2026, attempt: 1, triggered: false, outcome: .ok,
            finishedAt: newYear2026 + 3 * Self.second
        )
        #expect(after.nextRunAt == newYear2026 + 13 * Self.second)
    }

    @Test("an on-time occurrence runs as scheduled under every policy", arguments: MisfirePolicy.allCases)
    func onTime(_ policy: MisfirePolicy) {
        let job = record(.every(.seconds(10)), misfire: policy, occurrence: newYear2026)
        #expect(JobTransition.resolve(job, now: newYear2026 + 500, grace: Self.second) == .run(occurrence: newYear2026))
    }

    @Test("after 2 h of downtime, coalesce runs once for the latest missed slot")
    func coalesceAfterDowntime() {
        let job = record(.every(.seconds(600)), misfire: .coalesce, occurrence: newYear2026)
        let now = newYear2026 + 7200 * Self.second + 5 * Self.second
        #expect(
            JobTransition.resolve(job, now: now, grace: Self.second)
                == .run(occurrence: newYear2026 + 7200 * Self.second))
        // After that run, the next occurrence is in the future: no storm.
        var claimed = job  // the claim records the resolved occurrence on the job
        claimed.occurrenceAt = newYear2026 + 7200 * Self.second
        let after = JobTransition.afterRun(
            claimed, occurrence: newYear2026 + 7200 * Self.second, attempt: 1, triggered: false, outcome: .ok,
            finishedAt: now
        )
        #expect(after.nextRunAt == newYear2026 + 7800 * Self.second)
    }

    @Test("after downtime, skip runs nothing and waits for the next future slot")
    func skipAfterDowntime() {
        let job = record(.every(.seconds(600)), misfire: .skip, occurrence: newYear2026)
        let now = newYear2026 + 7200 * Self.second + 5 * Self.second
        #expect(
            JobTransition.resolve(job, now: now, grace: Self.second) == .skip(next: newYear2026 + 7800 * Self.second))
        // Within the grace of the latest slot, skip runs that slot.
        let close = newYear2026 + 7200 * Self.second + 200_000
        #expect(
            JobTransition.resolve(job, now: close, grace: Self.second)
                == .run(occurrence: newYear2026 + 7200 * Self.second))
    }

    @Test("catch-up runs every missed slot in order, bounded to the most recent catchUpLimit")
    func catchUpIsBounded() {
        let interval = 60 * Self.second
        let few = record(.every(.seconds(60)), misfire: .catchUp, occurrence: newYear2026)
        #expect(
            JobTransition.resolve(few, now: newYear2026 + 5 * interval, grace: Self.second)
                == .run(occurrence: newYear2026))
        let now = newYear2026 + 1000 * interval + 1
        let many = record(.every(.seconds(60)), misfire: .catchUp, occurrence: newYear2026)
        let first = newYear2026 + Int64(1000 - MisfirePolicy.catchUpLimit + 1) * interval
        #expect(JobTransition.resolve(many, now: now, grace: Self.second) == .run(occurrence: first))
    }

    @Test("a clock jump back does not run anything early")
    func clockJumpBack() {
        let job = record(.every(.seconds(60)), misfire: .coalesce, occurrence: newYear2026 + 60 * Self.second)
        // The claim query only offers due jobs; the resolution never moves an occurrence earlier either.
        if case .run(let occurrence) = JobTransition.resolve(
            job, now: newYear2026 + 61 * Self.second, grace: Self.second)
        {
            #expect(occurrence <= newYear2026 + 61 * Self.second)
            #expect(occurrence >= newYear2026 + 60 * Self.second)
        } else {
            Issue.record("an on-time occurrence was skipped")
        }
    }

    @Test("cron coalesce after a month of downtime with a per-second expression is fast and exact")
    func cronCoalesceLongGap() throws {
        let schedule = try Schedule.cron("* * * * * *", timeZone: "UTC")
        let job = record(schedule, misfire: .coalesce, occurrence: newYear2026)
        let now = newYear2026 + 31 * 86_400 * Self.second + 123_456
        #expect(JobTransition.resolve(job, now: now, grace: Self.second) == .run(occurrence: now - 123_456))
    }

    @Test("retries keep the occurrence and back off exponentially; then the schedule moves on")
    func retryTransitions() {
        let job = record(
            .every(.seconds(3600)), occurrence: newYear2026, retry: RetryPolicy(maxRetries: 2, backoff: .seconds(5)))
        let first = JobTransition.afterRun(
            job, occurrence: newYear2026, attempt: 1, triggered: false, outcome: .failed,
            finishedAt: newYear2026 + Self.second
        )
        #expect(first.attempt == 2)
        #expect(first.occurrenceAt == newYear2026)
        #expect(first.nextRunAt == newYear2026 + 6 * Self.second)
        let second = JobTransition.afterRun(
            job, occurrence: newYear2026, attempt: 2, triggered: false, outcome: .timeout,
            finishedAt: newYear2026 + 7 * Self.second
        )
        #expect(second.nextRunAt == newYear2026 + 17 * Self.second)
        let exhausted = JobTransition.afterRun(
            job, occurrence: newYear2026, attempt: 3, triggered: false, outcome: .failed,
            finishedAt: newYear2026 + 20 * Self.second
        )
        #expect(exhausted.attempt == 1)
        #expect(exhausted.nextRunAt == newYear2026 + 3600 * Self.second)
    }

    @Test("a manual trigger never moves the schedule")
    func triggerLeavesScheduleAlone() {
        let job = record(.every(.seconds(3600)), occurrence: newYear2026)
        let after = JobTransition.afterRun(
            job, occurrence: newYear2026, attempt: 1, triggered: true, outcome: .ok, finishedAt: newYear2026 - 100
        )
        #expect(after.nextRunAt == newYear2026)
        #expect(after.occurrenceAt == newYear2026)
    }

    @Test("cron in Europe/Berlin across the spring-forward gap runs once right after the gap")
    func cronDSTThroughSchedule() throws {
        let schedule = try Schedule.cron("30 2 * * *", timeZone: "Europe/Berlin")
        // 2026-03-28T01:30:00Z is 02:30 CET; the next 02:30 local does not exist (clocks jump 02:00 -> 03:00).
        let saturday = try Timestamp.parseRFC3339("2026-03-28T01:30:00Z")
        let next = schedule.slot(after: saturday, anchor: saturday)
        #expect(next == (try Timestamp.parseRFC3339("2026-03-29T01:00:00Z")))
        let monday = schedule.slot(after: next!, anchor: saturday)
        #expect(monday == (try Timestamp.parseRFC3339("2026-03-30T00:30:00Z")))
    }
}
