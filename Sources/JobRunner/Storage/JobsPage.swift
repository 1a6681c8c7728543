/// A page of jobs, filtered and sorted, for a dashboard (`jobctl serve`): the database does the
/// filtering, sorting and counting, so a page costs one bounded query however many jobs there are.
package struct JobsPageQuery: Sendable, Hashable {
    /// How the jobs are ordered; ties go by name.
    package enum Sort: String, Sendable, CaseIterable {
        /// By next run, soonest first; jobs with none last.
        case next
        case name
        /// By run count.
        case runs
        /// By the last run's start; jobs that never ran first.
        case last
        case queue
    }

    /// Only jobs of this queue.
    package var queue: String?
    /// Only jobs in this state.
    package var state: JobState?
    /// Only jobs whose last run failed, timed out or was abandoned.
    package var failing = false
    package var sort: Sort = .next
    package var descending = false
    package var offset = 0
    /// At most this many jobs; `Int.max` for all.
    package var limit = 50

    package init() {}

    /// Whether `job` passes the filters.
    package func matches(_ job: JobRecord) -> Bool {
        if let queue, job.definition.queue != queue { return false }
        if let state, job.state != state { return false }
        if failing { return job.lastOutcome.map { [.failed, .timeout, .abandoned].contains($0) } ?? false }
        return true
    }

    /// Whether `a` comes before `b` in this order. Names are in Unicode NFC (a definition must be), so
    /// `String`'s order is the order of their code points, which is the byte order of their UTF-8 in
    /// which the stores compare them (SQLite's `BINARY`, PostgreSQL's `"C"`).
    package func precedes(_ a: JobRecord, _ b: JobRecord) -> Bool {
        func key(_ job: JobRecord) -> (Int64, String, String) {
            switch sort {
            case .next: (job.nextRunAt ?? .max, "", job.definition.name)
            case .name: (0, "", job.definition.name)
            case .runs: (job.runCount, "", job.definition.name)
            case .last: (job.lastStartedAt ?? .min, "", job.definition.name)
            case .queue: (0, job.definition.queue, job.definition.name)
            }
        }
        let (x, y) = (key(a), key(b))
        return descending ? x > y : x < y
    }
}

/// One page of ``JobsPageQuery`` and how many jobs pass its filters in all.
package struct JobsPage: Sendable {
    package var jobs: [JobRecord]
    package var total: Int

    package init(jobs: [JobRecord], total: Int) {
        self.jobs = jobs
        self.total = total
    }
}

extension JobStore {
    /// A page of jobs: one bounded query for the page, and one for the count when the page does not
    /// tell it, on every store.
    package func jobsPage(_ query: JobsPageQuery) async throws -> JobsPage {
        do { return try await backend.jobsPage(query) } catch { throw backend.publicError(error) }
    }

    /// Runs in flight per runner id.
    package func inFlightByRunner() async throws -> [Int64: Int] {
        do { return try await backend.inFlightByRunner() } catch { throw backend.publicError(error) }
    }
}
