import ArgumentParser
import Foundation
import Testing

@testable import JobRunner
@testable import jobctl

/// What people read (relative times, spans, table alignment) and the ranges no input may leave.
@Suite("jobctl output and input ranges", .timeLimit(.minutes(2)))
struct OutputAndRangeTests {
    @Test(
        "relative times round to the nearest of their smaller unit and carry over",
        arguments: [
            (Int64(3_599_900_000), "in 1h"), (3_600_000_000, "in 1h"), (59_600_000, "in 1m"),
            (90_000_000, "in 1m 30s"), (5_400_000_000, "in 1h 30m"), (86_399_000_000, "in 1d"),
            (4_000_000, "in 4s"), (-120_000_000, "2m ago"), (251_596_224_000_000_000, "in 7978y 23d"),
            (400_000, "now"), (-400_000, "just now"),
        ])
    func relative(delta: Int64, expected: String) {
        let now: UnixMicros = 1_790_000_000_000_000
        #expect(Output.relative(now + delta, now: now) == expected)
    }

    @Test("relative times never trap, however far apart the instants")
    func relativeExtremes() {
        for (instant, now) in [(Int64.max, Int64.min), (Int64.min, Int64.max), (0, Int64.max), (Int64.max, 0)] {
            #expect(!Output.relative(instant, now: now).isEmpty)
        }
    }

    @Test("spans: milliseconds below a second, then people's units")
    func spans() {
        #expect(Output.preciseSpan(412) == "0.412ms")
        #expect(Output.preciseSpan(218_226_688_118_000) == "6y 336d")
        #expect(Output.preciseSpan(90_000_000) == "1m 30s")
        #expect(Output.preciseSpan(-2_000) == "-2.000ms")
    }

    @Test("counts read as people write them")
    func times() {
        #expect(Output.count(1, "time") == "1 time")
        #expect(Output.count(0, "time") == "0 times")
        #expect(Output.count(30, "time") == "30 times")
    }

    @Test("table cells are aligned by terminal columns: wide characters take two, combining marks none")
    func displayWidth() {
        #expect(Output.displayWidth("abc") == 3)
        #expect(Output.displayWidth("日本語") == 6)
        #expect(Output.displayWidth("🧹 x") == 4)
        #expect(Output.displayWidth("e\u{301}") == 1)
        #expect(Output.displayWidth("ＡＢ") == 4)
    }

    @Test("a cron schedule in UTC says UTC, not GMT; a one-shot does not claim to run 'in 3s' forever")
    func scheduleWording() throws {
        #expect(try Schedule.cron("0 3 * * *", timeZone: "UTC").description == "cron 0 3 * * * (UTC)")
        #expect(Schedule.after(.seconds(3)).description == "once, 3s after it was added")
    }

    /// A random duration text over the whole range the parser accepts, in a random unit.
    static func randomDuration(_ generator: inout some RandomNumberGenerator) -> String {
        let units: [(String, Int64)] = [
            ("us", 1), ("ms", 1000), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000), ("d", 86_400_000_000),
        ]
        let unit = units.randomElement(using: &generator)!
        let magnitude = Int64.random(in: 0...62, using: &generator)
        let value = magnitude == 0 ? 0 : Int64.random(in: 0...(Int64.max >> (62 - magnitude)), using: &generator)
        return "\(value / unit.1 + Int64.random(in: 0...2, using: &generator))\(unit.0)"
    }

    static func randomInstant(_ generator: inout some RandomNumberGenerator) -> String {
        let year = [Int.random(in: 0...9999, using: &generator), 1969, 1970, 9999, 2026].randomElement(
            using: &generator)!
        let month = Int.random(in: 1...12, using: &generator)
        let day = Int.random(in: 1...28, using: &generator)
        let offset = ["Z", "+14:00", "-12:00", "+00:00"].randomElement(using: &generator)!
        return String(format: "%04d-%02d-%02dT23:59:59.999999", year, month, day) + offset
    }

    @Test("no duration, instant or sum of them traps: each is accepted or refused as a usage error")
    func fuzzAddRanges() async throws {
        var generator = SystemRandomNumberGenerator()
        let now: UnixMicros = 1_790_000_000_000_000
        for _ in 0..<600 {
            // Parsing is CPU work on the cooperative pool: let the tests running alongside have it too.
            await Task.yield()
            var arguments = ["add", "fuzz"]
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                arguments += ["--every", Self.randomDuration(&generator)]
                if Bool.random(using: &generator) { arguments += ["--delay", Self.randomDuration(&generator)] }
                if Bool.random(using: &generator) { arguments += ["--jitter", Self.randomDuration(&generator)] }
            case 1: arguments += ["--in", Self.randomDuration(&generator)]
            default: arguments += ["--at", Self.randomInstant(&generator)]
            }
            if Bool.random(using: &generator) { arguments += ["--timeout", Self.randomDuration(&generator)] }
            if Bool.random(using: &generator) { arguments += ["--backoff", Self.randomDuration(&generator)] }
            arguments += ["--retries", "\(Int.random(in: 0...1000, using: &generator))", "--handler", "tick"]
            let add: Add
            do {
                add = try #require(try JobCtl.parseAsRoot(arguments) as? Add)
            } catch {
                #expect(JobCtl.exitCode(for: error).rawValue == 64, "\(arguments): \(error)")
                continue
            }
            // What add computes before writing: the definition, its first run and its retries.
            guard let definition = try? add.definition(now: now) else { continue }
            let first = JobTransition.firstOccurrence(of: definition, now: now)
            if let occurrence = first.occurrence {
                #expect(occurrence <= JobDefinition.latestInstant, "\(arguments)")
                _ = Timestamp.formatRFC3339UTC(JobTransition.dueTime(for: occurrence, jitter: definition.jitter))
                _ = definition.schedule.slot(after: occurrence, anchor: first.anchor ?? occurrence)
            }
            _ = definition.retry.delay(beforeAttempt: definition.retry.maxRetries + 1)
        }
    }

    @Test("a schedule ends at the end of 9999: next lists no later time, and a run there leaves its job done")
    func schedulesEndIn9999() throws {
        let now: UnixMicros = 1_790_000_000_000_000
        let slots = Schedule.every(.seconds(36_500 * 86_400)).upcomingOccurrences(addedAt: now, count: 1000)
        #expect(!slots.isEmpty && slots.count < 1000)
        #expect(slots.allSatisfy { $0 <= JobDefinition.latestInstant })
        for fixedDelay in [false, true] {
            let definition = JobDefinition(
                name: "j", action: .handler("tick"), schedule: .every(.seconds(36_500 * 86_400), fixedDelay: fixedDelay)
            )
            let last = try #require(slots.last)
            let job = JobRecord(
                id: 1, definition: definition, state: .active, stateReason: nil, nextRunAt: last, occurrenceAt: last,
                attempt: 1, triggerAt: nil, runningRunID: 1, runCount: 0, okCount: 0, failedCount: 0, lastOutcome: nil,
                lastStartedAt: nil, lastFinishedAt: nil, createdAt: 0, updatedAt: 0, abandonedStreak: 0,
                anchorAt: slots.first, runAt: nil)
            let after = JobTransition.afterRun(
                job, occurrence: last, attempt: 1, triggered: false, outcome: .ok, finishedAt: last + 1_000_000)
            #expect(after.state == .done, "fixedDelay \(fixedDelay): \(after)")
            #expect(after.nextRunAt == nil)
        }
    }
}
