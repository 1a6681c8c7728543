import Foundation
import TestSupport
import Testing

/// Many jobctl processes writing to one database at the same time.
@Suite("jobctl from many processes at once", .timeLimit(.minutes(2)))
struct EndToEndConcurrencyTests {
    @Test("eight processes adding 50 jobs each at the same time all succeed")
    func eightWriters() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let writers = 8
        let jobsEach = 50
        // No database yet: the first writers also race to create it.
        let failures = try await withThrowingTaskGroup(of: [ProcessResult].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var failed: [ProcessResult] = []
                    for index in 0..<jobsEach {
                        let result = try await s.jobctl([
                            "add", "w\(writer)-job\(index)", "--every", "\(index + 1)h", "--handler", "tick",
                        ])
                        if !(result.exitedNormally && result.status == 0) { failed.append(result) }
                    }
                    return failed
                }
            }
            var all: [ProcessResult] = []
            for try await failed in group { all += failed }
            return all
        }
        #expect(
            failures.isEmpty,
            "\(failures.count) adds failed, e.g.:\n\(failures.prefix(3).map(\.description).joined(separator: "\n"))")

        let list = try await s.jsonArray(["list", "--json"])
        #expect(list.count == writers * jobsEach)
        let expected = Set((0..<writers).flatMap { writer in (0..<jobsEach).map { "w\(writer)-job\($0)" } })
        #expect(Set(list.compactMap { $0["name"] as? String }) == expected)
        for job in list where job["name"] as? String == "w3-job9" {
            #expect(job["schedule"] as? String == "every 10h")
        }
        let jobs = try await s.status()["jobs"] as? [String: Any]
        #expect(int(jobs?["active"]) == writers * jobsEach)
    }
}
