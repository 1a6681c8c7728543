import Testing

@testable import JobRunner

/// Unless said otherwise, the jobs here run every 60 s at a fixed rate, slot k at `start + k × 60 s`
/// from slot 1; each is in a queue of its own, so that a claim takes just that job; claims use a
/// misfire grace of 1 s.
extension BackendConformance {
    /// Coalesce: however many slots were missed, one run, for the latest of them; then the next slot.
    static func misfireCoalesce(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("missed", queue: "missed"))
            try await h.add(job("late", queue: "late"))
            let runner = try await h.register()

            h.advance(to: start + s(100))  // slot 1 late by 40 s, slot 2 not due: it runs, late
            let late = try await h.claimOne(runner, queues: ["late"])
            #expect(late.occurrence == start + s(60))

            h.advance(to: start + s(310))  // slots 1 to 5 missed
            let batch = try await h.claim(runner, queues: ["missed"])
            #expect(batch.skipped == 0)
            let claim = try #require(batch.claims.first)
            #expect(batch.claims.count == 1)
            #expect(claim.occurrence == start + s(300), "the latest missed slot")
            #expect(claim.scheduledFor == start + s(300))
            #expect(claim.attempt == 1)
            #expect(try await h.finish(claim, runner: runner))
            let missed = try await h.job("missed")
            #expect(missed.occurrenceAt == start + s(360))
            #expect(missed.nextRunAt == start + s(360))
            #expect(missed.runCount == 1)
            #expect(try await h.claim(runner, queues: ["missed"]).claims.isEmpty, "the missed slots are not run")
        }
    }

    /// Skip: a slot late by more than the grace does not run; the job waits for its next future slot.
    /// Within the grace the latest slot runs; the grace is the claim's.
    static func misfireSkip(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            for name in ["missed", "late", "within", "wide"] {
                try await h.add(job(name, queue: name, misfire: .skip))
            }
            let runner = try await h.register()

            h.advance(to: start + s(100))  // slot 1 late by 40 s
            let late = try await h.claim(runner, queues: ["late"])
            #expect(late.claims.isEmpty)
            #expect(late.skipped == 1)
            #expect(try await h.job("late").occurrenceAt == start + s(120))

            h.advance(to: start + s(300) + 500_000)  // slot 5 late by 0.5 s
            #expect(try await h.claimOne(runner, queues: ["within"]).occurrence == start + s(300))

            h.advance(to: start + s(310))  // slot 5 late by 10 s
            let missed = try await h.claim(runner, queues: ["missed"])
            #expect(missed.claims.isEmpty)
            #expect(missed.skipped == 1)
            #expect(missed.nextDue == start + s(360))
            let skipped = try await h.job("missed")
            #expect(skipped.occurrenceAt == start + s(360))
            #expect(skipped.nextRunAt == start + s(360))
            #expect(skipped.state == .active)
            #expect(skipped.runCount == 0)
            #expect(try await h.backend.history(HistoryQuery(job: "missed")).isEmpty, "a skipped slot leaves no run")
            let wide = try await h.claimOne(runner, queues: ["wide"], grace: .seconds(30))
            #expect(wide.occurrence == start + s(300), "10 s late is within a 30 s grace")

            h.advance(to: start + s(360))
            #expect(try await h.claimOne(runner, queues: ["missed"]).occurrence == start + s(360))
        }
    }

    /// Catch-up: every missed slot runs, oldest first, one run after the other, but only the most
    /// recent `MisfirePolicy.catchUpLimit` of them.
    static func misfireCatchUp(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.add(job("few", queue: "few", misfire: .catchUp))
            try await h.add(job("many", queue: "many", misfire: .catchUp))
            let runner = try await h.register()

            h.advance(to: start + s(310))  // slots 1 to 5 missed
            var occurrences: [UnixMicros] = []
            while let claim = try await h.claim(runner, queues: ["few"]).claims.first {
                occurrences.append(claim.occurrence)
                #expect(try await h.finish(claim, runner: runner))
                if occurrences.count > 10 { break }
            }
            #expect(occurrences == (Int64(1)...5).map { start + s(60) * $0 })
            #expect(try await h.job("few").occurrenceAt == start + s(360))

            let missedSlots: Int64 = 150
            h.advance(to: start + s(60) * missedSlots + s(10))
            let oldestKept = missedSlots - Int64(MisfirePolicy.catchUpLimit) + 1
            let first = try await h.claimOne(runner, queues: ["many"])
            #expect(first.occurrence == start + s(60) * oldestKept, "older slots are dropped")
            #expect(try await h.finish(first, runner: runner))
            let second = try await h.claimOne(runner, queues: ["many"])
            #expect(second.occurrence == start + s(60) * (oldestKept + 1))
        }
    }

    /// Fixed delay has one pending slot: skip moves it to an interval from now, coalesce runs it and
    /// the next is an interval after that run ended. One-shot jobs are never skipped.
    static func misfireFixedDelayAndOneShots(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let fixedDelay = Schedule.every(.seconds(60), fixedDelay: true)
            try await h.add(job("delay-skip", queue: "delay-skip", schedule: fixedDelay, misfire: .skip))
            try await h.add(job("delay-coalesce", queue: "delay-coalesce", schedule: fixedDelay))
            try await h.add(job("at", queue: "at", schedule: .at(start + s(60)), misfire: .skip))
            try await h.add(job("after", queue: "after", schedule: .after(.seconds(60)), misfire: .skip))
            let runner = try await h.register()

            h.advance(to: start + s(310))
            let skipped = try await h.claim(runner, queues: ["delay-skip"])
            #expect(skipped.claims.isEmpty)
            #expect(skipped.skipped == 1)
            #expect(try await h.job("delay-skip").nextRunAt == start + s(370), "an interval from now")

            let delayed = try await h.claimOne(runner, queues: ["delay-coalesce"])
            #expect(delayed.occurrence == start + s(60))
            #expect(try await h.finish(delayed, runner: runner, at: start + s(311)))
            #expect(try await h.job("delay-coalesce").nextRunAt == start + s(371), "an interval after the run ended")

            for name in ["at", "after"] {
                let once = try await h.claimOne(runner, queues: [name])
                #expect(once.occurrence == start + s(60), "a one-shot runs however late")
                #expect(try await h.finish(once, runner: runner))
                let done = try await h.job(name)
                #expect(done.state == .done)
                #expect(done.nextRunAt == nil)
            }
        }
    }
}
