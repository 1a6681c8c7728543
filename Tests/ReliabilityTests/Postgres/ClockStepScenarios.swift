#if PostgreSQL
    import Foundation
    import TestSupport
    import Testing

    extension ReliabilityOnPostgres {
        /// N6: a step of one host's wall clock while everything runs (an NTP step, an operator's `date -s`),
        /// its monotonic clock left alone. N5 skews hosts before their runners start; here three runner
        /// processes work on one database with the true time until one host's wall clock jumps 5 minutes,
        /// forward or back, under its running runner. libfaketime reads that host's offset from a file
        /// (`FAKETIME_TIMESTAMP_FILE`, read again once a second), which the test rewrites; the monotonic
        /// clocks and timers stay true (`FAKETIME_DONT_FAKE_MONOTONIC=1`, N5's timerfd shim).
        ///
        /// A runner that took the step for the server's time would, until its next measurement of the
        /// server's clock (every 30 s), claim jobs early and declare the others dead (forward), or write
        /// heartbeats that look 5 minutes old and be declared dead (back). The scenario watches for longer
        /// than that window, and judges through psql (against the server's `clock_timestamp()`) and a
        /// witness that stamps the true time, never through the product's code.
        @Suite("N6. clock step")
        struct ClockStep {
            /// How long the scenario goes on after the step at least: longer than the 30 s after which the
            /// store measures its clock's offset again.
            static let watch = ChaosMode.span(short: .seconds(45), long: .seconds(120))

            /// The one-shots' delays, two added from each host just before the step: due from a few seconds
            /// after it to well after the 30 s window.
            static let oneShotDelays = [12, 20, 28, 36, 44, 52]

            /// The claim lead on PostgreSQL (`PostgresJobStore.defaultClaimLead`): a runner claims a run up
            /// to this long before its time, records it as started at its time and starts it then.
            static let claimLead: Int64 = 100_000

            @Test(
                "N6. a step of one host's wall clock by 5 minutes mid-run: nothing early, nobody declared dead",
                .timeLimit(ChaosMode.timeLimit(short: 5)),
                arguments: [300, -300]
            )
            func steppedWallClock(by step: Int) async throws {
                let faketime = try ClockSkew.libfaketime()
                try await Sandbox.with("pg-clock-step", store: .postgres) { sandbox in
                    let library = try await ClockSkew.timerShim(in: sandbox) + ":" + faketime
                    let offsetFile = sandbox.root + "/stepped-offset"
                    try Self.setOffset(0, in: offsetFile)
                    let hosts = [
                        SkewedHost(name: "steady-1", seconds: 0, library: library),
                        SkewedHost(name: "steady-2", seconds: 0, library: library),
                        SkewedHost(name: "stepped", seconds: 0, library: library, offsetFile: offsetFile),
                    ]
                    let steppedHost = SkewedHost(
                        name: "stepped", seconds: step, library: library, offsetFile: offsetFile)
                    let log = sandbox.root + "/witness.log"
                    let stamps = sandbox.root + "/stamps.log"
                    let witness = try ClockSkew.writeWitness(in: sandbox)
                    let started = ContinuousClock.now
                    let psql = Psql(url: sandbox.database)

                    // Positive control before the step: through the file, the host's clocks are the true ones.
                    let skewBefore = try await ClockSkew.checkSkewApplies(hosts[2], sandbox)
                    try await Self.expectClocks(of: hosts[2], sandbox)

                    // The load, added by the test (whose clock is true): ticks and short witness commands
                    // every 200 ms, and N1's long commands (2 s, due every second), spread over the hosts.
                    var acknowledged: Set<String> = []
                    var witnessed: Set<String> = []
                    for index in 0..<4 {
                        try await sandbox.jobctlOK(["add", "tick-\(index)", "--every", "200ms", "--handler", "tick"])
                        acknowledged.insert("tick-\(index)")
                    }
                    for index in 0..<3 {
                        try await sandbox.jobctlOK(
                            ["add", "cmd-\(index)", "--every", "200ms", "--", witness, log, stamps])
                        acknowledged.insert("cmd-\(index)")
                        witnessed.insert("cmd-\(index)")
                    }
                    let long = try await Network.addLongJobs(sandbox, log: log, seconds: 2)
                    acknowledged.formUnion(long)
                    witnessed.formUnion(long)

                    // The three runners, one per host.
                    var runners: [RunnerProcess] = []
                    let spawnedAt = wallClockMicros()
                    for host in hosts {
                        let child = try host.start(
                            sandbox,
                            ["--db", sandbox.database, "run", "--keep-history", "off"] + ClockSkew.runnerFlags,
                            label: "jobctl-run-\(host.name)")
                        runners.append(RunnerProcess(child: child, db: sandbox.database))
                    }
                    var runnerIDs: [Int64] = []
                    for runner in runners { runnerIDs.append(try await runner.waitRegistered()) }
                    // A runner declared dead registers again under a new id from the same process: its host is
                    // its pid's.
                    let hostOfPID = Dictionary(
                        uniqueKeysWithValues: zip(runners.map { Int64($0.pid) }, hosts.map(\.name)))
                    let allRegistered = try psql.int("SELECT max(started_at) FROM runners")

                    // Every runner works before the step, the stepped one with commands among its runs.
                    try await waitUntil(
                        "every runner has 25 ok runs", timeout: .seconds(60), interval: .milliseconds(100)
                    ) {
                        let ok = try Self.okRunsByRunner(psql)
                        return runnerIDs.allSatisfy { ok[$0, default: 0] >= 25 }
                    }

                    // One-shots, two from each host (the stepped one still true), due 12 to 52 s ahead by the
                    // server's clock.
                    var oneShots: [SteppedOneShot] = []
                    for (index, delay) in Self.oneShotDelays.enumerated() {
                        let host = hosts[index % hosts.count]
                        let name = "once-\(host.name)-\(delay)s"
                        let (before, after) = try await host.add(
                            sandbox, ["add", name, "--in", "\(delay)s", "--", witness, log, stamps])
                        let due = try #require(try sandbox.probe().job(named: name)?.nextRunAt)
                        let micros = Int64(delay) * 1_000_000
                        #expect(
                            due >= before + micros - ClockSkew.tolerance && due <= after + micros + ClockSkew.tolerance,
                            "\(name), added --in \(delay)s by the \(host.name) host between \(before) and \(after), is due at \(due)"
                        )
                        oneShots.append(SteppedOneShot(name: name, host: host.name, due: due))
                        acknowledged.insert(name)
                        witnessed.insert(name)
                    }

                    // The step: the stepped host's wall clock moves by `step` seconds, its runner running.
                    let sinceRegistration = Double(wallClockMicros() - allRegistered) / 1e6
                    let stepWall = wallClockMicros()
                    let stepMono = ContinuousClock.now
                    try Self.setOffset(step, in: offsetFile)

                    // Positive controls after it: the runner, which read the true time until now, logs times
                    // stepped by `step` within libfaketime's cache (1 s) of the file; a new process on the host
                    // reads the stepped wall clock and the true monotonic and boot-time clocks (C, and jobctl's
                    // SystemJobClock).
                    try await waitUntil(
                        "the stepped runner logs times stepped by \(step) s", timeout: .seconds(20),
                        interval: .milliseconds(50)
                    ) {
                        Self.logTimes(runners[2]).contains { Self.isStepped($0, by: step, after: stepWall) }
                    }
                    let tookEffect = ContinuousClock.now - stepMono
                    let skewAfter = try await ClockSkew.checkSkewApplies(steppedHost, sandbox)
                    try await Self.expectClocks(of: steppedHost, sandbox)

                    // The watch: for longer than the 30 s re-measurement window, and until every one-shot is
                    // done. Every 250 ms, by the server's clock: no run claimed more than the claim lead (100 ms
                    // on PostgreSQL) before its time, none recorded as started more than that ahead, every
                    // runner `running` under its first id with a heartbeat younger than the lease.
                    let ahead = Self.claimLead + ClockSkew.tolerance
                    var notRunning: Set<String> = []
                    var early: [Int64: String] = [:]
                    var future: [Int64: String] = [:]
                    var heartbeatAge: [String: (min: Int64, max: Int64)] = [:]
                    var samples = 0
                    do {
                        try await waitUntil(
                            "\(Self.watch) after the step, with every one-shot done",
                            timeout: Self.watch + .seconds(90), interval: .milliseconds(250)
                        ) {
                            for row in try psql.rows(
                                """
                                SELECT id, pid, state, heartbeat_at, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                                FROM runners ORDER BY id
                                """)
                            {
                                let id = row[0].int ?? -1
                                let host = hostOfPID[row[1].int ?? -1] ?? "unknown"
                                if !runnerIDs.contains(id) {
                                    notRunning.insert("the \(host) runner registered again as \(id)")
                                }
                                guard row[2].string == "running" else {
                                    notRunning.insert("the \(host) runner \(id) is \(row[2])")
                                    continue
                                }
                                let age = (row[4].int ?? 0) - (row[3].int ?? 0)
                                let known = heartbeatAge[host] ?? (age, age)
                                heartbeatAge[host] = (min(known.min, age), max(known.max, age))
                            }
                            for row in try psql.rows(
                                """
                                SELECT r.id, r.job_name, r.runner_id, r.scheduled_for - s.now, r.started_at - s.now
                                FROM runs r,
                                    (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now) AS s
                                WHERE r.scheduled_for > s.now + :'ahead' OR r.started_at > s.now + :'ahead'
                                """, ["ahead": "\(ahead)"])
                            {
                                let id = row[0].int ?? -1
                                let what = "run \(id) of \(row[1]) by runner \(row[2])"
                                if (row[3].int ?? 0) > ahead {
                                    early[id] = early[id] ?? "\(what), \((row[3].int ?? 0) / 1000) ms before its time"
                                }
                                if (row[4].int ?? 0) > ahead {
                                    future[id] =
                                        future[id]
                                        ?? "\(what), recorded as started \((row[4].int ?? 0) / 1000) ms ahead"
                                }
                            }
                            samples += 1
                            let done = try psql.int(
                                "SELECT count(*) FROM jobs WHERE name LIKE :'prefix' AND state = 'done'",
                                ["prefix": "once-%"])
                            return ContinuousClock.now - stepMono >= Self.watch && done == oneShots.count
                        }
                    } catch {
                        Issue.record("\(error)")
                    }
                    let watched = ContinuousClock.now - stepMono
                    #expect(
                        notRunning.isEmpty, "runners not running after the step: \(notRunning.sorted().prefix(5))")
                    #expect(
                        early.isEmpty,
                        "\(early.count) runs claimed more than the claim lead before their time, by the server's clock: \(early.values.sorted().prefix(5))"
                    )
                    #expect(
                        future.isEmpty,
                        "\(future.count) runs recorded as started in the future: \(future.values.sorted().prefix(5))")
                    for host in hosts {
                        let age = heartbeatAge[host.name] ?? (.min, .max)
                        #expect(
                            age.min >= -1000 && age.max < ClockSkew.lease,
                            "the \(host.name) runner's heartbeat, by the server's clock, was between \(age.min / 1000) and \(age.max / 1000) ms old (the lease is 3 s)"
                        )
                    }

                    // A drain from a steady host ends every runner; then the judges.
                    let judged = try await ClockSkew.drainAndJudge(
                        from: hosts[0], sandbox, runners: runners, hosts: hosts, acknowledged: acknowledged, log: log,
                        witnessed: witnessed)
                    let (endedAt, runs, runByID) = (judged.endedAt, judged.runs, judged.runByID)
                    let probe = try sandbox.probe()

                    // Nobody was declared dead: the runners are the three that started, all stopped cleanly, and
                    // none logged a rescue, a fence or a new registration.
                    let stored = try probe.runners()
                    let hostOf = Dictionary(
                        uniqueKeysWithValues: stored.map { ($0.id, hostOfPID[$0.pid] ?? "unknown") })
                    let steppedIDs = Set(hostOf.filter { $0.value == "stepped" }.keys)
                    let warnings = ClockSkew.expectNobodyDeclaredDead(
                        stored, runnerIDs: runnerIDs, runners: runners, hosts: hosts)

                    // Positive control, the runner itself: its log times are the true ones until the step and
                    // stepped after it, and once stepped they stay so.
                    let times = Self.logTimes(runners[2])
                    let firstStepped = times.firstIndex { Self.isStepped($0, by: step, after: stepWall) }
                    let trueLines = times.filter { $0 >= spawnedAt - 1_000_000 && $0 <= endedAt + 1_000_000 }
                    let steppedLines = times.filter { Self.isStepped($0, by: step, after: stepWall) }
                    #expect(
                        trueLines.count + steppedLines.count == times.count,
                        "the stepped runner logged times neither true nor stepped by \(step) s: \(times.filter { !Self.isStepped($0, by: step, after: stepWall) && ($0 < spawnedAt - 1_000_000 || $0 > endedAt + 1_000_000) }.prefix(3))"
                    )
                    if let firstStepped {
                        let unstepped = times[firstStepped...].filter { !Self.isStepped($0, by: step, after: stepWall) }
                        #expect(
                            unstepped.isEmpty,
                            "the stepped runner logged true times again after the step: \(unstepped.prefix(3))")
                    }
                    #expect((firstStepped ?? 0) > 0, "the stepped runner logged before and after the step")

                    // The witness stamps: the true time each command began is never before its occurrence, and
                    // after the run's recorded start by little; the command's own clock is its host's (stepped
                    // for the stepped runner's commands begun a second after the step).
                    var witnessLateness: Int64 = 0
                    var trueBegin: [Int64: Int64] = [:]
                    var steppedCommands = 0
                    var (beganEarly, recordedOff, ownClockOff, unknown): ([String], [String], [String], [String]) = (
                        [], [], [], []
                    )
                    let stampLines = (try? String(contentsOfFile: stamps, encoding: .utf8)) ?? ""
                    for line in stampLines.split(separator: "\n") {
                        let fields = line.split(separator: " ").compactMap { Int64($0) }
                        guard fields.count == 3, let run = runByID[fields[0]], let host = hostOf[run.runnerID ?? -1]
                        else {
                            unknown.append(String(line))
                            continue
                        }
                        let (real, own) = (fields[1], fields[2])
                        let what = "run \(run.id) of \(run.job) (\(host) runner \(run.runnerID ?? -1))"
                        trueBegin[run.id] = real
                        witnessLateness = max(witnessLateness, real - run.scheduledFor)
                        if real < run.scheduledFor {
                            beganEarly.append("\(what) began \((run.scheduledFor - real) / 1000) ms before its time")
                        }
                        if real < run.startedAt || real - run.startedAt >= 5_000_000 {
                            recordedOff.append(
                                "\(what) is recorded started at \(run.startedAt), its command began at \(real)")
                        }
                        let onStepped = steppedIDs.contains(run.runnerID ?? -1)
                        let stepped = onStepped && real > stepWall + 1_500_000
                        if stepped { steppedCommands += 1 }
                        let unsure = onStepped && abs(real - stepWall) <= 1_500_000
                        if !unsure && abs(own - real - (stepped ? steppedHost.micros : 0)) >= 2_000_000 {
                            ownClockOff.append("\(what)'s command read \(own) for the true \(real)")
                        }
                    }
                    #expect(unknown.isEmpty, "\(unknown.count) witness stamps of no known run: \(unknown.prefix(3))")
                    #expect(
                        beganEarly.isEmpty,
                        "\(beganEarly.count) commands began before their time, by the true clock: \(beganEarly.prefix(5))"
                    )
                    #expect(
                        recordedOff.isEmpty,
                        "\(recordedOff.count) runs recorded as started away from their true start: \(recordedOff.prefix(5))"
                    )
                    #expect(
                        ownClockOff.isEmpty,
                        "\(ownClockOff.count) commands read a clock not their host's: \(ownClockOff.prefix(3))")
                    #expect(steppedCommands > 0, "the stepped runner ran commands after the step")

                    // Every one-shot ran once, from its time on by the true clock, whichever host added it.
                    var oneShotDelay: Int64 = 0
                    for shot in oneShots {
                        let ofShot = runs.filter { $0.job == shot.name }
                        let begin = ofShot.first.flatMap { trueBegin[$0.id] }
                        #expect(
                            ofShot.count == 1 && ofShot.first?.outcome == "ok"
                                && ofShot.first?.scheduledFor == shot.due,
                            "one-shot \(shot.name) (due \(shot.due)) ran as \(ofShot)")
                        guard let begin else {
                            Issue.record("one-shot \(shot.name) has no witnessed run: \(ofShot)")
                            continue
                        }
                        #expect(
                            begin >= shot.due && begin <= shot.due + 5_000_000,
                            "one-shot \(shot.name) from the \(shot.host) host, due \(shot.due), began at \(begin)")
                        oneShotDelay = max(oneShotDelay, begin - shot.due)
                    }

                    // Lateness by the server's times, per runner, once all three were registered; and the
                    // stepped runner kept working after the step.
                    var lateness: [String] = []
                    for host in hosts {
                        let values = runs.filter {
                            hostOf[$0.runnerID ?? -1] == host.name && !$0.triggered && $0.scheduledFor >= allRegistered
                        }
                        .map { $0.startedAt - $0.scheduledFor }.sorted()
                        let maximum = values.last ?? 0
                        #expect(
                            (values.first ?? 0) >= 0 && maximum < 5_000_000,
                            "the \(host.name) runner's lateness: min \(values.first ?? 0) µs, max \(maximum) µs")
                        lateness.append(
                            "\(ClockSkew.ms(ClockSkew.percentile(values, 0.5)))/\(ClockSkew.ms(ClockSkew.percentile(values, 0.99)))/\(ClockSkew.ms(maximum))"
                        )
                    }
                    let steppedAfter = runs.filter {
                        steppedIDs.contains($0.runnerID ?? -1) && $0.outcome == "ok"
                            && $0.startedAt > stepWall + 1_000_000
                    }.count
                    #expect(steppedAfter >= 10, "the stepped runner ran \(steppedAfter) runs after the step")

                    let perHost = hosts.map { host in runs.filter { hostOf[$0.runnerID ?? -1] == host.name }.count }
                    Figures.report(
                        StoreKind.postgres.figures("N6 clock step"),
                        [
                            "step_s": step, "skew_seen_s": "\(skewBefore)/\(skewAfter)",
                            "runner_stepped_after_ms": tookEffect.seconds * 1000,
                            "step_after_registration_s": sinceRegistration,
                            "watched_s": watched.seconds, "seconds": (ContinuousClock.now - started).seconds,
                            "runs": runs.count, "runs_per_host": perHost.map(String.init).joined(separator: "/"),
                            "stepped_ok_after_step": steppedAfter,
                            "stepped_log_lines": "\(trueLines.count)/\(steppedLines.count)",
                            "stepped_commands": steppedCommands,
                            "lateness_ms": lateness.joined(separator: " "),
                            "witness_lateness_ms_max": ClockSkew.ms(witnessLateness),
                            "oneshot_lateness_ms_max": ClockSkew.ms(oneShotDelay),
                            "heartbeat_age_ms": hosts.map {
                                "\(ClockSkew.ms(heartbeatAge[$0.name]?.min ?? 0))..\(ClockSkew.ms(heartbeatAge[$0.name]?.max ?? 0))"
                            }.joined(separator: "/"),
                            "samples": samples, "claimed_early": early.count, "started_in_future": future.count,
                            "commands_began_early": beganEarly.count, "recorded_start_off": recordedOff.count,
                            "registrations": stored.count, "declared_dead": stored.filter { $0.state == "dead" }.count,
                            "abandoned": runs.filter { $0.outcome == "abandoned" }.count, "warnings": warnings,
                            "command_executions": judged.witness.executions, "lost": judged.witness.lost.count,
                            "duplicated": judged.witness.duplicated.count + judged.claimedTwice,
                            "overlapping": judged.witness.overlapping.count + judged.overlaps,
                            "smallest_gap_ms": ClockSkew.ms(judged.smallestGap),
                            "violations": judged.invariants.violations.count,
                        ])
                }
            }

            // MARK: Helpers

            /// Writes libfaketime's offset for the stepped host (`+0`, `+300s`, `-300s`), atomically: its
            /// processes read it at start and again once a second.
            static func setOffset(_ seconds: Int, in file: String) throws {
                let text = seconds == 0 ? "+0" : (seconds > 0 ? "+" : "") + "\(seconds)s"
                try (text + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            }

            /// Whether a time a runner logged is the true time of the step or after it, moved by `step`.
            static func isStepped(_ logged: Int64, by step: Int, after stepWall: Int64) -> Bool {
                let shifted = logged - Int64(step) * 1_000_000
                return shifted >= stepWall - 1_000_000 && shifted <= wallClockMicros() + 1_000_000
            }

            /// The times of a runner's JSON log lines, in the order it wrote them.
            static func logTimes(_ runner: RunnerProcess) -> [Int64] {
                runner.child.stderr.split(separator: "\n").compactMap {
                    (JSONText.object(String($0))?["time"] as? String).flatMap(ClockSkew.micros)
                }
            }

            /// `ok` runs per runner id.
            static func okRunsByRunner(_ psql: Psql) throws -> [Int64: Int64] {
                Dictionary(
                    uniqueKeysWithValues: try psql.rows(
                        "SELECT runner_id, count(*) FROM runs WHERE outcome = 'ok' GROUP BY runner_id"
                    ).map { ($0[0].int ?? -1, $0[1].int ?? 0) })
            }

            /// Checks that a process on `host` reads its wall clock off by the host's offset, and the true
            /// monotonic and boot-time clocks (`ContinuousClock` on Linux, what the store's clock counts
            /// from since `db-clock-monotonic`): libfaketime moves nothing but the wall clock.
            static func expectClocks(of host: SkewedHost, _ sandbox: Sandbox) async throws {
                let before = (
                    wall: wallClockMicros(), mono: ClockSkew.monotonicMicros(), boot: Self.bootTimeMicros()
                )
                let probe = try await host.run(
                    sandbox,
                    [
                        "python3", "-c",
                        "import time; print(time.time_ns() // 1000, time.monotonic_ns() // 1000, time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1000)",
                    ],
                    executable: "/usr/bin/env")
                let after = (wall: wallClockMicros(), mono: ClockSkew.monotonicMicros(), boot: Self.bootTimeMicros())
                let values = probe.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int64($0) }
                guard probe.status == .exited(0) && values.count == 3 else {
                    Issue.record("the clock probe on the \(host.name) host: \(probe)")
                    return
                }
                #expect(
                    values[0] - host.micros >= before.wall && values[0] - host.micros <= after.wall,
                    "the \(host.name) host's wall clock read \(values[0]) between the true \(before.wall) and \(after.wall), offset \(host.seconds) s"
                )
                #expect(
                    values[1] >= before.mono && values[1] <= after.mono,
                    "the \(host.name) host's monotonic clock read \(values[1]) between the true \(before.mono) and \(after.mono)"
                )
                #expect(
                    values[2] >= before.boot && values[2] <= after.boot,
                    "the \(host.name) host's boot-time clock read \(values[2]) between the true \(before.boot) and \(after.boot)"
                )
            }

            /// CLOCK_BOOTTIME, in microseconds.
            static func bootTimeMicros() -> Int64 {
                var ts = timespec()
                clock_gettime(CLOCK_BOOTTIME, &ts)
                return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
            }
        }
    }

    /// A one-shot job added just before the step, and its time by the server's clock.
    struct SteppedOneShot: Sendable {
        var name: String
        var host: String
        var due: Int64
    }
#endif
