/// The main loop's bookkeeping between two turns: runs in flight, the next due time, the drain and
/// force deadlines, and the backoff after failed writes. A value with no I/O, so that every rule of
/// the loop can be tested with plain instants.
struct RunLoopState {
    /// The first backoff after a failed write; it doubles at each further failure.
    static let firstBackoff: Duration = .milliseconds(100)
    /// The longest backoff after failed writes.
    static let maximumBackoff: Duration = .seconds(5)
    /// The wait after a claim failed.
    static let claimBackoff: Duration = .milliseconds(250)
    /// The wait after the runner found it was declared dead and registered again.
    static let reregisterBackoff: Duration = .milliseconds(50)
    /// How long after the termination grace the loop still waits for cancelled handlers before
    /// recording them `interrupted` regardless.
    static let forceMargin: Duration = .seconds(1)

    /// What a drain request did to the loop.
    enum DrainStep: Equatable {
        /// Nothing new.
        case unchanged
        /// The drain began: stop claiming (the caller marks the runner draining).
        case began
    }

    /// What the loop must do once it has applied the time and its drain.
    enum Verdict: Equatable {
        /// Go on: claim if allowed, then wait.
        case proceed
        /// Cancel the runs in flight (the drain's grace ran out, or a stop-now).
        case cancelRuns
        /// Record the runs still in flight `interrupted` and stop: their handlers ignored cancellation.
        case abandonStuck
        /// Stop: drained, nothing in flight.
        case finished
    }

    var inFlight: [Int64: Claim] = [:]
    var nextDue: UnixMicros?
    private(set) var drainDeadline: UnixMicros?
    private var drainGrace: Duration?
    private(set) var forceDeadline: UnixMicros?
    private(set) var backoffUntil: UnixMicros?
    private var writeFailures = 0

    /// Whether the loop has stopped claiming.
    var draining: Bool { drainDeadline != nil }

    /// Whether finished runs must wait before the next attempt to record them.
    func isBackingOff(at now: UnixMicros) -> Bool {
        backoffUntil.map { now < $0 } ?? false
    }

    /// Runs were recorded: their slots are free, and failures are forgotten.
    mutating func recorded(_ runs: [FinishedRun]) {
        writeFailures = 0
        for run in runs { inFlight[run.runID] = nil }
    }

    /// Recording failed (a busy or full disk): back off, longer at each failure in a row.
    mutating func recordingFailed(at now: UnixMicros) {
        writeFailures += 1
        let doubled = Self.firstBackoff.microseconds << min(writeFailures - 1, 6)
        backoffUntil = now + min(doubled, Self.maximumBackoff.microseconds)
    }

    /// Claiming failed, or the runner had to register again: wait `span` before the next claim.
    mutating func holdClaims(for span: Duration, at now: UnixMicros) {
        backoffUntil = now + span.microseconds
    }

    /// Whether the loop may claim now, clearing an expired backoff.
    mutating func mayClaim(at now: UnixMicros) -> Bool {
        guard !draining else { return false }
        if let backoff = backoffUntil, now < backoff { return false }
        backoffUntil = nil
        return true
    }

    /// Applies the runner's drain phase at `now`.
    ///
    /// A later request with a shorter grace (`jobctl drain --grace` after a drain whose wait ran out)
    /// shortens the wait; a longer one never extends it. A stop-now ends the wait at once.
    mutating func apply(_ phase: RunnerControl.DrainPhase, at now: UnixMicros, drainTimeout: Duration) -> DrainStep {
        switch phase {
        case .none:
            return .unchanged
        case .draining(let grace):
            let deadline = now + Self.boundedMicros(grace ?? drainTimeout)
            guard let current = drainDeadline else {
                drainDeadline = deadline
                drainGrace = grace
                return .began
            }
            if grace != drainGrace {
                drainGrace = grace
                drainDeadline = min(current, deadline)
            }
            return .unchanged
        case .stopNow:
            let began = drainDeadline == nil
            drainDeadline = min(drainDeadline ?? now, now)
            return began ? .began : .unchanged
        }
    }

    /// What a draining loop must do at `now`; `.proceed` while not draining.
    mutating func verdict(at now: UnixMicros, terminationGrace: Duration) -> Verdict {
        guard let deadline = drainDeadline else { return .proceed }
        if inFlight.isEmpty { return .finished }
        if let force = forceDeadline {
            return now >= force ? .abandonStuck : .proceed
        }
        guard now >= deadline else { return .proceed }
        forceDeadline = now + Self.boundedMicros(terminationGrace) + Self.forceMargin.microseconds
        return .cancelRuns
    }

    /// When the loop must wake next without being woken (nil: only when woken). While it may not
    /// claim (`claiming` false: the runner fenced itself), the next due time does not wake it.
    ///
    /// A backoff that has run out by `now` sets no deadline. While the runner was fenced, nothing
    /// cleared it (only a claim does), and a deadline in the past made the loop spin without ever
    /// suspending. The loop runs on the store's actor, so every other store call (the heartbeat
    /// that would lift the fence among them) waited behind it for good: a runner thawed after a
    /// SIGSTOP past its lease, whose claim in flight failed, never registered again (D22).
    func wakeDeadline(concurrency: Int, claiming: Bool = true, now: UnixMicros) -> UnixMicros? {
        var deadline: UnixMicros?
        if let drainDeadline {
            deadline = forceDeadline ?? drainDeadline
        } else if claiming, inFlight.count < concurrency {
            deadline = nextDue
        }
        if let backoff = backoffUntil, backoff > now {
            // The next due time is stale while claims are backing off: wait for the backoff.
            deadline = draining ? min(deadline ?? backoff, backoff) : backoff
        }
        return deadline
    }

    /// A span in microseconds, within 0 and ``JobDefinition/maximumSpan``, so that adding it to an
    /// instant cannot overflow whatever a configuration or a drain request says.
    static func boundedMicros(_ span: Duration) -> Int64 {
        min(max(span, .zero), JobDefinition.maximumSpan).microseconds
    }
}
