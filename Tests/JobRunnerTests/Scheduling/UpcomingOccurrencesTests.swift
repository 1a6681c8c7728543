import Foundation
import Testing

@testable import JobRunner

/// `Schedule.upcomingOccurrences` and `JobRecord.upcomingOccurrences`, the math behind `jobctl next`.
@Suite("upcoming occurrences")
struct UpcomingOccurrencesTests {
    func at(_ text: String) throws -> UnixMicros { try Timestamp.parseRFC3339(text) }
    func format(_ times: [UnixMicros]) -> [String] { times.map(Timestamp.formatRFC3339UTC) }

    @Test("cron across the spring-forward gap: a skipped 02:30 fires once, right after the gap")
    func berlinSpringForward() throws {
        let schedule = try Schedule.cron("30 2 * * *", timeZone: "Europe/Berlin")
        let times = schedule.upcomingOccurrences(addedAt: try at("2026-03-27T12:00:00Z"), count: 4)
        #expect(
            format(times) == [
                "2026-03-28T01:30:00Z",  // 02:30 CET
                "2026-03-29T01:00:00Z",  // 02:30 does not exist: 03:00 CEST
                "2026-03-30T00:30:00Z",  // 02:30 CEST
                "2026-03-31T00:30:00Z",
            ])
    }

    @Test("cron across the fall-back overlap: a repeated 01:30 fires once")
    func newYorkFallBack() throws {
        let schedule = try Schedule.cron("30 1 * * *", timeZone: "America/New_York")
        let times = schedule.upcomingOccurrences(addedAt: try at("2026-10-31T12:00:00Z"), count: 3)
        #expect(format(times) == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"])
        let quarterly = try Schedule.cron("*/30 * * * *", timeZone: "America/New_York")
        let around = quarterly.upcomingOccurrences(addedAt: try at("2026-11-01T05:10:00Z"), count: 3)
        #expect(format(around) == ["2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z", "2026-11-01T07:30:00Z"])
    }

    @Test("every: the first run one interval after now, then anchored; an initial delay moves the first")
    func every() throws {
        let now = try at("2026-11-30T10:00:00Z")
        #expect(
            format(Schedule.every(.seconds(90)).upcomingOccurrences(addedAt: now, count: 3)) == [
                "2026-11-30T10:01:30Z", "2026-11-30T10:03:00Z", "2026-11-30T10:04:30Z",
            ])
        #expect(
            format(Schedule.every(.seconds(60)).upcomingOccurrences(addedAt: now, initialDelay: .zero, count: 2)) == [
                "2026-11-30T10:00:00Z", "2026-11-30T10:01:00Z",
            ])
        #expect(Schedule.every(.seconds(60), fixedDelay: true).upcomingOccurrences(addedAt: now, count: 3).count == 3)
    }

    @Test("one-shot schedules have one occurrence; a count of zero none")
    func oneShot() throws {
        let now = try at("2026-11-30T10:00:00Z")
        #expect(
            format(Schedule.after(.seconds(30)).upcomingOccurrences(addedAt: now, count: 5)) == ["2026-11-30T10:00:30Z"]
        )
        #expect(Schedule.at(now + 5).upcomingOccurrences(addedAt: now, count: 5) == [now + 5])
        #expect(Schedule.every(.seconds(1)).upcomingOccurrences(addedAt: now, count: 0).isEmpty)
    }

    @Test("a stored job: its next run, then its schedule's slots; none once stopped")
    func storedJob() async throws {
        let start = try at("2026-03-28T12:00:00Z")
        let clock = ManualJobClock(now: start)
        try await withTemporaryDatabase(clock: clock) { store, _ in
            try await store.add(
                JobDefinition(
                    name: "rotate", action: .handler("tick"),
                    schedule: try Schedule.cron("30 2 * * *", timeZone: "Europe/Berlin")))
            let job = try #require(try await store.job(named: "rotate"))
            #expect(
                format(job.upcomingOccurrences(count: 3)) == [
                    "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z",
                ])
            try await store.pause("rotate")
            #expect(try #require(try await store.job(named: "rotate")).upcomingOccurrences(count: 1).count == 1)
            try await store.stop("rotate")
            #expect(try #require(try await store.job(named: "rotate")).upcomingOccurrences(count: 3).isEmpty)
        }
    }
}
