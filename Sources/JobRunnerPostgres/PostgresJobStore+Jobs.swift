#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    extension PostgresJobStore {
        /// The channel operator actions notify (`add`, `trigger`, `resume`, `pause`, `stop`, `remove`,
        /// queue changes, drains, rescues), so that waiting runners look for work, or recall runs
        /// claimed ahead, at once. Never claims or finishes: a
        /// runner knows the next due time of what it finished itself, and a NOTIFY in every finish
        /// serialises commits on the server's notify queue.
        nonisolated var wakeChannel: String { url.schema.map { "jobrunner_wake_\($0)" } ?? "jobrunner_wake" }

        /// Queues a wake-up, delivered to listeners when the transaction commits (once per
        /// transaction, however many times it is called).
        func notifyRunners(on connection: PostgresConnection) async throws {
            try await execute("SELECT pg_notify(\(wakeChannel), '')", on: connection)
        }

        // MARK: Jobs

        package func add(_ definition: JobDefinition, replace: Bool) async throws -> JobRecord {
            let now = clock.now()
            try definition.validate(now: now)
            return try await write { connection in
                if try await findJob(named: definition.name, on: connection, lock: true) != nil && !replace {
                    throw JobRunnerError.jobExists(definition.name)
                }
                _ = try await upsert(definition, now: now, on: connection)
                try await notifyRunners(on: connection)
                guard let job = try await findJob(named: definition.name, on: connection) else {
                    throw JobRunnerError.database(
                        "job \(JobRunnerError.quoted(definition.name)) vanished after insert")
                }
                return job
            }
        }

        package func addMany(_ definitions: [JobDefinition], replace: Bool) async throws {
            let now = clock.now()
            for definition in definitions { try definition.validate(now: now) }
            try await write { connection in
                for definition in definitions {
                    if !replace, try await findJob(named: definition.name, on: connection, lock: true) != nil {
                        throw JobRunnerError.jobExists(definition.name)
                    }
                    _ = try await upsert(definition, now: now, on: connection)
                }
                try await notifyRunners(on: connection)
            }
        }

        package func declare(_ definition: JobDefinition) async throws -> JobStore.DeclareResult {
            let now = clock.now()
            try definition.validate(now: now)
            return try await write { connection in
                let result = try await upsert(definition, now: now, on: connection)
                if result != .unchanged { try await notifyRunners(on: connection) }
                return result
            }
        }

        /// Creates or updates a job. Two writers adding one new name at once: the second INSERT waits
        /// on the unique index and then fails with 23505, which ``write(_:)`` does not retry; the
        /// caller sees "exists" on its next try, as with SQLite's serialised writers.
        private func upsert(
            _ definition: JobDefinition, now: UnixMicros, on connection: PostgresConnection
        ) async throws -> JobStore.DeclareResult {
            try await ensureQueue(definition.queue, now: now, on: connection)
            let v = JobRow.definitionValues(definition, now: now)
            let existing = try await findJob(named: definition.name, on: connection, lock: true)
            if let existing, existing.definition == definition { return .unchanged }
            let scheduleChanged =
                existing.map {
                    $0.definition.schedule != definition.schedule
                        || $0.definition.initialDelay != definition.initialDelay
                } ?? true
            let first = JobTransition.firstOccurrence(of: definition, now: now)
            let nextRunAt = first.occurrence.map { JobTransition.dueTime(for: $0, jitter: definition.jitter) }
            if let existing {
                let next = existing.state == .stopped ? nil : nextRunAt
                try await execute(
                    """
                    UPDATE jobs SET queue = \(v.queue), kind = \(v.kind), handler = \(v.handler),
                        command = \(v.command)::jsonb, working_directory = \(v.workingDirectory),
                        payload = \(v.payload)::json, schedule_kind = \(v.scheduleKind), schedule = \(v.schedule),
                        run_at = \(v.runAt), interval_us = \(v.interval), fixed_delay = \(v.fixedDelay),
                        cron = \(v.cron), time_zone = \(v.timeZone), initial_delay_us = \(v.initialDelay),
                        timeout_us = \(v.timeout), max_retries = \(v.maxRetries), backoff_us = \(v.backoff),
                        jitter_us = \(v.jitter), misfire = \(v.misfire), environment = \(v.environment)::jsonb,
                        on_failure = \(v.onFailure)::jsonb, updated_at = \(now),
                        occurrence_at = CASE WHEN \(scheduleChanged) THEN \(first.occurrence) ELSE occurrence_at END,
                        next_run_at = CASE WHEN \(scheduleChanged) THEN \(next) ELSE next_run_at END,
                        anchor_at = CASE WHEN \(scheduleChanged) THEN \(first.anchor) ELSE anchor_at END,
                        attempt = CASE WHEN \(scheduleChanged) THEN 1 ELSE attempt END,
                        state = CASE WHEN \(scheduleChanged) AND state = 'done' THEN 'active' ELSE state END
                    WHERE id = \(existing.id)
                    """, on: connection)
                return .updated
            }
            let state: JobState = first.occurrence == nil ? .done : .active
            try await execute(
                """
                INSERT INTO jobs (queue, kind, handler, command, working_directory, payload, schedule_kind, schedule,
                    run_at, interval_us, fixed_delay, cron, time_zone, initial_delay_us, timeout_us, max_retries,
                    backoff_us, jitter_us, misfire, environment, on_failure, name, occurrence_at, next_run_at,
                    anchor_at, state, created_at, updated_at)
                VALUES (\(v.queue), \(v.kind), \(v.handler), \(v.command)::jsonb, \(v.workingDirectory),
                    \(v.payload)::json, \(v.scheduleKind), \(v.schedule), \(v.runAt), \(v.interval), \(v.fixedDelay),
                    \(v.cron), \(v.timeZone), \(v.initialDelay), \(v.timeout), \(v.maxRetries), \(v.backoff),
                    \(v.jitter), \(v.misfire), \(v.environment)::jsonb, \(v.onFailure)::jsonb, \(definition.name),
                    \(first.occurrence), \(nextRunAt), \(first.anchor), \(state.rawValue), \(now), \(now))
                """, on: connection)
            return .created
        }

        func ensureQueue(_ name: String, now: UnixMicros, on connection: PostgresConnection) async throws {
            try await execute(
                "INSERT INTO queues (name, updated_at) VALUES (\(name), \(now)) ON CONFLICT (name) DO NOTHING",
                on: connection)
        }

        /// The job named `name`; with `lock`, its row is locked until the transaction ends (the
        /// operator's read-modify-write, against a finish or another operator).
        func findJob(named name: String, on connection: PostgresConnection, lock: Bool = false) async throws
            -> JobRecord?
        {
            let query: PostgresQuery =
                lock
                ? "SELECT \(unescaped: JobRow.jobColumns) FROM jobs WHERE name = \(name) FOR NO KEY UPDATE"
                : "SELECT \(unescaped: JobRow.jobColumns) FROM jobs WHERE name = \(name)"
            return try await first(query, on: connection) { try JobRow.decodeJob($0) }
        }

        package func job(named name: String) async throws -> JobRecord? {
            try await read { connection in try await findJob(named: name, on: connection) }
        }

        package func jobs(queue: String?) async throws -> [JobRecord] {
            try await read { connection in
                try await all(
                    """
                    SELECT \(unescaped: JobRow.jobColumns) FROM jobs
                    WHERE \(queue)::text IS NULL OR queue = \(queue) ORDER BY name COLLATE "C"
                    """, on: connection
                ) { try JobRow.decodeJob($0) }
            }
        }

        private func requireJob(_ name: String, on connection: PostgresConnection) async throws -> JobRecord {
            guard let job = try await findJob(named: name, on: connection, lock: true) else {
                throw JobRunnerError.jobNotFound(name)
            }
            return job
        }

        private func reread(_ name: String, on connection: PostgresConnection) async throws -> JobRecord {
            guard let job = try await findJob(named: name, on: connection) else {
                throw JobRunnerError.jobNotFound(name)
            }
            return job
        }

        package func pause(_ name: String) async throws -> JobRecord {
            let now = clock.now()
            return try await write { connection in
                let job = try await requireJob(name, on: connection)
                switch job.state {
                case .paused: return job
                case .stopped, .done:
                    throw JobRunnerError.invalidState(
                        "job \(JobRunnerError.quoted(name)) is \(job.state.rawValue); only an active job can be paused"
                    )
                case .active: break
                }
                try await execute(
                    "UPDATE jobs SET state = 'paused', state_reason = NULL, updated_at = \(now) WHERE id = \(job.id)",
                    on: connection)
                // A runner holding a run of it claimed ahead of its due time recalls it.
                try await notifyRunners(on: connection)
                return try await reread(name, on: connection)
            }
        }

        package func resume(_ name: String) async throws -> JobRecord {
            let now = clock.now()
            return try await write { connection in
                let job = try await requireJob(name, on: connection)
                switch job.state {
                case .active: return job
                case .done:
                    throw JobRunnerError.invalidState(
                        "job \(JobRunnerError.quoted(name)) is done; add it again with --replace to run it again")
                case .paused:
                    try await execute(
                        """
                        UPDATE jobs SET state = 'active', state_reason = NULL, abandoned_streak = 0, updated_at = \(now)
                        WHERE id = \(job.id)
                        """, on: connection)
                case .stopped:
                    var first = JobTransition.firstOccurrence(of: job.definition, now: now)
                    if case .at = job.definition.schedule { first.occurrence = job.occurrenceAt ?? first.occurrence }
                    let due = first.occurrence.map { JobTransition.dueTime(for: $0, jitter: job.definition.jitter) }
                    try await execute(
                        """
                        UPDATE jobs SET state = 'active', state_reason = NULL, abandoned_streak = 0, attempt = 1,
                            occurrence_at = \(first.occurrence), next_run_at = \(due),
                            anchor_at = \(first.anchor ?? job.anchorAt), updated_at = \(now)
                        WHERE id = \(job.id)
                        """, on: connection)
                }
                try await notifyRunners(on: connection)
                return try await reread(name, on: connection)
            }
        }

        package func stop(_ name: String) async throws -> JobRecord {
            let now = clock.now()
            return try await write { connection in
                let job = try await requireJob(name, on: connection)
                // A done job stays done: stopping it must not make `resume` run a finished one-shot again.
                if job.state == .stopped || job.state == .done { return job }
                try await execute(
                    """
                    UPDATE jobs SET state = 'stopped', state_reason = NULL, next_run_at = NULL, trigger_at = NULL,
                        updated_at = \(now)
                    WHERE id = \(job.id)
                    """, on: connection)
                try await notifyRunners(on: connection)
                return try await reread(name, on: connection)
            }
        }

        package func remove(_ name: String) async throws -> Int64? {
            try await write { connection in
                let job = try await requireJob(name, on: connection)
                try await execute("DELETE FROM jobs WHERE id = \(job.id)", on: connection)
                try await notifyRunners(on: connection)
                return job.runningRunID
            }
        }

        package func trigger(_ name: String) async throws -> JobRecord {
            let now = clock.now()
            return try await write { connection in
                let job = try await requireJob(name, on: connection)
                try await execute(
                    """
                    UPDATE jobs SET trigger_at = coalesce(trigger_at, \(now)), updated_at = \(now) WHERE id = \(job.id)
                    """, on: connection)
                try await notifyRunners(on: connection)
                return try await reread(name, on: connection)
            }
        }

        // MARK: Queues

        package func queues() async throws -> [QueueRecord] {
            try await read { connection in
                try await all(
                    """
                    SELECT q.name, q.concurrency, q.paused,
                        (SELECT count(*) FROM runs r WHERE r.outcome = 'running' AND r.queue = q.name)
                    FROM queues q ORDER BY q.name COLLATE "C"
                    """, on: connection
                ) {
                    QueueRecord(
                        name: try $0.string(0), concurrency: try $0.int(1), paused: try $0.bool(2),
                        inFlight: try $0.int(3))
                }
            }
        }

        package func setQueuePaused(_ name: String, _ paused: Bool) async throws {
            let now = clock.now()
            try await write { connection in
                let changed = try await count(
                    "UPDATE queues SET paused = \(paused), updated_at = \(now) WHERE name = \(name) RETURNING 1",
                    on: connection)
                if changed == 0 { throw JobRunnerError.queueNotFound(name) }
                // Resumed, runners look for its work; paused, they recall its runs claimed ahead.
                try await notifyRunners(on: connection)
            }
        }

        package func setQueueConcurrency(_ name: String, _ concurrency: Int, create: Bool) async throws {
            try JobDefinition.validateName(name, what: "queue name")
            guard (1...100_000).contains(concurrency) else {
                throw JobRunnerError.invalidDefinition("concurrency must be between 1 and 100000, got \(concurrency)")
            }
            let now = clock.now()
            try await write { connection in
                if create { try await ensureQueue(name, now: now, on: connection) }
                let changed = try await count(
                    """
                    UPDATE queues SET concurrency = \(concurrency), updated_at = \(now) WHERE name = \(name) RETURNING 1
                    """, on: connection)
                if changed == 0 { throw JobRunnerError.queueNotFound(name) }
                try await notifyRunners(on: connection)
            }
        }

        package func removeQueue(_ name: String) async throws {
            try await write { connection in
                guard
                    try await count("SELECT 1 FROM queues WHERE name = \(name) FOR UPDATE", on: connection) == 1
                else { throw JobRunnerError.queueNotFound(name) }
                let jobs = try await scalar("SELECT count(*) FROM jobs WHERE queue = \(name)", on: connection) ?? 0
                if jobs > 0 {
                    throw JobRunnerError.invalidState(
                        "queue \(JobRunnerError.quoted(name)) is used by \(jobs) job(s); remove them or move them first"
                    )
                }
                let running =
                    try await scalar(
                        "SELECT count(*) FROM runs WHERE outcome = 'running' AND queue = \(name)", on: connection) ?? 0
                if running > 0 {
                    throw JobRunnerError.invalidState(
                        "queue \(JobRunnerError.quoted(name)) has \(running) run(s) in flight; remove it when they end")
                }
                try await execute("DELETE FROM queues WHERE name = \(name)", on: connection)
            }
        }
    }
#endif
