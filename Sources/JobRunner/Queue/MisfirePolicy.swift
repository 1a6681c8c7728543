/// What a periodic job does about occurrences it missed (downtime, or a run that outlasted its interval).
///
/// Nothing ever runs before its time. An occurrence counts as *missed* once a later occurrence is
/// also due, or once it is late by more than the runner's misfire grace
/// (``JobRunnerConfiguration/misfireGrace``).
public enum MisfirePolicy: String, Sendable, Hashable, CaseIterable, Codable {
    /// Run once for all the missed occurrences, then carry on with the next future one. The default.
    case coalesce
    /// Run none of the missed occurrences; wait for the next future one.
    case skip
    /// Run every missed occurrence, one after the other, but at most
    /// ``MisfirePolicy/catchUpLimit`` of them (the most recent ones).
    case catchUp = "catch-up"

    /// The most missed occurrences a `catch-up` job runs after downtime: older ones are dropped.
    public static let catchUpLimit = 100
}
