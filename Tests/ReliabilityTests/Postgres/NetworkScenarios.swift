#if PostgreSQL
    import Foundation
    import JobRunner
    import TestSupport
    import Testing

    #if canImport(Glibc)
        import Glibc
    #endif

    extension ReliabilityOnPostgres {
        /// What only a network brings: runners on three "hosts" (network, PID, UTS and mount namespaces
        /// of their own) against one server on the veth addresses (`NetworkLab`). Needs root with
        /// CAP_NET_ADMIN; elsewhere skipped with the reason printed.
        @Suite("N. three hosts on a network")
        struct Network {
            /// A short lease (`jobctl run --lease 3s --heartbeat 500ms`), so that a partition or an outage of a
            /// few seconds outlasts it: a runner self-fences when its last heartbeat is older than
            /// lease − 2 × heartbeat (2 s).
            static let lease: Duration = .seconds(3)
            static let heartbeat: Duration = .milliseconds(500)
            static let leaseFlags = ["--lease", "3s", "--heartbeat", "500ms", "--concurrency", "4"]
            /// How long after its last renewal a runner fences itself (the product's `LeaseGuard.fenceAfter`).
            static let fenceAfter = max(lease - heartbeat * 2, lease / 2)

            /// Jobs for every scenario: ticks and short witness commands, always due.
            static func addLoad(_ sandbox: Sandbox, log: String) async throws -> (
                acknowledged: Set<String>, witnessed: Set<String>
            ) {
                var acknowledged: Set<String> = []
                var witnessed: Set<String> = []
                for index in 0..<6 {
                    try await sandbox.jobctlOK(["add", "tick-\(index)", "--every", "20ms", "--handler", "tick"])
                    try await sandbox.addWitnessJob(
                        "cmd-\(index)", schedule: ["--every", "100ms"], log: log, seconds: 0.05)
                    acknowledged.formUnion(["tick-\(index)", "cmd-\(index)"])
                    witnessed.insert("cmd-\(index)")
                }
                return (acknowledged, witnessed)
            }

            /// Three witness commands of `seconds` each, due every second: a runner has one in flight most
            /// of the time.
            /// ``addLoad(_:log:)`` and ``addLongJobs(_:log:seconds:)``, then a runner on every host, each
            /// registered (its id in `ids`): where N1, N3 and N4 start.
            static func startLoadedHosts(
                _ sandbox: Sandbox, _ lab: NetworkLab, log: String, longSeconds: Double = 3
            ) async throws -> (
                acknowledged: Set<String>, witnessed: Set<String>, runners: [ChildProcess], ids: [Int64]
            ) {
                var (acknowledged, witnessed) = try await addLoad(sandbox, log: log)
                let long = try await addLongJobs(sandbox, log: log, seconds: longSeconds)
                acknowledged.formUnion(long)
                witnessed.formUnion(long)
                var runners: [ChildProcess] = []
                for host in 1...lab.hosts {
                    runners.append(try lab.startRunner(host: host, leaseFlags))
                }
                var ids: [Int64] = []
                for (index, runner) in runners.enumerated() {
                    ids.append(try await lab.waitRegistered(runner, host: index + 1))
                }
                return (acknowledged, witnessed, runners, ids)
            }

            static func addLongJobs(_ sandbox: Sandbox, log: String, seconds: Double = 3) async throws -> Set<String> {
                let names = (0..<3).map { "long-\($0)" }
                for name in names {
                    try await sandbox.addWitnessJob(
                        name, schedule: ["--every", "1s", "--delay", "0s"], log: log, seconds: seconds)
                }
                return Set(names)
            }

            /// The runner ids each host registered, and which of them ran `ok` runs.
            static func okRunsByHost(_ lab: NetworkLab) throws -> [Int] {
                let rows = try Psql(url: lab.adminURL).rows(
                    """
                    SELECT n.host, count(*) FROM runs r JOIN runners n ON n.id = r.runner_id
                    WHERE r.outcome = 'ok' GROUP BY n.host
                    """)
                var byHost: [String: Int] = [:]
                for row in rows { byHost[row[0].string ?? ""] = Int(row[1].int ?? 0) }
                return (1...lab.hosts).map { byHost[lab.hostName($0), default: 0] }
            }

            @Test(
                "three hosts share the work; a host's runner killed with SIGKILL is rescued after its lease, not by its pid",
                .timeLimit(ChaosMode.timeLimit(short: 4))
            )
            func threeHosts() async throws {
                let span = ChaosMode.span(short: .seconds(5), long: .seconds(60))
                try await NetworkLab.with("net-three-hosts") { sandbox, lab in
                    let log = sandbox.root + "/witness.log"
                    // Long runs, so that the runner killed below surely has one in flight.
                    let hosts = try await Self.startLoadedHosts(sandbox, lab, log: log)
                    let (acknowledged, witnessed) = (hosts.acknowledged, hosts.witnessed)
                    var runners = hosts.runners
                    try await waitUntil("every host ran command jobs", timeout: .seconds(60)) {
                        try Self.okRunsByHost(lab).allSatisfy { $0 >= 5 }
                    }
                    // The length of the shared work is the scenario's input.
                    try await Task.sleep(for: span)

                    // SIGKILL host 3's runner (its PID namespace goes with it, commands included) while it has
                    // runs in flight. Another host's runner must not rescue them by its pid (the pid means
                    // nothing on another host): only once its lease has run out.
                    let victimID = try #require(try lab.runnerID(host: 3))
                    let probe = try sandbox.probe()
                    // Kill it while one of the 3-s runs is in flight on it; what is still `running` once it is
                    // dead is what a rescue must record (a short run may have finished just before the kill).
                    try await waitUntil(
                        "host 3 has a long run in flight", timeout: .seconds(30), interval: .milliseconds(20)
                    ) {
                        try probe.runs().contains {
                            $0.runnerID == victimID && $0.outcome == "running" && $0.job.hasPrefix("long-")
                        }
                    }
                    runners[2].signal(SIGKILL)
                    _ = try await runners[2].wait(timeout: .seconds(10))
                    let inFlight = try probe.runs().filter { $0.runnerID == victimID && $0.outcome == "running" }.map(
                        \.id)
                    #expect(!inFlight.isEmpty, "host 3 was killed with runs in flight")
                    let killedAt = ContinuousClock.now
                    try await waitUntil(
                        "host 3's runs are abandoned by another host", timeout: Self.lease * 4,
                        interval: .milliseconds(50)
                    ) {
                        try inFlight.allSatisfy { try probe.run(id: $0)?.outcome == "abandoned" }
                    }
                    let rescuedAfter = ContinuousClock.now - killedAt
                    let lastHeartbeat = try #require(try probe.runner(id: victimID)).heartbeatAt
                    for id in inFlight {
                        let run = try #require(try probe.run(id: id))
                        #expect(
                            (run.finishedAt ?? 0) >= lastHeartbeat + Self.lease.microseconds,
                            "run \(id) of the killed host was abandoned \(((run.finishedAt ?? 0) - lastHeartbeat) / 1000) ms after its last heartbeat: before its lease expired (by its pid?)"
                        )
                    }
                    // Host 3 comes back with a new runner and takes its share again.
                    let before = try Self.okRunsByHost(lab)[2]
                    runners[2] = try lab.startRunner(host: 3, Self.leaseFlags)
                    try await lab.waitRegistered(runners[2], host: 3)
                    try await waitUntil("host 3 works again", timeout: .seconds(60)) {
                        try Self.okRunsByHost(lab)[2] >= before + 5
                    }
                    try await sandbox.drainAll(
                        runners.map { RunnerProcess(child: $0, db: lab.adminURL) }, grace: "5s")

                    let byHost = try Self.okRunsByHost(lab)
                    let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                    let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                    // Each host's runners have host keys no other host's runner has. (Host 3's new
                    // runner runs in a new PID namespace, so its key is a new one, unless the kernel
                    // gave the new namespace the inode of the one that went: 3 or 4 keys in all.)
                    let psql = Psql(url: lab.adminURL)
                    let hostKeys = try psql.int(
                        "SELECT count(DISTINCT host_key) FROM runners WHERE host LIKE :'prefix'",
                        ["prefix": lab.id + "-h%"])
                    let sharedKeys = try psql.int(
                        """
                        SELECT count(*) FROM (
                            SELECT host_key FROM runners WHERE host LIKE :'prefix'
                            GROUP BY host_key HAVING count(DISTINCT host) > 1) AS shared
                        """, ["prefix": lab.id + "-h%"])
                    #expect(sharedKeys == 0, "host keys shared by two hosts: \(sharedKeys)")
                    #expect(
                        hostKeys == Int64(lab.hosts) || hostKeys == Int64(lab.hosts) + 1,
                        "\(hostKeys) host keys for \(lab.hosts) hosts, one of them with a second runner")
                    Figures.report(
                        "N1 three hosts (postgres)",
                        [
                            "hosts": lab.hosts, "seconds_shared": span.seconds,
                            "ok_runs_per_host": byHost.map(String.init).joined(separator: "/"),
                            "host_keys": Int(hostKeys), "killed_in_flight": inFlight.count,
                            "rescued_after_seconds": rescuedAfter.seconds, "runs": Int(invariants.totalRuns),
                            "abandoned": Int(invariants.runs("abandoned")), "command_executions": witness.executions,
                            "lost": witness.lost.count, "duplicated": witness.duplicated.count,
                            "overlapping": witness.overlapping.count, "unexpected": witness.unexpected.count,
                            "violations": invariants.violations.count,
                        ])
                }
            }

            /// How long a partition of one host lasts, in leases, and what it must lead to.
            struct Cut: Sendable {
                /// Its row in RELIABILITY.md.
                let name: String
                let leases: Double
                var length: Duration { Network.lease * leases }
                /// Whether the host must fence itself: the cut lasts as long as a runner waits for a renewal
                /// before it fences itself (lease − 2 × heartbeat), or longer. A shorter cut must go unnoticed
                /// but for failed heartbeats.
                var fences: Bool { length >= Network.fenceAfter }
                var slug: String { name.lowercased() }

                static let halfLease = Cut(name: "N2a", leases: 0.5)
                static let pastTheLease = Cut(name: "N2", leases: 1.5)
                static let threeLeases = Cut(name: "N2b", leases: 3)
            }

            @Test(
                "a host cut off for half a lease carries on: not declared dead, nothing abandoned or discarded, its runs recorded by it",
                .timeLimit(ChaosMode.timeLimit(short: 4))
            )
            func briefPartition() async throws { try await Self.partition(.halfLease) }

            @Test(
                "a host cut off for 1.5 leases fences itself, its runs are rescued and run elsewhere, its late results are discarded",
                .timeLimit(ChaosMode.timeLimit(short: 4))
            )
            func partition() async throws { try await Self.partition(.pastTheLease) }

            @Test(
                "a host cut off for 3 leases fences itself, its runs are rescued and run elsewhere, it comes back and works",
                .timeLimit(ChaosMode.timeLimit(short: 4))
            )
            func longPartition() async throws { try await Self.partition(.threeLeases) }

            static func partition(_ cut: Cut) async throws {
                let rounds = ChaosMode.count(short: 1, long: 3)
                for round in 1...rounds {
                    try await NetworkLab.with("net-partition-\(cut.slug)") { sandbox, lab in
                        try await Self.partitionOnce(sandbox, lab, cut: cut, round: round)
                    }
                }
            }

            static func partitionOnce(_ sandbox: Sandbox, _ lab: NetworkLab, cut: Cut, round: Int) async throws {
                let log = sandbox.root + "/witness.log"
                let victim = 2
                // Long runs (6 s: twice the lease) that host 2 alone starts, before the others are up:
                // cut off mid-run past the point where it fences itself, host 2 must stop them itself before
                // its lease expires (after which another host runs them again), or the witness log shows them
                // overlapping; cut off for less, it must finish and record them itself.
                var acknowledged: Set<String> = []
                var witnessed: Set<String> = []
                let longJobs = (0..<4).map { "long-\($0)" }
                for name in longJobs {
                    try await sandbox.addWitnessJob(
                        name, schedule: ["--every", "1s", "--delay", "0s"], log: log, seconds: 6)
                    acknowledged.insert(name)
                    witnessed.insert(name)
                }
                var runners: [Int: ChildProcess] = [:]
                runners[victim] = try lab.startRunner(host: victim, Self.leaseFlags)
                let victimID = try await lab.waitRegistered(runners[victim]!, host: victim)
                let probe = try sandbox.probe()
                let victimRuns = try await waitFor("host 2 runs the 4 long jobs", timeout: .seconds(30)) {
                    () -> [Int64]? in
                    let running = try probe.runs().filter { $0.runnerID == victimID && $0.outcome == "running" }.map(
                        \.id)
                    let begun = Set(WitnessLog(path: log).executions.map(\.runID))
                    return running.count == longJobs.count && running.allSatisfy(begun.contains) ? running : nil
                }
                let load = try await Self.addLoad(sandbox, log: log)
                acknowledged.formUnion(load.acknowledged)
                witnessed.formUnion(load.witnessed)
                for host in 1...lab.hosts where host != victim {
                    runners[host] = try lab.startRunner(host: host, Self.leaseFlags)
                    try await lab.waitRegistered(runners[host]!, host: host)
                }

                // Cut host 2 off, while its long runs are in flight (host 2 cannot record anything once cut off,
                // so what the store holds as running right after the cut was in flight at the cut).
                try await lab.link(host: victim, up: false)
                let cutAt = ContinuousClock.now
                let inFlightAtCut = try victimRuns.filter { try probe.run(id: $0)?.outcome == "running" }
                try #require(
                    inFlightAtCut == victimRuns,
                    "host 2's long runs were in flight when it was cut off (only \(inFlightAtCut) of \(victimRuns))")
                var rescuedAfter: Duration?
                if cut.fences {
                    try await waitUntil(
                        "host 2's runs are abandoned and run again on another host", timeout: Self.lease * 6,
                        interval: .milliseconds(100)
                    ) {
                        try victimRuns.allSatisfy { try probe.run(id: $0)?.outcome == "abandoned" }
                    }
                    rescuedAfter = ContinuousClock.now - cutAt
                }
                // The partition's length is the scenario's input.
                try await Task.sleep(until: cutAt + cut.length)
                try await lab.link(host: victim, up: true)
                let cutFor = ContinuousClock.now - cutAt
                let healed = try probe.lastRunID()

                let resumed = runners[victim]!
                if cut.fences {
                    // Host 2 comes back: its late results are discarded, it registers again and works.
                    try await waitUntil("host 2 registers again", timeout: .seconds(60)) {
                        if let status = resumed.poll() {
                            throw HarnessError("host 2's runner exited (\(status)): \(resumed.transcript())")
                        }
                        return try lab.runnerID(host: victim).map { $0 != victimID } ?? false
                    }
                    // Every long job ran again elsewhere, to the end (so that an overlap would be in the log).
                    try await waitUntil("the long jobs ran to the end on other hosts", timeout: .seconds(90)) {
                        try longJobs.allSatisfy { job in
                            try probe.runs(after: victimRuns.min()!).contains {
                                $0.job == job && $0.outcome == "ok" && $0.runnerID != victimID
                            }
                        }
                    }
                } else {
                    // Host 2 carries on: its runs in flight end, recorded by it (checked below).
                    try await waitUntil("host 2's long runs end", timeout: .seconds(60)) {
                        if let status = resumed.poll() {
                            throw HarnessError("host 2's runner exited (\(status)): \(resumed.transcript())")
                        }
                        return try victimRuns.allSatisfy { try probe.run(id: $0)?.outcome != "running" }
                    }
                }
                let workingID = try #require(try lab.runnerID(host: victim))
                try await waitUntil("host 2 works again", timeout: .seconds(60)) {
                    try probe.runCount(outcome: "ok", runner: workingID, after: healed) >= 5
                }
                try await sandbox.drainAll(
                    runners.values.map { RunnerProcess(child: $0, db: lab.adminURL) }, grace: "1s")

                let stderr = resumed.stderr
                let selfFenced = stderr.components(separatedBy: "self-fencing").count - 1
                let fenced = Reliability.PausedRunner.fencingReports(stderr)
                let victimState = try probe.runner(id: victimID)?.state
                let lastHeartbeat = try #require(try probe.runner(id: victimID)).heartbeatAt
                let earlyRescues = try victimRuns.filter {
                    (try probe.run(id: $0)?.finishedAt ?? .max) < lastHeartbeat + Self.lease.microseconds
                }
                let deadClaims = try probe.runsClaimedAfterDeath(of: victimID)
                // Recorded by host 2 itself: finished `ok`, or stopped by its own fence (see below).
                let recordedByHost2 = try victimRuns.compactMap { try probe.run(id: $0) }.filter {
                    $0.runnerID == victimID
                        && ($0.outcome == "ok"
                            || ($0.outcome == "interrupted" && $0.error?.contains("self-fencing") == true))
                }
                let finishedByHost2 = recordedByHost2.filter { $0.outcome == "ok" }.count
                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                if cut.fences {
                    #expect(victimState == "dead", "host 2's runner was declared dead when its lease expired")
                    #expect(earlyRescues.isEmpty, "runs rescued before host 2's lease expired: \(earlyRescues)")
                    #expect(deadClaims.isEmpty, "runs claimed under host 2's dead identity: \(deadClaims)")
                    #expect(selfFenced > 0, "host 2 logged that it fenced itself:\n\(resumed.transcript())")
                    #expect(fenced > 0, "host 2's late results were discarded:\n\(resumed.transcript())")
                } else {
                    let transcript = resumed.transcript(limit: 6000)
                    #expect(workingID == victimID, "host 2 kept its registration through the cut:\n\(transcript)")
                    #expect(
                        victimState == "stopped",
                        "host 2's runner was never declared dead (drained: \(victimState ?? "?"))")
                    // Not required: no self-fencing. The runner fences itself 2 s (lease − 2 heartbeats) after the
                    // last heartbeat that went through, and a cut of 1.5 s almost always outlasts that: the
                    // heartbeat before the cut began up to one interval (and the loop's other queries) earlier,
                    // and after the cut a stalled connection resumes only at TCP's next retransmission. Counted
                    // in the figures (RELIABILITY.md, D23). What the cut must not do is below.
                    if selfFenced > 0 {
                        #expect(
                            stderr.contains("the lease is renewed; claiming again"),
                            "host 2 fenced itself and lifted its fence when a heartbeat went through:\n\(transcript)")
                    }
                    #expect(!stderr.contains("declared dead"), "host 2 was never declared dead:\n\(transcript)")
                    #expect(fenced == 0, "host 2 discarded results although its lease held:\n\(transcript)")
                    #expect(
                        recordedByHost2.map(\.id) == victimRuns,
                        "host 2's runs in flight were recorded by it (ok, or stopped by its own fence): \(recordedByHost2) of \(victimRuns)"
                    )
                    #expect(invariants.runs("abandoned") == 0, "runs abandoned although no runner died")
                }
                let rescued: any Sendable = rescuedAfter.map(\.seconds) ?? "none"
                Figures.report(
                    "\(cut.name) partition of one host for \(cut.leases) leases (postgres)",
                    [
                        "round": round, "lease_seconds": Self.lease.seconds, "cut_seconds": cutFor.seconds,
                        "runs_in_flight_when_cut": inFlightAtCut.count, "rescued_after_seconds": rescued,
                        "recorded_by_the_cut_host": recordedByHost2.count,
                        "finished_ok_by_the_cut_host": finishedByHost2, "runner_state": victimState ?? "none",
                        "self_fencing_warnings": selfFenced, "late_results_fenced": fenced,
                        "claims_after_declared_dead": deadClaims.count, "runs": Int(invariants.totalRuns),
                        "abandoned": Int(invariants.runs("abandoned")), "command_executions": witness.executions,
                        "lost": witness.lost.count, "duplicated": witness.duplicated.count,
                        "overlapping": witness.overlapping.count, "unexpected": witness.unexpected.count,
                        "violations": invariants.violations.count,
                    ])
            }

            /// What a runner that did not carry on after a restart was doing: its registration, its runs since
            /// the restart, and the end of its log.
            static func printStuck(
                host: Int, runner id: Int64, process: ChildProcess, probe: any StoreProbe, after mark: Int64
            ) {
                let registration = (try? probe.runner(id: id)).map { "\($0.map { "\($0)" } ?? "none")" } ?? "?"
                let runs = (try? probe.runs(after: mark).filter { $0.runnerID == id }) ?? []
                let log = process.stderr.split(separator: "\n").suffix(8).joined(separator: "\n")
                print(
                    "[reliability] host \(host) (runner \(id): \(registration)) did not carry on after the restart; "
                        + "its runs since: \(runs.count), the last: \(runs.suffix(6).map { "\($0.id) \($0.job) \($0.outcome)" })\n\(log)"
                )
            }

            @Test(
                "PostgreSQL restarted under load: runners reconnect and carry on, none declared dead, nothing twice",
                .timeLimit(ChaosMode.timeLimit(short: 4)),
                arguments: ["fast", "immediate"]
            )
            func serverRestart(mode: String) async throws {
                try await NetworkLab.skipUnlessPermitted("net-restart-\(mode)")
                try await Self.restartUnderLoad(mode: mode)
            }

            static func restartUnderLoad(mode: String) async throws {
                let restarts = ChaosMode.count(short: 1, long: 5)
                try await NetworkLab.with("net-restart-\(mode)") { sandbox, lab in
                    let log = sandbox.root + "/witness.log"
                    let (acknowledged, witnessed, runners, ids) = try await Self.startLoadedHosts(
                        sandbox, lab, log: log)
                    let probe = try sandbox.probe()
                    var reconnectSeconds: [Double] = []
                    var restartSeconds: [Double] = []
                    for _ in 0..<restarts {
                        try await waitUntil("every host is working", timeout: .seconds(60)) {
                            try ids.allSatisfy { try probe.runCount(outcome: "ok", runner: $0) >= 5 }
                        }
                        let mark = try probe.lastRunID()
                        let took = try await lab.restartServer(mode: mode)
                        restartSeconds.append(took.seconds)
                        let back = ContinuousClock.now
                        var reconnected: Set<Int> = []
                        // Each runner claims and finishes again (under the id it had: nobody declared it dead).
                        for (index, id) in ids.enumerated() {
                            defer {
                                if !reconnected.contains(index) {
                                    Self.printStuck(
                                        host: index + 1, runner: id, process: runners[index], probe: probe, after: mark)
                                }
                            }
                            try await waitUntil(
                                "host \(index + 1) works again after the restart", timeout: .seconds(30)
                            ) {
                                if let status = runners[index].poll() {
                                    throw HarnessError(
                                        "host \(index + 1)'s runner exited (\(status)): \(runners[index].transcript())")
                                }
                                if let state = try? probe.runner(id: id)?.state,
                                    !["running", "draining"].contains(state)
                                {
                                    throw HarnessError(
                                        "host \(index + 1)'s runner \(id), alive all along, is \(state) after the restart "
                                            + "(runners: \(try probe.runners())):\n\(runners[index].transcript())")
                                }
                                return (try? probe.runCount(outcome: "ok", runner: id, after: mark)) ?? 0 > 0
                            }
                            reconnectSeconds.append((ContinuousClock.now - back).seconds)
                            reconnected.insert(index)
                        }
                    }
                    try await sandbox.drainAll(
                        runners.map { RunnerProcess(child: $0, db: lab.adminURL) }, grace: "5s", timeout: .seconds(30))

                    // No mass rescue: every runner was alive all along, so none may have been declared dead and no
                    // run abandoned.
                    let declaredDead = try probe.runners().filter { ids.contains($0.id) && $0.state == "dead" }.count
                    let abandonedOfLiving = try probe.runCount(outcome: "abandoned")
                    let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                    let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                    #expect(declaredDead == 0, "runners declared dead because of the restart")
                    #expect(abandonedOfLiving == 0, "runs of living runners recorded abandoned because of the restart")
                    Figures.report(
                        "N3 server restart -m \(mode) under load (postgres)",
                        [
                            "restarts": restarts, "restart_seconds_max": restartSeconds.max() ?? 0,
                            "reconnect_seconds_max": reconnectSeconds.max() ?? 0,
                            "reconnect_seconds_mean": reconnectSeconds.reduce(0, +)
                                / Double(max(reconnectSeconds.count, 1)),
                            "runners_declared_dead": declaredDead,
                            "abandoned_of_living_runners": Int(abandonedOfLiving),
                            "runs": Int(invariants.totalRuns), "interrupted": Int(invariants.runs("interrupted")),
                            "command_executions": witness.executions,
                            "lost": witness.lost.count, "duplicated": witness.duplicated.count,
                            "overlapping": witness.overlapping.count, "unexpected": witness.unexpected.count,
                            "violations": invariants.violations.count,
                        ])
                }
            }

            @Test(
                "a kill -9 storm across hosts: a killed runner's runs are rescued only after its lease, never by its pid; nothing lost or run twice",
                .timeLimit(ChaosMode.timeLimit(short: 4))
            )
            func killStormAcrossHosts() async throws {
                let kills = ChaosMode.count(short: 6, long: 60)
                let seed = ChaosMode.seed()
                var random = SeededRandom(seed: seed)
                print(
                    "[reliability] kill storm across hosts: \(kills) kills, seed \(seed) (RELIABILITY_SEED=\(seed) replays it)"
                )
                try await NetworkLab.with("net-kill-storm") { sandbox, lab in
                    let log = sandbox.root + "/witness.log"
                    let hosts = try await Self.startLoadedHosts(sandbox, lab, log: log, longSeconds: 2)
                    let (acknowledged, witnessed) = (hosts.acknowledged, hosts.witnessed)
                    var (runners, ids) = (hosts.runners, hosts.ids)
                    try await waitUntil("every host ran command jobs", timeout: .seconds(60)) {
                        try Self.okRunsByHost(lab).allSatisfy { $0 >= 5 }
                    }
                    let probe = try sandbox.probe()
                    var killed: Set<Int64> = []
                    var killsWithRunsInFlight = 0
                    var resumedAfterAutoPause = 0
                    let started = ContinuousClock.now
                    for kill in 0..<kills {
                        let host = Int.random(in: 1...lab.hosts, using: &random)
                        let id = ids[host - 1]
                        // The hosts' runners alive together have host keys of their own, so that none can take
                        // another host's pid for one of its own. (Over time a key comes back: the kernel reuses a
                        // freed PID namespace's inode number, and every host here shares one boot id.)
                        let liveKeys = try Psql(url: lab.adminURL).int(
                            "SELECT count(DISTINCT host_key) FROM runners WHERE id = ANY(CAST(:'ids' AS bigint[]))",
                            ["ids": "{" + ids.map(String.init).joined(separator: ",") + "}"])
                        #expect(liveKeys == Int64(lab.hosts), "the live runners \(ids) have a host key each")
                        // The kill moment is the scenario's input: half the time once the runner has a run in
                        // flight (the first kill always), else a random time into its work (runs in flight or not).
                        if kill == 0 || random.chance(0.5) {
                            try await waitUntil(
                                "host \(host) has a run in flight", timeout: .seconds(30), interval: .milliseconds(20)
                            ) {
                                try probe.runCount(outcome: "running", runner: id) > 0
                            }
                        } else {
                            try await Task.sleep(for: .randomMilliseconds(0...800, using: &random))
                        }
                        runners[host - 1].signal(SIGKILL)
                        let status = try await runners[host - 1].wait(timeout: .seconds(10))
                        if status != .killed(SIGKILL) {
                            Issue.record(
                                "host \(host)'s runner ended by itself before the kill: \(runners[host - 1].transcript())"
                            )
                        }
                        killed.insert(id)
                        // Dead now, it records nothing more: what is running is what it left in flight.
                        if try probe.runCount(outcome: "running", runner: id) > 0 { killsWithRunsInFlight += 1 }
                        // A job whose runs keep dying with their runner is paused by the product (guarantee 5);
                        // resume it, as an operator would, so that the storm keeps exercising it.
                        resumedAfterAutoPause += try await sandbox.resumeJobsPausedByAbandonment()
                        runners[host - 1] = try lab.startRunner(host: host, Self.leaseFlags)
                        ids[host - 1] = try await lab.waitRegistered(runners[host - 1], host: host, after: id)
                    }
                    let stormDuration = ContinuousClock.now - started

                    // Every killed runner's runs are rescued (after its lease), and each host's runner works.
                    let mark = try probe.lastRunID()
                    try await waitUntil(
                        "every run of a killed runner is rescued, and every host works again", timeout: .seconds(60),
                        interval: .milliseconds(100)
                    ) {
                        resumedAfterAutoPause += try await sandbox.resumeJobsPausedByAbandonment()
                        let orphans = try killed.reduce(0) { $0 + (try probe.runCount(outcome: "running", runner: $1)) }
                        return try orphans == 0
                            && ids.allSatisfy { try probe.runCount(outcome: "ok", runner: $0, after: mark) >= 3 }
                    }
                    try await sandbox.drainAll(
                        runners.map { RunnerProcess(child: $0, db: lab.adminURL) }, grace: "5s", timeout: .seconds(30))

                    // Abandoned only by lease: every killed runner was declared dead, and its runs abandoned, no
                    // sooner than a lease after its last heartbeat (its pid means nothing on another host, and a
                    // runner restarted on its host has a PID namespace, so a host key, of its own).
                    let registrations = Dictionary(uniqueKeysWithValues: try probe.runners().map { ($0.id, $0) })
                    var declaredEarly: [Int64] = []
                    for id in killed.sorted() {
                        let runner = try #require(registrations[id])
                        #expect(runner.state == "dead", "killed runner \(id) was declared dead: \(runner)")
                        if (runner.stoppedAt ?? .max) < runner.heartbeatAt + Self.lease.microseconds {
                            declaredEarly.append(id)
                        }
                    }
                    #expect(declaredEarly.isEmpty, "runners declared dead before their lease ran out: \(declaredEarly)")
                    let runs = try probe.runs()
                    let abandoned = runs.filter { $0.outcome == "abandoned" }
                    var sinceHeartbeat: [Double] = []
                    for run in abandoned {
                        let runner = try #require(run.runnerID.flatMap { registrations[$0] })
                        #expect(
                            killed.contains(runner.id), "run \(run.id) of runner \(runner.id), never killed, abandoned")
                        let after = (run.finishedAt ?? 0) - runner.heartbeatAt
                        sinceHeartbeat.append(Double(after) / 1e6)
                        #expect(
                            after >= Self.lease.microseconds,
                            "run \(run.id) of killed runner \(runner.id) abandoned \(after / 1000) ms after its last heartbeat: before its lease (3 s) ran out (by its pid?)"
                        )
                        #expect(run.error?.contains("died") == true, "abandoned run \(run.id) says why: \(run)")
                    }
                    let interruptedByKilled = runs.filter {
                        $0.outcome == "interrupted" && $0.runnerID.map(killed.contains) == true
                    }
                    #expect(interruptedByKilled.isEmpty, "a SIGKILLed runner cannot have recorded runs as interrupted")
                    let byHost = try Self.okRunsByHost(lab)
                    let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                    let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                    Figures.report(
                        "N4 kill -9 storm across hosts (postgres)",
                        [
                            "hosts": lab.hosts, "kills": kills, "kills_with_runs_in_flight": killsWithRunsInFlight,
                            "ok_runs_per_host": byHost.map(String.init).joined(separator: "/"),
                            "abandoned": abandoned.count,
                            "abandoned_after_last_heartbeat_min_seconds": sinceHeartbeat.min() ?? 0,
                            "abandoned_after_last_heartbeat_max_seconds": sinceHeartbeat.max() ?? 0,
                            "runners_declared_dead_early": declaredEarly.count, "runs": Int(invariants.totalRuns),
                            "ok": Int(invariants.runs("ok")), "failed": Int(invariants.runs("failed")),
                            "command_executions": witness.executions, "reexecuted_after_kill": witness.reexecutions,
                            "auto_paused_then_resumed": resumedAfterAutoPause, "lost": witness.lost.count,
                            "duplicated": witness.duplicated.count, "overlapping": witness.overlapping.count,
                            "unexpected": witness.unexpected.count, "violations": invariants.violations.count,
                            "seconds": stormDuration.seconds, "seed": "\(seed)",
                        ])
                    #expect(killsWithRunsInFlight > 0, "the storm killed runners with runs in flight")
                }
            }
        }
    }
#endif
