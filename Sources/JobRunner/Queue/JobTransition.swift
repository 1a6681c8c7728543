/// The pure rules that move a job from one occurrence to the next: first occurrence, misfire
/// resolution at claim time, and the state after a run. The store applies them inside its
/// transactions; tests call them with literal timestamps.
package enum JobTransition {
    /// Runs abandoned in a row after which a job is paused instead of taking more runners down.
    package static let abandonLimit = 3

    /// The first occurrence of a newly added (or rescheduled) job, and the fixed-rate anchor.
    package static func firstOccurrence(
        of definition: JobDefinition,
        now: UnixMicros
    ) -> (occurrence: UnixMicros?, anchor: UnixMicros?) {
        let delay = definition.initialDelay?.microseconds
        switch definition.schedule {
        case .at(let instant):
            return (instant + (delay ?? 0), nil)
        case .after(let after):
            return (now + after.microseconds + (delay ?? 0), nil)
        case .every(let interval, let fixedDelay):
            let first = now + (delay ?? interval.microseconds)
            return (first, fixedDelay ? nil : first)
        case .cron(let expression, let zone):
            // A cron job's first run is its first matching slot after the initial delay (if any).
            let from = now + (delay ?? 0)
            if let delay, delay > 0 { return (expression.next(after: from - 1, in: zone), nil) }
            return (expression.next(after: from, in: zone), nil)
        }
    }

    /// When the run for `occurrence` may be claimed: the occurrence plus a random jitter.
    package static func dueTime(for occurrence: UnixMicros, jitter: Duration) -> UnixMicros {
        let spread = jitter.microseconds
        guard spread > 0 else { return occurrence }
        return occurrence + Int64.random(in: 0...spread)
    }

    /// What a claim does with a due job.
    package enum Resolution: Equatable {
        /// Run it, standing for `occurrence`.
        case run(occurrence: UnixMicros)
        /// Do not run: its occurrences were missed and the policy skips them. `next` is the next future slot.
        case skip(next: UnixMicros?)
    }

    /// Applies the misfire policy to a job that is due at `now`.
    ///
    /// Only the first attempt of a periodic occurrence is subject to it; retries and one-shot jobs run.
    package static func resolve(_ job: JobRecord, now: UnixMicros, grace: Int64) -> Resolution {
        guard let occurrence = job.occurrenceAt else { return .run(occurrence: job.nextRunAt ?? now) }
        let definition = job.definition
        guard job.attempt == 1, definition.schedule.isPeriodic else { return .run(occurrence: occurrence) }
        if case .every(let interval, true) = definition.schedule {
            // Fixed delay has a single pending occurrence: skipping means waiting one interval from now.
            if definition.misfire == .skip && now - occurrence > grace {
                return .skip(next: now + interval.microseconds)
            }
            return .run(occurrence: occurrence)
        }
        let anchor = job.anchorAt ?? occurrence
        let next: (Int64) -> Int64? = { definition.schedule.slot(after: $0, anchor: anchor) }
        let following = next(occurrence)
        let missedMore = following.map { $0 <= now } ?? false
        switch definition.misfire {
        case .coalesce:
            guard missedMore else { return .run(occurrence: occurrence) }
            return .run(occurrence: OccurrenceMath.latestSlot(atOrBefore: now, startingAt: occurrence, next: next))
        case .skip:
            let latest =
                missedMore ? OccurrenceMath.latestSlot(atOrBefore: now, startingAt: occurrence, next: next) : occurrence
            if now - latest <= grace { return .run(occurrence: latest) }
            return .skip(next: next(now))
        case .catchUp:
            guard missedMore else { return .run(occurrence: occurrence) }
            let recent = OccurrenceMath.recentSlots(
                atOrBefore: now,
                startingAt: occurrence,
                limit: MisfirePolicy.catchUpLimit,
                next: next
            )
            return .run(occurrence: recent.first ?? occurrence)
        }
    }

    /// The job's scheduling fields after a run.
    package struct After: Equatable {
        package var state: JobState
        package var stateReason: String?
        package var occurrenceAt: UnixMicros?
        package var nextRunAt: UnixMicros?
        package var attempt: Int
        package var abandonedStreak: Int
        /// A manual trigger whose run was interrupted or abandoned: it is asked for again, as a
        /// scheduled occurrence would run again.
        package var retrigger = false
    }

    /// Computes the job's next occurrence (or retry, or done) after a run of `occurrence` ended.
    ///
    /// - Parameters:
    ///   - job: the job as it is now in the database (it may have been paused, stopped or redefined meanwhile).
    ///   - occurrence: the occurrence the run stood for.
    ///   - attempt: the run's attempt number.
    ///   - triggered: true for a manual trigger, which never moves the schedule.
    package static func afterRun(
        _ job: JobRecord,
        occurrence: UnixMicros,
        attempt: Int,
        triggered: Bool,
        outcome: RunOutcome,
        finishedAt: UnixMicros
    ) -> After {
        var after = After(
            state: job.state,
            stateReason: job.stateReason,
            occurrenceAt: job.occurrenceAt,
            nextRunAt: job.nextRunAt,
            attempt: job.attempt,
            abandonedStreak: outcome == .abandoned
                ? job.abandonedStreak + 1 : (outcome == .interrupted ? job.abandonedStreak : 0)
        )
        if outcome == .abandoned && after.abandonedStreak >= abandonLimit && job.state == .active {
            after.state = .paused
            after.stateReason =
                "paused after \(after.abandonedStreak) abandoned runs in a row, each time its runner died during the run; resume it when fixed"
        }
        // A trigger, or a run whose occurrence was replaced meanwhile (redefined), leaves the schedule
        // alone; a trigger that did not get to finish asks again (not on a stopped or done job).
        if triggered {
            after.retrigger =
                (outcome == .interrupted || outcome == .abandoned) && (job.state == .active || job.state == .paused)
            return after
        }
        if job.occurrenceAt != occurrence { return after }
        if job.state == .stopped || job.state == .done {
            after.nextRunAt = nil
            // A one-shot stopped while its run was in flight is done once that run ends for good:
            // resuming it must not run it a second time.
            if job.state == .stopped, !job.definition.schedule.isPeriodic {
                let final =
                    outcome == .ok
                    || ((outcome == .failed || outcome == .timeout) && attempt > job.definition.retry.maxRetries)
                if final {
                    after.state = .done
                    after.occurrenceAt = nil
                }
            }
            return after
        }
        let definition = job.definition
        switch outcome {
        case .running:
            return after
        case .interrupted:
            // Not an attempt: the same occurrence runs again when a runner is next free to claim it.
            after.nextRunAt = occurrence
            return after
        case .abandoned:
            after.attempt = attempt + 1
            after.nextRunAt = finishedAt
            return after
        case .failed, .timeout:
            if attempt <= definition.retry.maxRetries {
                after.attempt = attempt + 1
                after.nextRunAt = finishedAt + definition.retry.delay(beforeAttempt: attempt + 1)
                return after
            }
            advance(&after, job: job, occurrence: occurrence, finishedAt: finishedAt)
        case .ok:
            advance(&after, job: job, occurrence: occurrence, finishedAt: finishedAt)
        }
        return after
    }

    private static func advance(_ after: inout After, job: JobRecord, occurrence: UnixMicros, finishedAt: UnixMicros) {
        let definition = job.definition
        after.attempt = 1
        let next: UnixMicros?
        switch definition.schedule {
        case .at, .after:
            next = nil
        case .every(_, true):
            next = definition.schedule.slot(afterRunEndedAt: finishedAt)
        case .every, .cron:
            next = definition.schedule.slot(after: occurrence, anchor: job.anchorAt ?? occurrence)
        }
        after.occurrenceAt = next
        if let next {
            after.nextRunAt = dueTime(for: next, jitter: definition.jitter)
        } else {
            after.nextRunAt = nil
            if after.state == .active || after.state == .paused {
                after.state = .done
                if definition.schedule.isPeriodic { after.stateReason = "the schedule has no further occurrence" }
            }
        }
    }
}
