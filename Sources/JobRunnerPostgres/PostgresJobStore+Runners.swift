#if PostgreSQL
    package import JobRunner
    import PostgresNIO

    extension PostgresJobStore {
        package func registerRunner(_ runner: RunnerRegistration, now: UnixMicros) async throws -> Int64 {
            try await write { connection in
                guard
                    let id = try await scalar(
                        """
                        INSERT INTO runners (host, host_key, pid, started_at, heartbeat_at, lease_us, state, queues,
                            concurrency)
                        VALUES (\(runner.host.name), \(runner.host.key), \(runner.pid), \(now), \(now),
                            \(runner.lease.microseconds), 'running', \(runner.queues), \(runner.concurrency))
                        RETURNING id
                        """, on: connection)
                else { throw JobRunnerError.database("the runner's row was not created") }
                return id
            }
        }

        /// Renews the lease of a live runner, takes its pending drain orders, lists the runs it holds,
        /// counts the jobs due (kept for the gauge's ``dueCount(now:limit:)`` right after) and takes the
        /// rescue's look (kept for ``rescueOrphans(selfID:now:local:)`` right after), in one statement:
        /// one round trip every heartbeat, which is most of an idle runner's work.
        ///
        /// The statement's first two values are `$1` (now) and `$2` (the runner's id), as the look's
        /// ``liveRunnersSQL(lock:)`` expects; its first row carries the heartbeat's columns, and each
        /// row one live runner (one row of NULLs for none).
        ///
        /// It also reads the server's clock, one more reading for the ``DatabaseClock``: a step of the
        /// server's clock (which on a host that steps its wall clock moves with it) is then followed
        /// within one heartbeat, not at the next 30 s measurement, so that runners on several hosts
        /// disagree about the time for one heartbeat interval at most.
        package func heartbeat(runnerID: Int64, now: UnixMicros) async throws -> Heartbeat {
            var sql = PostgresQuery.StringInterpolation(literalCapacity: 2048, interpolationCount: 8)
            sql.appendLiteral("WITH beat AS (UPDATE runners SET heartbeat_at = ")
            sql.appendInterpolation(now)
            sql.appendLiteral(" WHERE id = ")
            sql.appendInterpolation(runnerID)
            sql.appendLiteral(
                """
                 AND state IN ('running', 'draining') RETURNING 1), drains AS (UPDATE control SET handled_at = $1 \
                WHERE runner_id = $2 AND handled_at IS NULL AND kind = 'drain' RETURNING grace_us) \
                SELECT h.*, r.* FROM (SELECT (SELECT count(*) FROM beat), (SELECT count(*) FROM drains), \
                (SELECT min(grace_us) FROM drains), \
                ARRAY(SELECT id FROM runs WHERE runner_id = $2 AND outcome = 'running' ORDER BY id), (
                """)
            Self.appendDueCount(to: &sql, now: now, limit: Self.heartbeatDueLimit)
            sql.appendLiteral(
                """
                ), \(Self.orphanedSQL), \(DatabaseClock.serverMicrosSQL)) AS h \
                LEFT JOIN LATERAL (\(Self.liveRunnersSQL(lock: false))) AS r ON true
                """)
            let query = PostgresQuery(stringInterpolation: sql)
            let databaseClock = self.databaseClock
            let (rows, sent, received) = try await read { connection in
                let sent = databaseClock?.elapsedMicros()
                let rows = try await all(query, on: connection) { row in
                    (
                        beat: Heartbeat(
                            alive: try row.int64(0) == 1,
                            drain: try row.int64(1) > 0
                                ? DrainOrder(grace: try row.optionalInt64(2).map { Duration.microseconds($0) }) : nil,
                            held: try row.int64Array(3)),
                        due: Int(try row.int64(4)),
                        look: RescueLook(
                            orphaned: try row.bool(5),
                            runner: try row.optionalInt64(7).map { _ in try Self.liveRunner(row, at: 7) }),
                        server: try row.int64(6)
                    )
                }
                return (rows, sent, databaseClock?.elapsedMicros())
            }
            guard let first = rows.first else { return Heartbeat(alive: false, drain: nil) }
            if let databaseClock, let sent, let received {
                let measured = databaseClock.adopt(
                    OffsetWindow(sent: sent, server: first.server, received: received), at: received)
                databaseClock.report(measured, logger: logger)
            }
            heartbeatDueCount = (now: now, limit: Self.heartbeatDueLimit, count: first.due)
            heartbeatLook = (now: now, runnerID: runnerID, rows: rows.map(\.look))
            return first.beat
        }

        package func takeDrainOrder(runnerID: Int64, now: UnixMicros) async throws -> DrainOrder? {
            try await read { connection in
                try await takeDrainRequest(runnerID, now: now, on: connection)
            }
        }

        /// Marks the runner's pending drain orders handled and returns the shortest grace among them,
        /// in one statement (so it is atomic without a transaction of its own).
        private func takeDrainRequest(_ runnerID: Int64, now: UnixMicros, on connection: PostgresConnection)
            async throws -> DrainOrder?
        {
            let graces = try await all(
                """
                UPDATE control SET handled_at = \(now)
                WHERE runner_id = \(runnerID) AND handled_at IS NULL AND kind = 'drain'
                RETURNING grace_us
                """, on: connection, map: { try $0.optionalInt64(0) })
            guard !graces.isEmpty else { return nil }
            return DrainOrder(grace: graces.compactMap { $0 }.min().map { Duration.microseconds($0) })
        }

        package func markDraining(runnerID: Int64) async throws {
            try await read { connection in
                try await execute(
                    "UPDATE runners SET state = 'draining' WHERE id = \(runnerID) AND state = 'running'",
                    on: connection)
            }
        }

        package func deregisterRunner(runnerID: Int64, now: UnixMicros) async throws {
            try await write { connection in
                // The runner's row first (lock order: runners, runs, jobs).
                try await execute("SELECT 1 FROM runners WHERE id = \(runnerID) FOR NO KEY UPDATE", on: connection)
                let leftovers = try await all(
                    """
                    SELECT id FROM runs WHERE runner_id = \(runnerID) AND outcome = 'running' ORDER BY id FOR UPDATE
                    """, on: connection, map: { try $0.int64(0) })
                for runID in leftovers {
                    _ = try await finishOrphan(
                        runID: runID, outcome: .interrupted, error: "the runner stopped during the run", now: now,
                        on: connection)
                }
                try await execute(
                    """
                    UPDATE runners SET state = 'stopped', stopped_at = \(now)
                    WHERE id = \(runnerID) AND state IN ('running', 'draining')
                    """, on: connection)
            }
        }

        // MARK: Rescue

        /// Declares dead the runners whose lease expired (or, with the same host key as `local`, whose
        /// process is gone) and records every run of a runner no longer live `abandoned`.
        ///
        /// Any runner may rescue; there is no leader. Runner rows are taken `FOR NO KEY UPDATE SKIP
        /// LOCKED`: a runner in the middle of a claim holds its own row `FOR SHARE` and is skipped this
        /// round. Orphaned runs are taken `FOR UPDATE SKIP LOCKED`, so two rescuers never record one run
        /// twice, and a late finish by the dead runner waits for the rescue and is then fenced.
        package func rescueOrphans(selfID: Int64?, now: UnixMicros, local: LocalProcesses) async throws -> [Int64] {
            let hostKey = local.host.key
            func isDead(_ runner: (id: Int64, hostKey: String?, pid: Int32, heartbeat: Int64, lease: Int64)) -> Bool {
                runner.heartbeat + runner.lease < now || (runner.hostKey == hostKey && !local.isAlive(runner.pid))
            }
            // A look first, in one statement and without locks: almost always nobody died. Whether a
            // run's runner is gone, then the live runners (one row of NULLs for none). The caller's
            // heartbeat took it a moment ago, in its own statement; else it is taken now.
            let look: [RescueLook]
            if let taken = heartbeatLook, taken.runnerID == selfID, (0...250_000).contains(now - taken.now) {
                heartbeatLook = nil
                look = taken.rows
            } else {
                look = try await read { connection in
                    try await all(
                        PostgresQuery(
                            unsafeSQL:
                                "SELECT \(Self.orphanedSQL), r.* FROM (SELECT 1) AS o LEFT JOIN LATERAL (\(Self.liveRunnersSQL(lock: false))) AS r ON true",
                            binds: Self.liveRunnersBinds(now, selfID)), on: connection
                    ) { row in
                        RescueLook(
                            orphaned: try row.bool(0),
                            runner: try row.optionalInt64(1).map { _ in try Self.liveRunner(row, at: 1) })
                    }
                }
            }
            // Those it does not find dead, and the caller: the runners alive once it is done.
            rescueLiveCount = (now, look.compactMap(\.runner).filter { !isDead($0) }.count + (selfID == nil ? 0 : 1))
            guard look.contains(where: { $0.orphaned || $0.runner.map(isDead) == true }) else { return [] }
            return try await write { connection in
                let runners = try await liveRunnerRows(except: selfID, lock: true, now: now, on: connection)
                let dead = runners.filter(isDead).map(\.id)
                if !dead.isEmpty {
                    try await execute(
                        "UPDATE runners SET state = 'dead', stopped_at = \(now) WHERE id = ANY(\(dead))", on: connection
                    )
                }
                let orphans = try await all(
                    """
                    SELECT r.id, r.pgid, r.pgid_start, n.host_key FROM runs r LEFT JOIN runners n ON n.id = r.runner_id
                    WHERE r.outcome = 'running' AND (n.id IS NULL OR n.state NOT IN ('running', 'draining'))
                    ORDER BY r.id FOR UPDATE OF r SKIP LOCKED
                    """, on: connection
                ) {
                    (
                        id: try $0.int64(0), pgid: try $0.optionalInt64(1), start: try $0.optionalInt64(2),
                        hostKey: try $0.optionalString(3)
                    )
                }
                var abandoned: [Int64] = []
                for orphan in orphans {
                    // What is left of a command of the dead runner on this host is killed before the job
                    // may run again, so that it never runs twice at once.
                    if orphan.hostKey == hostKey {
                        local.killLeftovers(orphan.id, orphan.pgid.map { Int32(truncatingIfNeeded: $0) }, orphan.start)
                    }
                    if try await finishOrphan(
                        runID: orphan.id, outcome: .abandoned, error: "the runner died during the run", now: now,
                        on: connection)
                    {
                        abandoned.append(orphan.id)
                    }
                }
                if !abandoned.isEmpty { try await notifyRunners(on: connection) }
                return abandoned
            }
        }

        /// How many runners are alive: as the rescue's look just counted them when it was at most a
        /// quarter of a second before `now` (a runner's gauge, right after its rescue pass: one round
        /// trip fewer per heartbeat), or counted now.
        package func liveRunnerCount(now: UnixMicros) async throws -> Int {
            if let taken = rescueLiveCount, (0...250_000).contains(now - taken.now) {
                rescueLiveCount = nil
                return taken.count
            }
            return try await read { connection in
                Int(
                    try await first(
                        "SELECT count(*) FROM runners WHERE state IN ('running', 'draining')", on: connection,
                        map: { try $0.int64(0) }) ?? 0)
            }
        }

        /// The live runners but `selfID`; with `lock`, their rows are locked, skipping a runner in the
        /// middle of a claim (it holds its row `FOR SHARE`).
        ///
        /// A runner's lease runs from its last heartbeat, or from the server's start if later: a
        /// restarted server is a reconnect for every runner, and one that starts right after it (so
        /// never saw it fail) must not judge the others by heartbeats they could not send while it was
        /// down. A start later than `now` (only a test's clock is that far behind the server's) is
        /// ignored.
        private func liveRunnerRows(
            except selfID: Int64?, lock: Bool, now: UnixMicros, on connection: PostgresConnection
        ) async throws -> [LiveRunner] {
            try await all(
                PostgresQuery(unsafeSQL: Self.liveRunnersSQL(lock: lock), binds: Self.liveRunnersBinds(now, selfID)),
                on: connection
            ) { try Self.liveRunner($0, at: 0) }
        }

        typealias LiveRunner = (id: Int64, hostKey: String?, pid: Int32, heartbeat: Int64, lease: Int64)

        /// One row of the rescue's look: whether some run's runner is gone (the same in every row),
        /// and one live runner, if any.
        typealias RescueLook = (orphaned: Bool, runner: LiveRunner?)

        /// Whether a run in flight belongs to a runner that is no longer live: the rescue's look.
        static let orphanedSQL = """
            EXISTS (SELECT 1 FROM runs r LEFT JOIN runners n ON n.id = r.runner_id \
            WHERE r.outcome = 'running' AND (n.id IS NULL OR n.state NOT IN ('running', 'draining'))) AS orphaned
            """

        /// The statement of ``liveRunnerRows(except:lock:now:on:)``, with `$1` for now and `$2` for
        /// the caller's id: the same text in the rescue's look, where it is a lateral subquery.
        static func liveRunnersSQL(lock: Bool) -> String {
            """
            SELECT id, host_key, pid,
                CASE WHEN s.started_us <= $1 THEN GREATEST(heartbeat_at, s.started_us) ELSE heartbeat_at END,
                lease_us
            FROM runners, (SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::bigint AS started_us) s
            WHERE state IN ('running', 'draining') AND id <> $2
            \(lock ? "ORDER BY id FOR NO KEY UPDATE OF runners SKIP LOCKED" : "")
            """
        }

        /// The values of ``liveRunnersSQL(lock:)``'s `$1` and `$2`.
        static func liveRunnersBinds(_ now: UnixMicros, _ selfID: Int64?) -> PostgresBindings {
            var binds = PostgresBindings(capacity: 2)
            binds.append(now)
            binds.append(selfID ?? 0)
            return binds
        }

        static func liveRunner(_ row: PostgresStoreRow, at offset: Int) throws -> LiveRunner {
            (
                id: try row.int64(offset), hostKey: try row.optionalString(offset + 1),
                pid: Int32(truncatingIfNeeded: try row.int64(offset + 2)), heartbeat: try row.int64(offset + 3),
                lease: try row.int64(offset + 4)
            )
        }

        package func releaseUnknownRuns(_ runIDs: [Int64], runnerID: Int64, now: UnixMicros) async throws -> [Int64] {
            try await write { connection in
                // Locked in id order, as finishes take them, and only while still this runner's.
                let held = try await all(
                    """
                    SELECT id FROM runs WHERE id = ANY(\(runIDs)) AND runner_id = \(runnerID) AND outcome = 'running'
                    ORDER BY id FOR UPDATE
                    """, on: connection, map: { try $0.int64(0) })
                var released: [Int64] = []
                for id in held
                where try await finishOrphan(
                    runID: id, outcome: .interrupted, error: Heartbeat.unknownRunError, now: now, on: connection)
                {
                    released.append(id)
                }
                return released
            }
        }

        /// Records a run interrupted or abandoned from its own row (its runner is not there to do it).
        func finishOrphan(
            runID: Int64, outcome: RunOutcome, error: String, now: UnixMicros, on connection: PostgresConnection
        )
            async throws -> Bool
        {
            guard
                let run = try await first(
                    """
                    SELECT job_id, job_name, attempt, scheduled_for, started_at, runner_id, triggered
                    FROM runs WHERE id = \(runID)
                    """, on: connection,
                    map: {
                        FinishedRun(
                            runID: runID, runnerID: try $0.int64(5), jobID: try $0.optionalInt64(0),
                            jobName: try $0.string(1), attempt: try $0.int(2), scheduledFor: try $0.int64(3),
                            startedAt: try $0.int64(4), triggered: try $0.bool(6), outcome: outcome, finishedAt: now,
                            error: error)
                    })
            else { return false }
            return try await record(run, on: connection)
        }
    }
#endif
