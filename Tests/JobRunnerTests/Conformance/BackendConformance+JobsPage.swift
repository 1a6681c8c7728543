import Testing

@testable import JobRunner

extension BackendConformance {
    /// Names whose byte order differs from a dictionary's: upper case before lower case, digits that
    /// do not sort as numbers, punctuation, letters beyond ASCII after `z` (where a locale's collation
    /// would put `é` beside `e`).
    static let jobsPageNames = [
        "alpha", "Beta", "beta", "émile", "f-job", "job-10", "job-9", "job-1", "_under", "zulu", "Zed",
        "ß-sharp", "omega", "delta", "gamma", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    ]

    /// Every query the dashboard check asks: each sort in both directions, under each filter
    /// (none, a queue, a queue whose name sorts before the others, a state, failing, two together, a
    /// queue without jobs), paged 7 at a time to one page past the end, and all at once.
    static func jobsPageQueries() -> [JobsPageQuery] {
        var queries: [JobsPageQuery] = []
        let filters: [(queue: String?, state: JobState?, failing: Bool)] = [
            (nil, nil, false), ("reports", nil, false), ("Zeta", nil, false), (nil, .paused, false),
            (nil, .stopped, false), (nil, nil, true), ("default", .active, false), ("default", nil, true),
            ("no-such-queue", nil, false),
        ]
        for sort in JobsPageQuery.Sort.allCases {
            for descending in [false, true] {
                for filter in filters {
                    var query = JobsPageQuery()
                    query.sort = sort
                    query.descending = descending
                    query.queue = filter.queue
                    query.state = filter.state
                    query.failing = filter.failing
                    query.limit = Int.max
                    queries.append(query)
                    query.limit = 7
                    for offset in stride(from: 0, through: jobsPageNames.count + 7, by: 7) {
                        query.offset = offset
                        queries.append(query)
                    }
                }
            }
        }
        return queries
    }

    /// Jobs in three queues with run counts, last starts and next runs that tie and differ, some
    /// that never ran (no last start), some stopped (no next run), some paused, some whose last run
    /// failed or timed out. Returns the runner ids and how many runs each holds in flight at the end.
    static func makeJobsPageFixture(_ h: Harness) async throws -> [Int64: Int] {
        for (index, name) in jobsPageNames.enumerated() {
            // Due at 0, 10 or 20 s, and (the fourth) never within this check.
            let delay = [nil, Duration.seconds(10), .seconds(20), .seconds(1000)][index % 4]
            try await h.add(job(name, queue: ["default", "reports", "Zeta"][index % 3], initialDelay: delay))
        }
        let runner = try await h.register(pid: 1)
        // Three rounds, all claimed at one instant each: equal last starts, run counts of 0, 1 and 2.
        for (round, at) in [s(15), s(25), s(70)].enumerated() {
            h.advance(to: start + at)
            let batch = try await h.claim(runner, slots: 100)
            #expect(!batch.claims.isEmpty, "round \(round) claims something")
            h.advance(by: .seconds(2))
            for claim in batch.claims {
                let index = try #require(jobsPageNames.firstIndex(of: claim.jobName))
                let outcome: RunOutcome =
                    switch (index + round) % 5 {
                    case 0: .failed
                    case 1: .timeout
                    default: .ok
                    }
                #expect(try await h.finish(claim, runner: runner, outcome: outcome))
            }
        }
        for (index, name) in jobsPageNames.enumerated() {
            if index % 6 == 5 { _ = try await h.backend.stop(name) }
            if index % 8 == 3 && index % 6 != 5 { _ = try await h.backend.pause(name) }
        }
        // Runs left in flight under two runners (and none under a third).
        h.advance(to: start + s(200))
        let second = try await h.register(pid: 2)
        _ = try await h.register(pid: 3)
        let first = try await h.claim(runner, slots: 2).claims.count
        let other = try await h.claim(second, slots: 3).claims.count
        #expect(first == 2 && other == 3, "enough jobs are due to fill both runners' slots")
        return [runner: first, second: other]
    }

    /// The page of `query` as its total and, for each job, its name's bytes and what it was sorted
    /// and filtered by, for comparing one store's pages with another's.
    static func jobsPageResult(_ backend: any JobStoreBackend, _ query: JobsPageQuery) async throws -> [String] {
        let page = try await backend.jobsPage(query)
        return ["total \(page.total)"]
            + page.jobs.map { job in
                let keys: [String] = [
                    job.definition.queue, job.state.rawValue, "\(job.runCount)", "\(job.nextRunAt ?? -1)",
                    "\(job.lastStartedAt ?? -1)", job.lastOutcome?.rawValue ?? "-",
                ]
                return "\(Array(job.definition.name.utf8)) " + keys.joined(separator: " ")
            }
    }

    /// `jobsPage` filters, sorts (names in byte order, missing next runs last and missing last runs
    /// first), pages and counts as filtering and sorting every job does, and the runs in flight per
    /// runner count only runs in flight.
    static func jobsPage(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let inFlight = try await makeJobsPageFixture(h)
            let all = try await h.backend.jobs(queue: nil)
            #expect(all.count == jobsPageNames.count)
            #expect(all.contains { $0.nextRunAt == nil } && all.contains { $0.lastStartedAt == nil })
            #expect(all.contains { $0.lastOutcome == .failed } && all.contains { $0.lastOutcome == .timeout })
            #expect(Set(all.map(\.runCount)).count >= 3, "run counts differ")
            for query in jobsPageQueries() {
                let expected = all.filter(query.matches).sorted(by: query.precedes)
                let page = try await h.backend.jobsPage(query)
                let label =
                    "\(query.sort) desc \(query.descending) \(query.queue ?? "-") \(query.state?.rawValue ?? "-")"
                    + " failing \(query.failing) offset \(query.offset) limit \(query.limit)"
                #expect(page.total == expected.count, "\(label)")
                #expect(
                    page.jobs.map(\.definition.name)
                        == expected.dropFirst(query.offset).prefix(query.limit).map(\.definition.name),
                    "\(label)")
                #expect(page.jobs == Array(expected.dropFirst(query.offset).prefix(query.limit)), "whole records")
            }
            // Byte order: "Beta" < "Zed" < "_under" < "alpha" < "beta", and "émile" after "zulu".
            var byName = JobsPageQuery()
            byName.sort = .name
            byName.limit = 5
            #expect(
                try await h.backend.jobsPage(byName).jobs.map(\.definition.name)
                    == ["Beta", "Zed", "_under", "alpha", "beta"])
            byName.queue = "default"
            byName.descending = true
            byName.limit = 2
            #expect(try await h.backend.jobsPage(byName).jobs.map(\.definition.name) == ["émile", "zulu"])
            #expect(try await h.backend.inFlightByRunner() == inFlight)
        }
    }
}
