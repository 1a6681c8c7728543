/// Where a follower of the run history stands (`jobctl history --follow`): the newest run it has
/// seen, and the runs it saw in flight and waits for.
///
/// Runs are inserted when they are claimed and updated when they end, in any order; a writer holds
/// SQLite's single write lock, so a run committed later always has a higher id. Watching ids above
/// ``lastID`` and the ``pending`` ones therefore reports every run exactly once, when it has finished.
///
/// On PostgreSQL, claims commit concurrently: a run can become visible after one with a higher id.
/// The ids at or below ``lastID`` that were not visible when read are kept in ``unsettled`` and
/// looked at again until they appear or can no longer appear (see `PostgresJobStore.finishedRuns`).
package struct RunCursor: Sendable, Hashable {
    /// The highest run id seen.
    package var lastID: Int64
    /// Runs seen in flight, not yet reported.
    package var pending: Set<Int64>
    /// Only runs of this job, by name.
    package var job: String?
    /// Ids at or below ``lastID`` not seen yet, each with the store's horizon after which, still not
    /// seen, it never will be (PostgreSQL: a transaction id). Always empty on SQLite.
    package var unsettled: [Int64: Int64] = [:]

    package init(lastID: Int64, pending: Set<Int64>, job: String?, unsettled: [Int64: Int64] = [:]) {
        self.lastID = lastID
        self.pending = pending
        self.job = job
        self.unsettled = unsettled
    }
}
