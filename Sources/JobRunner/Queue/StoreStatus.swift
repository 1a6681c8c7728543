/// Counts over the whole database, for `jobctl status`.
public struct StoreStatus: Sendable, Hashable {
    /// Jobs by state.
    public package(set) var jobsByState: [JobState: Int]
    /// Runs by final outcome, over all time (pruning history does not change these).
    public package(set) var runsByOutcome: [RunOutcome: Int64]
    /// Runners that are running or draining.
    public package(set) var liveRunners: [RunnerRecord]
    /// Runs in flight now.
    public package(set) var inFlight: Int
    /// Jobs that are due but not yet claimed.
    public package(set) var due: Int
    /// Each job's run count ("called N times so far"), by name.
    public package(set) var perJob: [(name: String, runCount: Int64)]

    package init(
        jobsByState: [JobState: Int], runsByOutcome: [RunOutcome: Int64], liveRunners: [RunnerRecord], inFlight: Int,
        due: Int, perJob: [(name: String, runCount: Int64)]
    ) {
        self.jobsByState = jobsByState
        self.runsByOutcome = runsByOutcome
        self.liveRunners = liveRunners
        self.inFlight = inFlight
        self.due = due
        self.perJob = perJob
    }

    /// Compares every count.
    public static func == (lhs: StoreStatus, rhs: StoreStatus) -> Bool {
        lhs.jobsByState == rhs.jobsByState && lhs.runsByOutcome == rhs.runsByOutcome
            && lhs.liveRunners == rhs.liveRunners && lhs.inFlight == rhs.inFlight && lhs.due == rhs.due
            && lhs.perJob.elementsEqual(rhs.perJob, by: { $0 == $1 })
    }

    /// Hashes the in-flight and due counts.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(inFlight)
        hasher.combine(due)
    }

    /// The total number of finished runs.
    public var totalRuns: Int64 { runsByOutcome.values.reduce(0, +) }
}
