#if PostgreSQL
    import TestSupport
    import Testing

    /// The store-neutral scenarios again, on PostgreSQL: each in a database of its own on the test server
    /// (`JOBRUNNER_TEST_POSTGRES_URL`), judged through `psql` by `PostgresProbe` and
    /// `PostgresInvariantChecker`, and by the same witness log. The scenarios are the SQLite suites' own
    /// code, given `.postgres`. The scenarios only a network brings are in `NetworkScenarios.swift`.
    ///
    /// Left out, because they are about the SQLite file itself: 5 (a foreign write lock on the file),
    /// 8 (the file's file system full or read-only), 9 (damaged files, cut write-ahead logs), 11 (file
    /// modes), and the fuzzing of 10e–h (it never reaches a store).
    @Suite("Reliability on PostgreSQL", .serialized)
    struct ReliabilityOnPostgres {
        /// The judges can fail: faults planted in a database (through psql, as a broken store would leave
        /// them) are each reported by the invariant checker and the witness check.
        @Test("0. the invariant checker and the witness check see planted faults")
        func judgesSeePlantedFaults() async throws {
            try await Sandbox.with("pg-judges", store: .postgres) { sandbox in
                for name in ["a", "b"] {
                    try await sandbox.jobctlOK(["add", name, "--every", "1h", "--handler", "tick"])
                }
                let clean = try PostgresInvariantChecker.check(url: sandbox.database, acknowledged: ["a", "b"])
                #expect(clean.violations.isEmpty, "a fresh database: \(clean)")
                try Psql(url: sandbox.database).run(
                    """
                    INSERT INTO runners (host, pid, started_at, heartbeat_at, lease_us, state, concurrency)
                        VALUES ('elsewhere', 1, 0, 0, 10000000, 'dead', 1);
                    -- One occurrence of a recorded ok twice (never witnessed).
                    INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at, outcome)
                        SELECT id, name, 1, 1000, 2000, 3000, 'ok' FROM jobs WHERE name = 'a';
                    INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at, outcome)
                        SELECT id, name, 1, 1000, 2500, 3500, 'ok' FROM jobs WHERE name = 'a';
                    -- A run of b that started before its time, and one left running by a dead runner.
                    INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, finished_at, outcome)
                        SELECT id, name, 1, 5000, 4000, 4500, 'failed' FROM jobs WHERE name = 'b';
                    INSERT INTO runs (job_id, job_name, attempt, scheduled_for, started_at, runner_id, outcome)
                        SELECT j.id, j.name, 1, 6000, 6000, n.id, 'running' FROM jobs j, runners n
                        WHERE j.name = 'b' AND n.host = 'elsewhere';
                    """)
                let report = try PostgresInvariantChecker.check(url: sandbox.database, acknowledged: ["a", "b", "c"])
                let text = report.violations.joined(separator: "\n")
                for expected in [
                    "has 2 ok runs", "before its time", "has no final outcome", "counters of 'a'", "counters of 'b'",
                    "run_totals says 0 ok runs", "running but its job does not know it",
                    "job c was acknowledged to its client but is not in the database",
                ] {
                    #expect(text.contains(expected), "the checker reports \"\(expected)\": \(report)")
                }
                let witness = try WitnessReport.compare(
                    logPath: sandbox.root + "/no-witness.log", probe: sandbox.probe(), jobs: ["a"])
                #expect(witness.lost.count == 2 && witness.duplicated.count == 1, "witness: \(witness)")
            }
        }

        @Test("1. kill -9 storm", .timeLimit(ChaosMode.timeLimit(short: 5)))
        func killStorm() async throws { try await Reliability.KillStorm.killStorm(on: .postgres) }

        @Test("2a. 4 runners × 4 workers on one-shots due at once", .timeLimit(ChaosMode.timeLimit(short: 5)))
        func oneShotsDueAtOnce() async throws {
            try await Reliability.Contention.oneShotsDueAtOnce(on: .postgres)
        }

        @Test("2b. 4 runners × 4 workers on 20 jobs every 5 ms", .timeLimit(ChaosMode.timeLimit(short: 5)))
        func periodicJobsUnderContention() async throws {
            try await Reliability.Contention.periodicJobsUnderContention(on: .postgres)
        }

        @Test("3. 50 concurrent adds while 2 runners write", .timeLimit(ChaosMode.timeLimit(short: 4)))
        func concurrentAdds() async throws { try await Reliability.ManyWriters.concurrentAdds(on: .postgres) }

        @Test("4. pause past the lease (SIGSTOP)", .timeLimit(ChaosMode.timeLimit(short: 4)))
        func pausedPastTheLease() async throws {
            try await Reliability.PausedRunner.pausedPastTheLease(on: .postgres)
        }

        @Test("4b. wake-up race after being declared dead (in-process)", .timeLimit(ChaosMode.timeLimit(short: 3)))
        func wakingUpAfterDeclaredDead() async throws {
            try await Reliability.PausedRunner.wakingUpAfterDeclaredDead(on: .postgres)
        }

        @Test("6a. drain with runs in flight and jobs due", .timeLimit(ChaosMode.timeLimit(short: 3)))
        func drainLetsInFlightRunsFinish() async throws {
            try await Reliability.Drain.drainLetsInFlightRunsFinish(on: .postgres)
        }

        @Test("6b. drain past the grace period (commands)", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func drainPastGraceKillsTrappingCommand() async throws {
            try await Reliability.Drain.drainPastGraceKillsTrappingCommand(on: .postgres)
        }

        @Test("6c. drain past the grace period (handlers, in-process)", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func handlerIgnoringCancellation() async throws {
            try await Reliability.Drain.handlerIgnoringCancellation(on: .postgres)
        }

        @Test("6d. second signal", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func secondSignalStopsAtOnce() async throws {
            try await Reliability.Drain.secondSignalStopsAtOnce(on: .postgres)
        }

        @Test("6e. runner killed with commands running", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func killedRunnerLeavesNoOrphans() async throws {
            try await Reliability.Drain.killedRunnerLeavesNoOrphans(on: .postgres)
        }

        @Test("7. clock jumps (in-process)", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func clockJumps() async throws { try await Reliability.ClockJumps.clockJumps(on: .postgres) }

        @Test("10a. hostile names and payloads", .timeLimit(ChaosMode.timeLimit(short: 3)))
        func namesAndPayloadsRoundTrip() async throws {
            try await Reliability.HostileInput.namesAndPayloadsRoundTrip(on: .postgres)
        }

        @Test("10b. refused input", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func refusedInput() async throws { try await Reliability.HostileInput.refusedInput(on: .postgres) }

        @Test("10. invalid UTF-8", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func invalidUTF8() async throws { try await Reliability.HostileInput.invalidUTF8(on: .postgres) }

        @Test("10c. literal argv", .timeLimit(ChaosMode.timeLimit(short: 2)))
        func literalArguments() async throws { try await Reliability.HostileInput.literalArguments(on: .postgres) }

        @Test("10d. gigabytes of output", .timeLimit(ChaosMode.timeLimit(short: 3)))
        func gigabytesOfOutput() async throws { try await Reliability.HostileInput.gigabytesOfOutput(on: .postgres) }
    }
#endif
