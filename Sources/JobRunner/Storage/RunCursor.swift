/// Where a follower of the run history stands (`jobctl history --follow`): the newest run it has
/// seen, and the runs it saw in flight and waits for.
///
/// Runs are inserted when they are claimed and updated when they end, in any order; a writer holds
/// SQLite's single write lock, so a run committed later always has a higher id. Watching ids above
/// ``lastID`` and the ``pending`` ones therefore reports every run exactly once, when it has finished.
package struct RunCursor: Sendable, Hashable {
    /// The highest run id seen.
    package var lastID: Int64
    /// Runs seen in flight, not yet reported.
    package var pending: Set<Int64>
    /// Only runs of this job, by name.
    package var job: String?
}
