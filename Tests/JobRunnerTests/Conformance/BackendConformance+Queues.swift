import Testing

@testable import JobRunner

extension BackendConformance {
    /// A queue's concurrency limits its runs in flight across all runners; a paused queue starts no
    /// run, not even a triggered one; a removed job's run in flight keeps its queue slot until it ends.
    static func queueLimits(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            try await h.backend.setQueueConcurrency("limited", 2, create: true)
            for index in 0..<5 { try await h.add(job("limited-\(index)", queue: "limited", initialDelay: .zero)) }
            let second = try await h.open()
            let a = try await h.register(pid: 1)
            let b = try await h.register(on: second, pid: 2)

            let first = try await h.claim(a)
            #expect(first.claims.count == 2, "the queue's limit, not the runner's 10 slots")
            #expect(try await h.claim(b, on: second).claims.isEmpty, "the limit holds across runners")
            let limited = try await h.backend.queues().first { $0.name == "limited" }
            #expect(limited?.concurrency == 2)
            #expect(limited?.inFlight == 2)
            #expect(limited?.paused == false)

            #expect(try await h.finish(first.claims[0], runner: a))
            let freed = try await h.claim(b, on: second)
            #expect(freed.claims.count == 1, "a finished run frees its slot for any runner")
            #expect(try await h.claim(a).claims.isEmpty)
            try await h.backend.setQueueConcurrency("limited", 4, create: false)
            let raised = try await h.claim(a)
            #expect(raised.claims.count == 2, "the two jobs left, under the raised limit")
            let inFlight = [first.claims[1]] + freed.claims + raised.claims
            #expect(Set((first.claims + freed.claims + raised.claims).map(\.jobName)).count == 5)
            for claim in inFlight {
                let owner = freed.claims.contains { $0.runID == claim.runID } ? b : a
                #expect(try await h.finish(claim, runner: owner))
            }

            // A paused queue.
            try await h.add(job("held", queue: "held", initialDelay: .zero))
            try await h.backend.setQueuePaused("held", true)
            #expect(try await h.claim(a, queues: ["held"]).claims.isEmpty)
            _ = try await h.backend.trigger("held")
            #expect(try await h.claim(a, queues: ["held"]).claims.isEmpty, "not even a triggered run")
            #expect(try await h.backend.queues().first { $0.name == "held" }?.paused == true)
            try await h.backend.setQueuePaused("held", false)
            let held = try await h.claimOne(a, queues: ["held"])
            #expect(held.jobName == "held")
            #expect(try await h.finish(held, runner: a))
            await #expect(throws: (any Error).self, "an unknown queue") {
                try await h.backend.setQueuePaused("no-such-queue", true)
            }

            // A removed job's run in flight holds its slot until it ends.
            try await h.backend.setQueueConcurrency("single", 1, create: true)
            for name in ["single-1", "single-2"] { try await h.add(job(name, queue: "single", initialDelay: .zero)) }
            let orphan = try await h.claimOne(a, queues: ["single"])
            #expect(try await h.backend.remove(orphan.jobName) == orphan.runID)
            #expect(try await h.backend.job(named: orphan.jobName) == nil)
            #expect(try await h.claim(b, on: second, queues: ["single"]).claims.isEmpty, "the slot is still held")
            #expect(try await h.backend.queues().first { $0.name == "single" }?.inFlight == 1)
            #expect(try await h.finish(orphan, runner: a), "the run of a removed job is still recorded")
            let recorded = try await h.run(orphan.runID)
            #expect(recorded.outcome == .ok)
            #expect(recorded.jobName == orphan.jobName)
            #expect(recorded.jobID == nil, "its job is gone")
            let other = try await h.claimOne(b, on: second, queues: ["single"])
            #expect(other.jobName != orphan.jobName)
        }
    }
}
