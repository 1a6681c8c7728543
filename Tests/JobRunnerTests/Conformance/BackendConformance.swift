import Testing

@testable import JobRunner

/// How the conformance checks get a backend: a fresh, empty database per check, whose backends read
/// the time from a given clock, and on which any number of backend instances can be opened.
///
/// This is all a backend supplies to run the suite: see `SQLiteConformanceTests.swift` for SQLite.
struct BackendFactory: Sendable {
    /// The backend's name, as test output shows it.
    var name: String
    /// Makes a fresh, empty database (created and migrated) whose backends read the time from `clock`.
    var makeDatabase: @Sendable (_ clock: ManualJobClock) async throws -> ConformanceDatabase
}

/// One fresh database made by a ``BackendFactory``.
struct ConformanceDatabase: Sendable {
    /// Opens a backend instance on this database: each call a new one with its own connection, as
    /// another process (or another host) would have.
    var open: @Sendable () async throws -> any JobStoreBackend
    /// Deletes the database. Called once the check is over, whether it passed or not.
    var remove: @Sendable () async throws -> Void
}

/// What every storage backend must do, checked through ``JobStoreBackend`` alone: no SQL, no types
/// of one backend, no shortcut through the ``JobStore`` facade. Each check takes a
/// ``BackendFactory``, makes its own fresh database and drives time with a ``ManualJobClock``.
enum BackendConformance {
    /// One check, run against a backend by its factory.
    struct Check: Sendable, Identifiable, CustomTestStringConvertible {
        var id: String
        var run: @Sendable (BackendFactory) async throws -> Void

        init(_ id: String, _ run: @escaping @Sendable (BackendFactory) async throws -> Void) {
            self.id = id
            self.run = run
        }

        var testDescription: String { id }
    }

    /// Every check, in the order of the storage contract.
    static let checks: [Check] = [
        Check(
            "definitions: every field round-trips, from any instance, and is changed or taken away",
            definitionsRoundTrip),
        Check("claim: one claim per occurrence, concurrent runners on one instance") {
            try await claimOncePerOccurrence($0, instances: 1)
        },
        Check("claim: one claim per occurrence, concurrent runners on two instances") {
            try await claimOncePerOccurrence($0, instances: 2)
        },
        Check("claim: queues and handlers outside the scope are left alone", claimRespectsScope),
        Check("claim: a lead claims runs due within it, to start at their due time", claimAhead),
        Check("recall: runs claimed ahead whose job or queue was paused, stopped or removed since", recallableRuns),
        Check("finish: history, counters and next occurrence in one step", finishRecordsScheduleAndHistory),
        Check("finish: another instance never sees half a finish", finishIsAtomicForOtherInstances),
        Check("fencing: a runner declared dead claims nothing and its late results change nothing", fencing),
        Check("rescue: an expired lease, renewed by heartbeats, and never the caller's own", rescueAfterLease),
        Check("rescue: a dead pid on the same host, at once, its leftovers killed", rescueSameHostDeadProcess),
        Check("rescue: a namesake host with another boot or PID namespace waits for the lease", rescueNamesakeHost),
        Check("rescue: abandoned runs in a row pause the job", abandonStreakPausesJob),
        Check("rescue: the live runners counted right after a rescue pass", liveRunnerCountAfterRescue),
        Check("rescue: a pass right after the heartbeat, with several runners alive", rescueRightAfterHeartbeat),
        Check(
            "heartbeat: lists the runs held; an unknown one is released, only while its runner's", releaseUnknownRuns),
        Check("drain: orders taken once, draining shown, leftovers interrupted", drain),
        Check("history: counters survive prune and retention", countersSurvivePrune),
        Check("queues: concurrency across runners, paused queues, removed jobs keep their slot", queueLimits),
        Check("misfire: coalesce runs the latest missed slot once", misfireCoalesce),
        Check("misfire: skip waits for the next slot unless within the grace", misfireSkip),
        Check("misfire: catch-up runs the recent missed slots one by one", misfireCatchUp),
        Check("misfire: fixed-delay and one-shot jobs", misfireFixedDelayAndOneShots),
        Check("retries: backoff doubles, attempts count up, then the job moves on", retries),
        Check("triggers: one run each, paused or not, schedule untouched", triggers),
        Check("change feed: reports another instance's commits, returns when cancelled", changeFeed),
        Check("dashboard: pages of jobs filtered, sorted and counted as sorting all of them; runs in flight", jobsPage),
    ]
}
