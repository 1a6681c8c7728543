import Foundation
import JobRunner
import TestSupport
import Testing

/// ``JobStore/jobsPage(_:)`` on SQLite: pages, totals and orders, against the same filter and order
/// applied in memory (what other stores do).
@Suite("jobs page of the dashboard")
struct JobsPageTests {
    @Test("every page, filter and order equals filtering and sorting all jobs, and the totals are right")
    func pagesEqualSortingEverything() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jobrunner-page-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await JobStore.open(path: directory + "/jobs.sqlite")
        // 123 jobs over two queues, with every tenth paused: names in an order unlike their ids.
        for index in 0..<123 {
            let name = "job-\(String(format: "%03d", (index * 37) % 123))"
            _ = try await store.add(
                JobDefinition(
                    name: name, queue: index % 3 == 0 ? "reports" : "default", action: .handler("tick"),
                    schedule: .every(.seconds(Int64(60 + index % 7)))))
            if index % 10 == 0 { _ = try await store.pause(name) }
        }
        let all = try await store.jobs()
        for sort in JobsPageQuery.Sort.allCases {
            for descending in [false, true] {
                for (queue, state) in [(nil, nil), ("reports", nil), (nil, JobState.paused), ("default", .active)] {
                    var query = JobsPageQuery()
                    query.sort = sort
                    query.descending = descending
                    query.queue = queue
                    query.state = state
                    query.limit = 50
                    let expected = all.filter(query.matches).sorted(by: query.precedes).map(\.definition.name)
                    var seen: [String] = []
                    for page in 0..<4 {
                        query.offset = page * 50
                        let result = try await store.jobsPage(query)
                        #expect(
                            result.total == expected.count,
                            "\(sort) \(descending) \(String(describing: queue)) page \(page)")
                        seen += result.jobs.map(\.definition.name)
                    }
                    #expect(seen == expected, "\(sort) descending \(descending) queue \(String(describing: queue))")
                }
            }
        }
        var failing = JobsPageQuery()
        failing.failing = true
        #expect(try await store.jobsPage(failing).total == 0, "no job has run, so none is failing")
    }
}
