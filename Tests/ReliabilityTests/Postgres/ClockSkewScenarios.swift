#if PostgreSQL
    import Foundation
    import TestSupport
    import Testing

    extension ReliabilityOnPostgres {
        /// N5: hosts whose wall clocks disagree agree all the same, since on PostgreSQL every scheduling time
        /// is the database server's (README "Several hosts: PostgreSQL", issue 11). Three runner processes
        /// share one database: one with the true time, one 5 minutes fast and one 5 minutes slow, skewed by
        /// libfaketime (Debian's `faketime`; `.ci/run` installs it). Without libfaketime the scenario fails:
        /// it is never skipped.
        ///
        /// Judged through psql and files, never through the product's code: the runs' server-side times,
        /// the runners' heartbeats against the server's `clock_timestamp()`, and a witness command that
        /// writes the true time (read by a `date` outside the skew) and its own skewed time.
        @Suite("N5. clock skew")
        struct ClockSkew {
            /// The skew of the fast and the slow host.
            static let skew = 300

            /// A short lease, so that the lease is renewed and judged many times during the scenario.
            static let runnerFlags = [
                "--lease", "3s", "--heartbeat", "500ms", "--concurrency", "4", "--log-format", "json",
            ]
            static let lease: Int64 = 3_000_000

            /// How far the scenario's own time brackets may be off: the server's clock is this host's, the
            /// product's clock (local + measured offset) is behind it by at most a round trip, and a process
            /// start on a loaded machine is slow. A skew of 300 s is 1,200 times this.
            static let tolerance: Int64 = 250_000

            @Test(
                "N5. runners 5 minutes fast and slow run nothing early or late, and declare nobody dead",
                .timeLimit(ChaosMode.timeLimit(short: 4))
            )
            func skewedRunners() async throws {
                let faketime = try Self.libfaketime()
                let okRunsPerHost = ChaosMode.count(short: 25, long: 600)
                let cronRuns = ChaosMode.count(short: 6, long: 60)
                try await Sandbox.with("pg-clock-skew", store: .postgres) { sandbox in
                    let library = try await Self.timerShim(in: sandbox) + ":" + faketime
                    let hosts = [
                        SkewedHost(name: "unskewed", seconds: 0, library: library),
                        SkewedHost(name: "fast", seconds: Self.skew, library: library),
                        SkewedHost(name: "slow", seconds: -Self.skew, library: library),
                    ]
                    let log = sandbox.root + "/witness.log"
                    let stamps = sandbox.root + "/stamps.log"
                    let witness = try Self.writeWitness(in: sandbox)
                    let started = ContinuousClock.now

                    // Positive controls: the skew applies to these processes' wall clock (C and Swift's
                    // clock_gettime(CLOCK_REALTIME), as jobctl's SystemJobClock reads it), and only to it.
                    var skewSeen: [String] = []
                    for host in hosts {
                        skewSeen.append(try await Self.checkSkewApplies(host, sandbox))
                    }

                    // Periodic jobs, added from every host before any runner starts: their first time is
                    // the server's now + 200 ms whichever host added them.
                    var acknowledged: Set<String> = []
                    var witnessed: Set<String> = []
                    for index in 0..<10 {
                        let host = hosts[index % 3]
                        let name = index < 6 ? "tick-\(index)" : "cmd-\(index)"
                        let action = index < 6 ? ["--handler", "tick"] : ["--", witness, log, stamps]
                        let (before, after) = try await host.add(sandbox, ["add", name, "--every", "200ms"] + action)
                        let next = try #require(try sandbox.probe().job(named: name)?.nextRunAt)
                        #expect(
                            next >= before - Self.tolerance && next <= after + 200_000 + Self.tolerance,
                            "\(name), added every 200ms by the \(host.name) host between \(before) and \(after), is first due at \(next)"
                        )
                        acknowledged.insert(name)
                        if index >= 6 { witnessed.insert(name) }
                    }
                    let cron = "cron-every-second"
                    do {
                        let (before, after) = try await hosts[2].add(
                            sandbox, ["add", cron, "--cron", "* * * * * *", "--", witness, log, stamps])
                        let next = try #require(try sandbox.probe().job(named: cron)?.nextRunAt)
                        #expect(
                            next % 1_000_000 == 0 && next > before - Self.tolerance
                                && next <= after + 1_000_000 + Self.tolerance,
                            "the cron job added by the slow host between \(before) and \(after) is first due at \(next)"
                        )
                        acknowledged.insert(cron)
                        witnessed.insert(cron)
                    }

                    // The three runners, one per host.
                    var runners: [RunnerProcess] = []
                    var spawnedAt: [Int64] = []
                    for host in hosts {
                        spawnedAt.append(wallClockMicros())
                        let child = try host.start(
                            sandbox, ["--db", sandbox.database, "run", "--keep-history", "off"] + Self.runnerFlags,
                            label: "jobctl-run-\(host.name)")
                        runners.append(RunnerProcess(child: child, db: sandbox.database))
                    }
                    var runnerIDs: [Int64] = []
                    for runner in runners { runnerIDs.append(try await runner.waitRegistered()) }
                    let hostOf = Dictionary(uniqueKeysWithValues: zip(runnerIDs, hosts.map(\.name)))
                    let psql = Psql(url: sandbox.database)
                    let allRegistered = try psql.int("SELECT max(started_at) FROM runners")

                    // One-shots `--in 2s` from every host while the runners work: due 2 s after the add by the
                    // server's clock, whichever host's clock says what.
                    var oneShots: [OneShot] = []
                    for host in hosts {
                        for number in 1...2 {
                            let name = "once-\(host.name)-\(number)"
                            let (before, after) = try await host.add(
                                sandbox, ["add", name, "--in", "2s", "--", witness, log, stamps])
                            let next = try #require(try sandbox.probe().job(named: name)?.nextRunAt)
                            #expect(
                                next >= before + 2_000_000 - Self.tolerance
                                    && next <= after + 2_000_000 + Self.tolerance,
                                "\(name), added --in 2s by the \(host.name) host between \(before) and \(after), is due at \(next)"
                            )
                            oneShots.append(
                                OneShot(name: name, host: host.name, addedBefore: before, addedAfter: after))
                            acknowledged.insert(name)
                            witnessed.insert(name)
                        }
                    }

                    // The runners work until each has its share of runs, the cron job has run every second
                    // for a while and the one-shots are done; meanwhile every runner's heartbeat, as the
                    // server sees it, is younger than the lease (a skewed clock in the lease math would put
                    // it 5 minutes in the past or the future) and no runner is declared anything but running.
                    var heartbeatAge: [String: (min: Int64, max: Int64)] = [:]
                    var samples = 0
                    var notRunning: [String] = []
                    try await waitUntil(
                        "each runner has \(okRunsPerHost) ok runs, the cron job \(cronRuns) and the one-shots are done",
                        timeout: ChaosMode.span(short: .seconds(120), long: .seconds(900)),
                        interval: .milliseconds(250)
                    ) {
                        for row in try psql.rows(
                            """
                            SELECT id, state, heartbeat_at, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                            FROM runners ORDER BY id
                            """)
                        {
                            let id = row[0].int ?? -1
                            guard let host = hostOf[id] else {
                                notRunning.append("an unknown runner \(id) registered (\(row[1]))")
                                continue
                            }
                            if row[1].string != "running" { notRunning.append("\(host) runner \(id) is \(row[1])") }
                            let age = (row[3].int ?? 0) - (row[2].int ?? 0)
                            let known = heartbeatAge[host] ?? (age, age)
                            heartbeatAge[host] = (min(known.min, age), max(known.max, age))
                        }
                        samples += 1
                        guard notRunning.isEmpty else { return true }
                        let okByRunner = Dictionary(
                            uniqueKeysWithValues: try psql.rows(
                                "SELECT runner_id, count(*) FROM runs WHERE outcome = 'ok' GROUP BY runner_id"
                            ).map { ($0[0].int ?? -1, $0[1].int ?? 0) })
                        let cronDone = try sandbox.probe().runCount(job: cron, outcome: "ok")
                        let oneShotsDone = try oneShots.allSatisfy {
                            try sandbox.probe().job(named: $0.name)?.state == "done"
                        }
                        return runnerIDs.allSatisfy { okByRunner[$0, default: 0] >= okRunsPerHost }
                            && cronDone >= cronRuns && oneShotsDone
                    }
                    #expect(notRunning.isEmpty, "runners not running during the scenario: \(notRunning.prefix(5))")
                    for host in hosts {
                        let age = heartbeatAge[host.name] ?? (.min, .max)
                        #expect(
                            age.min >= -1000 && age.max < Self.lease,
                            "the \(host.name) runner's heartbeat, by the server's clock, was between \(age.min / 1000) and \(age.max / 1000) ms old (the lease is 3 s)"
                        )
                    }

                    // A drain from the slow host ends every runner; then the judges.
                    let drainedAt = wallClockMicros()
                    let judged = try await Self.drainAndJudge(
                        from: hosts[2], sandbox, runners: runners, hosts: hosts, acknowledged: acknowledged, log: log,
                        witnessed: witnessed)
                    let (endedAt, runs, runByID) = (judged.endedAt, judged.runs, judged.runByID)

                    // Nobody was declared dead: the runners are the three that started, all stopped cleanly.
                    let stored = try sandbox.probe().runners()
                    let warnings = Self.expectNobodyDeclaredDead(
                        stored, runnerIDs: runnerIDs, runners: runners, hosts: hosts)
                    for (runner, host) in zip(runners, hosts) {
                        let lines = runner.child.stderr.split(separator: "\n").map(String.init)
                        // Positive control: the runner process itself read the skewed time (its log lines
                        // carry Foundation's Date(), from clock_gettime(CLOCK_REALTIME)).
                        let times = lines.compactMap { JSONText.object($0)?["time"] as? String }.compactMap(Self.micros)
                        #expect(!times.isEmpty, "the \(host.name) runner logged lines with a time")
                        let index = hosts.firstIndex { $0.name == host.name } ?? 0
                        let low = spawnedAt[index] + host.micros - 1_000_000
                        let high = endedAt + host.micros + 1_000_000
                        let outside = times.filter { $0 < low || $0 > high }
                        #expect(
                            outside.isEmpty,
                            "the \(host.name) runner's log times are not its clock skewed by \(host.seconds) s: \(outside.prefix(3)) outside \(low)...\(high)"
                        )
                    }

                    // Lateness by the server's times, per runner, once all three were registered (before,
                    // the jobs added first had been waiting for a runner). No run started early (invariant 6).
                    var lateness: [String: String] = [:]
                    for host in hosts {
                        let ids = Set(hostOf.filter { $0.value == host.name }.keys)
                        let values = runs.filter {
                            ids.contains($0.runnerID ?? -1) && !$0.triggered && $0.scheduledFor >= allRegistered
                        }.map { $0.startedAt - $0.scheduledFor }.sorted()
                        #expect(values.count >= okRunsPerHost / 2, "the \(host.name) runner ran \(values.count) runs")
                        let p50 = Self.percentile(values, 0.5)
                        let p99 = Self.percentile(values, 0.99)
                        let maximum = values.last ?? 0
                        #expect(
                            (values.first ?? 0) >= 0 && p50 < 500_000 && maximum < 5_000_000,
                            "the \(host.name) runner's lateness: min \(values.first ?? 0) µs, p50 \(p50) µs, max \(maximum) µs"
                        )
                        lateness[host.name] = "\(Self.ms(p50))/\(Self.ms(p99))/\(Self.ms(maximum))"
                    }

                    // The witness stamps: the true time each command began (a `date` outside the skew) is never
                    // before its occurrence, and after the run's recorded start by little; the command's own
                    // clock is its runner's host's, skewed (positive control for the runners' children).
                    var stampsByHost: [String: Int] = [:]
                    var witnessLateness: Int64 = 0
                    var trueBegin: [Int64: Int64] = [:]
                    let stampLines = (try? String(contentsOfFile: stamps, encoding: .utf8)) ?? ""
                    for line in stampLines.split(separator: "\n") {
                        let fields = line.split(separator: " ").compactMap { Int64($0) }
                        guard fields.count == 3, let run = runByID[fields[0]], let host = hostOf[run.runnerID ?? -1],
                            let skew = hosts.first(where: { $0.name == host })?.micros
                        else {
                            Issue.record("a witness stamp of no known run: \(line)")
                            continue
                        }
                        let (real, own) = (fields[1], fields[2])
                        trueBegin[run.id] = real
                        stampsByHost[host, default: 0] += 1
                        witnessLateness = max(witnessLateness, real - run.scheduledFor)
                        #expect(
                            real >= run.scheduledFor,
                            "run \(run.id) of \(run.job) (\(host) runner) began at \(real), before its time \(run.scheduledFor)"
                        )
                        #expect(
                            real >= run.startedAt && real - run.startedAt < 5_000_000,
                            "run \(run.id) of \(run.job) (\(host) runner) is recorded started at \(run.startedAt), its command began at \(real)"
                        )
                        #expect(
                            abs(own - real - skew) < 2_000_000,
                            "run \(run.id)'s command, on the \(host) host, read \(own) for the true \(real)")
                    }
                    for host in hosts {
                        #expect(stampsByHost[host.name, default: 0] > 0, "the \(host.name) runner ran witness commands")
                    }

                    // The one-shots ran about 2 s after their add, whichever host added them.
                    var oneShotDelay: [String: Double] = [:]
                    for shot in oneShots {
                        let run = runs.first { $0.job == shot.name }
                        let begin = run.flatMap { trueBegin[$0.id] }
                        guard let begin else {
                            Issue.record("one-shot \(shot.name) has no witnessed run: \(String(describing: run))")
                            continue
                        }
                        #expect(
                            begin >= shot.addedBefore + 2_000_000 - Self.tolerance
                                && begin <= shot.addedAfter + 2_000_000 + 5_000_000,
                            "\(shot.name), added --in 2s by the \(shot.host) host between \(shot.addedBefore) and \(shot.addedAfter), began at \(begin)"
                        )
                        oneShotDelay[shot.host] = max(
                            oneShotDelay[shot.host] ?? 0, Double(begin - shot.addedBefore) / 1e6)
                    }

                    // The cron job ran on whole seconds of the server's clock.
                    let cronTimes = runs.filter { $0.job == cron }.map(\.scheduledFor)
                    #expect(
                        cronTimes.count >= cronRuns && cronTimes.allSatisfy { $0 % 1_000_000 == 0 }
                            && Set(cronTimes).count == cronTimes.count,
                        "the cron job's occurrences: \(cronTimes.prefix(10))")

                    let perHost = hosts.map { host in
                        runs.filter { hostOf[$0.runnerID ?? -1] == host.name }.count
                    }
                    Figures.report(
                        StoreKind.postgres.figures("N5 clock skew"),
                        [
                            "skew_seen_s": skewSeen.joined(separator: "/"),
                            "seconds": (ContinuousClock.now - started).seconds,
                            "worked_s": Double(drainedAt - allRegistered) / 1e6,
                            "runs": runs.count, "runs_per_host": perHost.map(String.init).joined(separator: "/"),
                            "lateness_ms_unskewed": lateness["unskewed"] ?? "",
                            "lateness_ms_fast": lateness["fast"] ?? "", "lateness_ms_slow": lateness["slow"] ?? "",
                            "witness_lateness_ms_max": Self.ms(witnessLateness),
                            "heartbeat_age_ms_max": hosts.map { Self.ms(heartbeatAge[$0.name]?.max ?? 0) }
                                .joined(separator: "/"),
                            "heartbeat_samples": samples,
                            "oneshot_delay_s": hosts.map { String(format: "%.2f", oneShotDelay[$0.name] ?? 0) }
                                .joined(separator: "/"),
                            "cron_runs": cronTimes.count, "smallest_gap_ms": Self.ms(judged.smallestGap),
                            "declared_dead": stored.filter { $0.state == "dead" }.count,
                            "abandoned": runs.filter { $0.outcome == "abandoned" }.count, "warnings": warnings,
                            "command_executions": judged.witness.executions, "lost": judged.witness.lost.count,
                            "duplicated": judged.witness.duplicated.count + judged.claimedTwice,
                            "overlapping": judged.witness.overlapping.count + judged.overlaps,
                            "violations": judged.invariants.violations.count,
                        ])
                }
            }

            // MARK: Skew

            /// libfaketime preloaded directly (not through the shell, see ``SkewedHost``) moves `environ`,
            /// and Swift then finds no arguments at all: jobctl refuses in one line (exit 64) instead of
            /// trapping, and does nothing.
            @Test("jobctl that cannot find its own arguments refuses in one line instead of trapping")
            func noArgumentsFound() async throws {
                let faketime = try Self.libfaketime()
                try await Sandbox.with("pg-no-arguments", store: .postgres) { sandbox in
                    let child = try sandbox.spawn(
                        sandbox.jobctlPath, [Array("list".utf8)],
                        environment: ["LD_PRELOAD": faketime, "FAKETIME": "+0s", "FAKETIME_SHARED": nil],
                        label: "no-arguments")
                    sandbox.onCleanup {
                        for path in ["/dev/shm/faketime_shm_\(child.pid)", "/dev/shm/sem.faketime_sem_\(child.pid)"] {
                            try? FileManager.default.removeItem(atPath: path)
                        }
                    }
                    guard await child.waitForExit(timeout: .seconds(60)) else {
                        child.killAndReap()
                        throw HarnessError("jobctl under libfaketime did not exit within 60 s")
                    }
                    let result = child.result()
                    #expect(result.status == .exited(64), "\(result)")
                    #expect(result.stderrLines.count == 1, "\(result)")
                    #expect(result.stderr.contains("cannot read the command line"), "\(result)")
                }
            }

            /// Expects the runners at the end to be the three that registered, all stopped cleanly, none of
            /// them having logged a fence, a rescue or a new registration. Returns how many warnings and
            /// errors they logged.
            static func expectNobodyDeclaredDead(
                _ stored: [StoredRunner], runnerIDs: [Int64], runners: [RunnerProcess], hosts: [SkewedHost]
            ) -> Int {
                #expect(
                    stored.count == 3 && Set(stored.map(\.id)) == Set(runnerIDs)
                        && stored.allSatisfy { $0.state == "stopped" },
                    "runners at the end: \(stored)")
                var warnings = 0
                for (runner, host) in zip(runners, hosts) {
                    let lines = runner.child.stderr.split(separator: "\n").map(String.init)
                    for needle in [
                        "self-fencing", "dead runners", "registering again", "declaring no other runner dead",
                    ] {
                        let found = lines.filter { $0.contains(needle) }
                        #expect(found.isEmpty, "the \(host.name) runner logged \"\(needle)\": \(found.prefix(2))")
                    }
                    warnings +=
                        lines.filter { $0.contains(#""level":"warning""#) || $0.contains(#""level":"error""#) }.count
                }
                return warnings
            }

            /// What ``drainAndJudge(from:_:runners:hosts:acknowledged:log:witnessed:)`` found.
            struct Judged {
                var endedAt: Int64
                var invariants: InvariantReport
                var witness: WitnessReport
                var runs: [StoredRun]
                var runByID: [Int64: StoredRun]
                /// Occurrences claimed more than once.
                var claimedTwice: Int
                var overlaps: Int
                var smallestGap: Int64
            }

            /// Drains every runner with `jobctl drain` from `host` and expects each to exit 0; then judges
            /// what they did: the invariants, the witness log, every run `ok`, each occurrence claimed
            /// once, and no two runs of one job at once (``expectNoOverlap(_:runners:hosts:)``).
            static func drainAndJudge(
                from host: SkewedHost, _ sandbox: Sandbox, runners: [RunnerProcess], hosts: [SkewedHost],
                acknowledged: Set<String>, log: String, witnessed: Set<String>
            ) async throws -> Judged {
                let drain = try await host.run(
                    sandbox, ["--db", sandbox.database, "drain", "--json", "--timeout", "60s"],
                    timeout: .seconds(90))
                #expect(drain.status == .exited(0), "drain from the \(host.name) host: \(drain)")
                for (runner, host) in zip(runners, hosts) {
                    let status = try await runner.child.wait(timeout: .seconds(60))
                    #expect(
                        status == .exited(0),
                        "the \(host.name) runner after the drain: \(runner.child.transcript())")
                }
                let endedAt = wallClockMicros()

                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                let runs = try sandbox.probe().runs()
                let notOK = runs.filter { $0.outcome != "ok" }
                #expect(notOK.isEmpty, "runs that did not end ok: \(notOK.prefix(5))")
                // Each occurrence claimed once (whatever its outcome).
                let claims = Dictionary(grouping: runs.filter { !$0.triggered }) {
                    "\($0.job) @ \($0.scheduledFor)"
                }.filter { $0.value.count > 1 }
                #expect(claims.isEmpty, "occurrences claimed more than once: \(claims.keys.sorted().prefix(5))")
                let (overlaps, smallestGap) = expectNoOverlap(runs, runners: runners, hosts: hosts.map(\.name))
                return Judged(
                    endedAt: endedAt, invariants: invariants, witness: witness, runs: runs,
                    runByID: Dictionary(uniqueKeysWithValues: runs.map { ($0.id, $0) }), claimedTwice: claims.count,
                    overlaps: overlaps.count, smallestGap: smallestGap)
            }

            /// Expects no two runs of one job at once by their recorded times (the runners' reading of the
            /// server's clock), and every runner to have logged how well it reads that clock. Returns the
            /// overlaps and the smallest gap between a run's finish and the next start of its job.
            ///
            /// A run's recorded start is its runner's clock read before its claim reached the server, so
            /// it may precede the previous run's recorded finish, by another runner, by that runner's
            /// clock window (logged at start, `clock.within_us`: the store's clock is behind the server's
            /// by at most that) plus the claim's way to the server (a pool wait and a round trip, long on
            /// a loaded machine): ``tolerance`` covers both. The true time of each command's execution is
            /// judged by the witness, on one clock.
            static func expectNoOverlap(
                _ runs: [StoredRun], runners: [RunnerProcess], hosts: [String]
            ) -> (overlaps: [String], smallestGap: Int64) {
                for (runner, host) in zip(runners, hosts) {
                    // The line at start; a later notice that the server's clock moved carries a window too.
                    let windows = runner.child.stderr.split(separator: "\n").compactMap { line in
                        JSONText.object(String(line)).flatMap {
                            $0["message"] as? String == "measured the database server's clock"
                                ? $0["clock.within_us"] as? String : nil
                        }
                    }.compactMap { Int64($0) }
                    #expect(
                        windows.count == 1 && windows.allSatisfy { $0 >= 0 && $0 < tolerance },
                        "the \(host) runner's logged window on the server's clock: \(windows) µs")
                }
                var overlaps: [String] = []
                var smallestGap = Int64.max
                for (job, ofJob) in Dictionary(grouping: runs, by: \.job) {
                    let sorted = ofJob.sorted { $0.startedAt < $1.startedAt }
                    for (previous, next) in zip(sorted, sorted.dropFirst()) {
                        let gap = next.startedAt - (previous.finishedAt ?? .max)
                        smallestGap = min(smallestGap, gap)
                        if gap < -tolerance {
                            overlaps.append(
                                "\(job): run \(next.id) began \(-gap / 1000) ms before run \(previous.id) ended")
                        }
                    }
                }
                #expect(overlaps.isEmpty, "runs of one job at once, by the server's times: \(overlaps.prefix(5))")
                return (overlaps, smallestGap)
            }

            /// libfaketime's preload library (Debian's `faketime` package), or a failure saying how to get it.
            static func libfaketime() throws -> String {
                let candidates = [
                    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                ]
                guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                    throw HarnessError(
                        "libfaketime is missing (apt-get install faketime): the clock-skew scenario needs it, and is not skipped without it"
                    )
                }
                return found
            }

            /// A preload library that puts `timerfd_settime` back to the system call, to be loaded before
            /// libfaketime: libfaketime 0.9.10 shifts the absolute deadlines of every timerfd by its offset,
            /// CLOCK_MONOTONIC ones too (FAKETIME_DONT_FAKE_MONOTONIC or not), and libdispatch, which runs
            /// Swift's `Task.sleep`, arms its monotonic timers so: 5 minutes slow, every sleep lasts 5
            /// minutes longer (a runner stalls, `jobctl drain` never ends); 5 minutes fast, every timer fires
            /// at once. A host with a skewed wall clock has true timers, so the scenario keeps them true.
            static func timerShim(in sandbox: Sandbox) async throws -> String {
                let source = sandbox.root + "/timerfd-shim.c"
                let library = sandbox.root + "/timerfd-shim.so"
                try """
                #define _GNU_SOURCE
                #include <sys/syscall.h>
                #include <unistd.h>
                struct itimerspec;
                int timerfd_settime(int fd, int flags, const struct itimerspec *value, struct itimerspec *old) {
                    return (int)syscall(SYS_timerfd_settime, fd, flags, value, old);
                }

                """.write(toFile: source, atomically: true, encoding: .utf8)
                let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
                let compiler = ["clang", "cc", "gcc"].lazy.flatMap { name in
                    path.split(separator: ":").map { "\($0)/\(name)" }
                }.first { FileManager.default.isExecutableFile(atPath: $0) }
                guard let compiler else {
                    throw HarnessError("no C compiler (clang, cc or gcc) on PATH to build the timerfd shim")
                }
                let built = try await sandbox.run(
                    executable: compiler, ["-shared", "-fPIC", "-O2", "-o", library, source], label: "cc-shim")
                guard built.status == .exited(0) else { throw HarnessError("building the timerfd shim: \(built)") }
                return library
            }

            /// Checks that `host`'s skew applies to a process's wall clock and to nothing else (the monotonic
            /// clock is the true one), and to jobctl's SystemJobClock; returns the skew seen, in seconds.
            static func checkSkewApplies(_ host: SkewedHost, _ sandbox: Sandbox) async throws -> String {
                // A probe in C underneath: Python's time.time() and time.monotonic() are clock_gettime.
                let before = (wall: wallClockMicros(), mono: monotonicMicros())
                let probe = try await host.run(
                    sandbox,
                    ["python3", "-c", "import time; print(time.time_ns() // 1000, time.monotonic_ns() // 1000)"],
                    executable: "/usr/bin/env")
                let after = (wall: wallClockMicros(), mono: monotonicMicros())
                let values = probe.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int64($0) }
                #expect(
                    probe.status == .exited(0) && values.count == 2,
                    "the clock probe on the \(host.name) host: \(probe)")
                if values.count == 2 {
                    #expect(
                        values[0] - host.micros >= before.wall && values[0] - host.micros <= after.wall,
                        "the \(host.name) host's wall clock read \(values[0]) between the true \(before.wall) and \(after.wall)"
                    )
                    #expect(
                        values[1] >= before.mono && values[1] <= after.mono,
                        "the \(host.name) host's monotonic clock read \(values[1]) between the true \(before.mono) and \(after.mono): FAKETIME_DONT_FAKE_MONOTONIC did not hold"
                    )
                }
                // jobctl's own clock (SystemJobClock: clock_gettime(CLOCK_REALTIME)), in `jobctl next`.
                let start = wallClockMicros()
                let next = try await host.run(sandbox, ["next", "--every", "1h", "--count", "1", "--json"])
                let end = wallClockMicros()
                let occurrences = JSONText.object(next.stdout)?["occurrences"] as? [[String: Any]]
                let first = (occurrences?.first?["at"] as? String).flatMap(Self.micros)
                #expect(next.status == .exited(0) && first != nil, "jobctl next on the \(host.name) host: \(next)")
                guard let first else { return "?" }
                let read = first - 3_600_000_000
                #expect(
                    read - host.micros >= start - 1000 && read - host.micros <= end + 1000,
                    "jobctl on the \(host.name) host read \(read) between the true \(start) and \(end)")
                let seen = Double(read - (start + end) / 2) / 1e6
                return String(format: "%+.0f", seen)
            }

            // MARK: Figures and parsing

            static func percentile(_ sorted: [Int64], _ quantile: Double) -> Int64 {
                guard !sorted.isEmpty else { return 0 }
                let rank = Int((Double(sorted.count - 1) * quantile).rounded(.up))
                return sorted[min(sorted.count - 1, rank)]
            }

            static func ms(_ micros: Int64) -> String {
                micros == .max ? "none" : String(format: "%.1f", Double(micros) / 1000)
            }

            /// An RFC 3339 UTC time as JobRunner writes it (`2026-12-01T12:49:54.920620Z`), in microseconds.
            static func micros(_ text: String) -> Int64? {
                let parts = text.split(separator: ".", maxSplits: 1)
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime]
                let whole = parts.count == 2 ? String(parts[0]) + "Z" : text
                guard let date = formatter.date(from: whole) else { return nil }
                var fraction: Int64 = 0
                if parts.count == 2 {
                    let digits = parts[1].prefix { $0.isNumber }
                    fraction = (Int64(digits.prefix(6).padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0)
                }
                return Int64(date.timeIntervalSince1970.rounded()) * 1_000_000 + fraction
            }

            /// The monotonic clock (CLOCK_MONOTONIC, shared by every process of this machine), in microseconds.
            static func monotonicMicros() -> Int64 {
                var ts = timespec()
                clock_gettime(CLOCK_MONOTONIC, &ts)
                return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
            }

            /// The witness command of this scenario, written into the sandbox: the witness log's `begin` and
            /// `end` lines (`Support/WitnessLog.swift`), and a stamp line `RUN_ID TRUE_US OWN_US` with the true
            /// time (a `date` run without libfaketime) and the command's own (skewed) time.
            static func writeWitness(in sandbox: Sandbox) throws -> String {
                let path = sandbox.root + "/skew-witness"
                let script = """
                    #!/bin/sh
                    # skew-witness LOG STAMPS: the clock-skew scenario's command job (ClockSkewScenarios.swift).
                    log=$1
                    stamps=$2
                    real=$(env -u LD_PRELOAD -u FAKETIME -u FAKETIME_SHARED date +%s%6N)
                    own=$(date +%s%6N)
                    printf 'begin %s %s %s %s %s\\n' "$JOB_NAME" "$JOB_RUN_ID" "$JOB_SCHEDULED_FOR" "$JOB_ATTEMPT" "$$" >>"$log"
                    printf '%s %s %s\\n' "$JOB_RUN_ID" "$real" "$own" >>"$stamps"
                    printf 'end %s %s %s\\n' "$JOB_NAME" "$JOB_RUN_ID" "$$" >>"$log"

                    """
                try script.write(toFile: path, atomically: true, encoding: .utf8)
                try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
                return path
            }
        }
    }

    /// A one-shot job added `--in 2s` by a host, with the true time around its `jobctl add`.
    struct OneShot: Sendable {
        var name: String
        var host: String
        var addedBefore: Int64
        var addedAfter: Int64
    }

    /// A "host" whose wall clock is `seconds` off the true time: its processes run with libfaketime
    /// preloaded (`FAKETIME=+300s`, monotonic clock left alone, timers true through the timerfd shim of
    /// ``ReliabilityOnPostgres/ClockSkew/timerShim(in:)`` loaded first), or without it for 0.
    ///
    /// A skewed process is started through `sh -c 'exec "$0" "$@"'`. libfaketime's constructor, when it
    /// finds no `FAKETIME_SHARED`, creates its shared memory and `setenv`s that variable, which moves
    /// `environ` off the initial stack; Swift on Linux finds `argv` by walking back from `environ`, and
    /// then sees no arguments (`CommandLine.argc` is 0, and jobctl traps). The shell takes that step
    /// instead and hands the variable on, so that jobctl starts with its environment where it was.
    /// The shell's shared memory objects (named by its pid, which `exec` keeps) are removed at clean-up.
    struct SkewedHost: Sendable {
        let name: String
        let seconds: Int
        let library: String
        /// Where the offset is read from instead of `FAKETIME`, if set: libfaketime's
        /// `FAKETIME_TIMESTAMP_FILE`, read again once a second (`FAKETIME_CACHE_DURATION=1`), so that a
        /// test can step the host's wall clock while its processes run (N6). `seconds` is then the
        /// offset the file holds when this value is made.
        var offsetFile: String? = nil

        var micros: Int64 { Int64(seconds) * 1_000_000 }

        /// Whether its processes run with libfaketime.
        var isFaked: Bool { seconds != 0 || offsetFile != nil }

        var environment: [String: String?] {
            guard isFaked else {
                return [
                    "LD_PRELOAD": nil, "FAKETIME": nil, "FAKETIME_SHARED": nil, "FAKETIME_DONT_FAKE_MONOTONIC": nil,
                ]
            }
            if let offsetFile {
                return [
                    "LD_PRELOAD": library, "FAKETIME": nil, "FAKETIME_TIMESTAMP_FILE": offsetFile,
                    "FAKETIME_CACHE_DURATION": "1", "FAKETIME_SHARED": nil, "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                ]
            }
            return [
                "LD_PRELOAD": library, "FAKETIME": (seconds > 0 ? "+" : "") + "\(seconds)s", "FAKETIME_SHARED": nil,
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            ]
        }

        /// The executable and arguments that start `executable arguments` on this host.
        func command(_ executable: String, _ arguments: [String]) -> (String, [[UInt8]]) {
            let argv = isFaked ? ["-c", #"exec "$0" "$@""#, executable] + arguments : arguments
            return (isFaked ? "/bin/sh" : executable, argv.map { Array($0.utf8) })
        }

        /// Removes libfaketime's shared memory objects of a process started here, at clean-up.
        func forget(_ pid: pid_t, in sandbox: Sandbox) {
            guard isFaked else { return }
            sandbox.onCleanup {
                for path in ["/dev/shm/faketime_shm_\(pid)", "/dev/shm/sem.faketime_sem_\(pid)"] {
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
        }

        /// Starts `executable` (jobctl unless given) on this host.
        func start(_ sandbox: Sandbox, _ arguments: [String], executable: String? = nil, label: String) throws
            -> ChildProcess
        {
            let (path, argv) = command(executable ?? sandbox.jobctlPath, arguments)
            let child = try sandbox.spawn(path, argv, environment: environment, label: label)
            forget(child.pid, in: sandbox)
            return child
        }

        /// Runs `executable` (jobctl unless given) on this host to completion.
        func run(
            _ sandbox: Sandbox, _ arguments: [String], executable: String? = nil, timeout: Duration = .seconds(60)
        ) async throws -> ProcessResult {
            let child = try start(
                sandbox, arguments, executable: executable, label: "\(name)-\(arguments.first ?? "")")
            guard await child.waitForExit(timeout: timeout) else {
                child.killAndReap()
                throw HarnessError("`\(child.commandLine.joined(separator: " "))` did not exit within \(timeout)")
            }
            return child.result()
        }

        /// `jobctl add` on this host, which must succeed; returns the true time before and after it.
        func add(_ sandbox: Sandbox, _ arguments: [String]) async throws -> (Int64, Int64) {
            let before = wallClockMicros()
            let result = try await run(sandbox, arguments)
            let after = wallClockMicros()
            guard result.status == .exited(0) else { throw HarnessError("add on the \(name) host: \(result)") }
            return (before, after)
        }
    }
#endif
