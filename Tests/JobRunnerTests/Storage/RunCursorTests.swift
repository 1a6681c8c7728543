import Foundation
import Testing

@testable import JobRunner

/// `JobStore.runCursor` and `finishedRuns(after:)`, behind `jobctl history --follow`: every run is
/// reported once, when it has finished, whatever order runs finish in.
@Suite("run cursor")
struct RunCursorTests {
    func finish(_ store: JobStore, _ claim: Claim, runner: Int64, at instant: UnixMicros) async throws {
        let recorded = try await store.finish([
            FinishedRun(claim, runnerID: runner, outcome: .ok, finishedAt: instant)
        ])
        #expect(recorded == [true])
    }

    @Test("runs in flight at the start, new runs, and runs finishing out of order are each reported once")
    func eachRunOnce() async throws {
        let clock = ManualJobClock(now: newYear2026)
        try await withTemporaryDatabase(clock: clock) { (store: JobStore, _: String) async throws in
            for name in ["a", "b"] {
                try await store.add(
                    JobDefinition(
                        name: name, action: .handler("tick"), schedule: .every(.seconds(60)), initialDelay: .zero))
            }
            let runner = try await store.registerRunner(
                host: "test-host", pid: 1, lease: .seconds(3600), queues: nil, concurrency: 4, now: clock.now())
            let scope = ClaimScope(queues: nil, handlers: ["tick"], slots: 4, misfireGrace: 1_000_000)
            let first = try await store.claim(runnerID: runner, now: clock.now(), scope: scope).claims
            #expect(first.count == 2)
            let a = try #require(first.first { $0.jobName == "a" })
            let b = try #require(first.first { $0.jobName == "b" })

            var cursor = try await store.runCursor()
            #expect(cursor.pending == [a.runID, b.runID])
            let onlyA = try await store.runCursor(job: "a")
            #expect(onlyA.pending == [a.runID])
            var (runs, next) = try await store.finishedRuns(after: cursor)
            #expect(runs.isEmpty)
            cursor = next

            try await finish(store, b, runner: runner, at: clock.now() + 1)
            (runs, next) = try await store.finishedRuns(after: cursor)
            #expect(runs.map(\.id) == [b.runID])
            cursor = next

            // b runs again (a newer run) and finishes before a, which has been in flight all along.
            clock.advance(by: .seconds(60))
            let again = try #require(
                try await store.claim(runnerID: runner, now: clock.now(), scope: scope).claims.first)
            #expect(again.jobName == "b")
            try await finish(store, again, runner: runner, at: clock.now() + 1)
            try await finish(store, a, runner: runner, at: clock.now() + 2)
            (runs, next) = try await store.finishedRuns(after: cursor)
            #expect(runs.map(\.id) == [again.runID, a.runID])
            cursor = next
            #expect(cursor.pending.isEmpty)
            (runs, _) = try await store.finishedRuns(after: cursor)
            #expect(runs.isEmpty)

            // Following one job from the start sees only its runs.
            (runs, _) = try await store.finishedRuns(after: onlyA)
            #expect(runs.map(\.id) == [a.runID])
            // A small page reads the rest next time.
            var paged = RunCursor(lastID: 0, pending: [], job: nil)
            var seen: [Int64] = []
            for _ in 0..<5 {
                let page = try await store.finishedRuns(after: paged, limit: 1)
                seen += page.runs.map(\.id)
                paged = page.cursor
            }
            #expect(seen.sorted() == [a.runID, b.runID, again.runID].sorted())
        }
    }
}
