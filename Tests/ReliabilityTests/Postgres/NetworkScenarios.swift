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
                    var (acknowledged, witnessed) = try await Self.addLoad(sandbox, log: log)
                    // A long run, so that the runner killed below surely has one in flight.
                    for index in 0..<3 {
                        try await sandbox.addWitnessJob(
                            "long-\(index)", schedule: ["--every", "1s", "--delay", "0s"], log: log, seconds: 3)
                        acknowledged.insert("long-\(index)")
                        witnessed.insert("long-\(index)")
                    }
                    var runners: [ChildProcess] = []
                    for host in 1...lab.hosts {
                        runners.append(try lab.startRunner(host: host, Self.leaseFlags))
                    }
                    for (index, runner) in runners.enumerated() {
                        try await lab.waitRegistered(runner, host: index + 1)
                    }
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
                    let hostKeys = try Psql(url: lab.adminURL).int(
                        "SELECT count(DISTINCT host_key) FROM runners WHERE host LIKE :'prefix'",
                        ["prefix": lab.id + "-h%"])
                    #expect(hostKeys == Int64(lab.hosts), "each host has a host key of its own")
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

            @Test(
                "a host cut off for 1.5 leases fences itself, its runs are rescued and run elsewhere, its late results are discarded",
                .timeLimit(ChaosMode.timeLimit(short: 4))
            )
            func partition() async throws {
                let rounds = ChaosMode.count(short: 1, long: 3)
                for round in 1...rounds {
                    try await NetworkLab.with("net-partition") { sandbox, lab in
                        try await Self.partitionOnce(sandbox, lab, round: round)
                    }
                }
            }

            static func partitionOnce(_ sandbox: Sandbox, _ lab: NetworkLab, round: Int) async throws {
                let log = sandbox.root + "/witness.log"
                let victim = 2
                // Long runs (6 s: twice the lease) that host 2 alone starts, before the others are up:
                // cut off mid-run, host 2 must stop them itself before its lease expires (after which
                // another host runs them again), or the witness log shows them overlapping.
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

                // Cut host 2 off for 1.5 leases.
                try lab.link(host: victim, up: false)
                let cutAt = ContinuousClock.now
                try await waitUntil(
                    "host 2's runs are abandoned and run again on another host", timeout: Self.lease * 6,
                    interval: .milliseconds(100)
                ) {
                    try victimRuns.allSatisfy { try probe.run(id: $0)?.outcome == "abandoned" }
                }
                let rescuedAfter = ContinuousClock.now - cutAt
                // The partition's length is the scenario's input.
                try await Task.sleep(until: cutAt + Self.lease * 3 / 2)
                try lab.link(host: victim, up: true)
                let cutFor = ContinuousClock.now - cutAt

                // Host 2 comes back: its late results are discarded, it registers again and works.
                let resumed = runners[victim]!
                try await waitUntil("host 2 registers again", timeout: .seconds(60)) {
                    if let status = resumed.poll() {
                        throw HarnessError("host 2's runner exited (\(status)): \(resumed.transcript())")
                    }
                    return try lab.runnerID(host: victim).map { $0 != victimID } ?? false
                }
                let newID = try #require(try lab.runnerID(host: victim))
                // Every long job ran again elsewhere, to the end (so that an overlap would be in the log).
                try await waitUntil("the long jobs ran to the end on other hosts", timeout: .seconds(90)) {
                    try longJobs.allSatisfy { job in
                        try probe.runs(after: victimRuns.min()!).contains {
                            $0.job == job && $0.outcome == "ok" && $0.runnerID != victimID
                        }
                    }
                }
                try await waitUntil("host 2 works again", timeout: .seconds(60)) {
                    try probe.runCount(outcome: "ok", runner: newID) >= 5
                }
                try await sandbox.drainAll(
                    runners.values.map { RunnerProcess(child: $0, db: lab.adminURL) }, grace: "1s")

                let stderr = resumed.stderr
                let selfFenced = stderr.components(separatedBy: "self-fencing").count - 1
                let fenced = Reliability.PausedRunner.fencingReports(stderr)
                let deadState = try probe.runner(id: victimID)?.state
                let lastHeartbeat = try #require(try probe.runner(id: victimID)).heartbeatAt
                let earlyRescues = try victimRuns.filter {
                    (try probe.run(id: $0)?.finishedAt ?? .max) < lastHeartbeat + Self.lease.microseconds
                }
                let deadClaims = try probe.runsClaimedAfterDeath(of: victimID)
                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                #expect(deadState == "dead", "host 2's runner was declared dead when its lease expired")
                #expect(earlyRescues.isEmpty, "runs rescued before host 2's lease expired: \(earlyRescues)")
                #expect(deadClaims.isEmpty, "runs claimed under host 2's dead identity: \(deadClaims)")
                #expect(selfFenced > 0, "host 2 logged that it fenced itself:\n\(resumed.transcript())")
                #expect(fenced > 0, "host 2's late results were discarded:\n\(resumed.transcript())")
                Figures.report(
                    "N2 partition of one host for 1.5 leases (postgres)",
                    [
                        "round": round, "lease_seconds": Self.lease.seconds, "cut_seconds": cutFor.seconds,
                        "runs_in_flight_when_cut": victimRuns.count, "rescued_after_seconds": rescuedAfter.seconds,
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
                try NetworkLab.skipUnlessPermitted("net-restart-\(mode)")
                try await Self.restartUnderLoad(mode: mode)
            }

            static func restartUnderLoad(mode: String) async throws {
                let restarts = ChaosMode.count(short: 1, long: 5)
                try await NetworkLab.with("net-restart-\(mode)") { sandbox, lab in
                    let log = sandbox.root + "/witness.log"
                    var (acknowledged, witnessed) = try await Self.addLoad(sandbox, log: log)
                    for index in 0..<3 {
                        try await sandbox.addWitnessJob(
                            "long-\(index)", schedule: ["--every", "1s", "--delay", "0s"], log: log, seconds: 3)
                        acknowledged.insert("long-\(index)")
                        witnessed.insert("long-\(index)")
                    }
                    var runners: [ChildProcess] = []
                    var ids: [Int64] = []
                    for host in 1...lab.hosts {
                        runners.append(try lab.startRunner(host: host, Self.leaseFlags))
                    }
                    for (index, runner) in runners.enumerated() {
                        ids.append(try await lab.waitRegistered(runner, host: index + 1))
                    }
                    let probe = try sandbox.probe()
                    var reconnectSeconds: [Double] = []
                    var restartSeconds: [Double] = []
                    for _ in 0..<restarts {
                        try await waitUntil("every host is working", timeout: .seconds(60)) {
                            try ids.allSatisfy { try probe.runCount(outcome: "ok", runner: $0) >= 5 }
                        }
                        let mark = try probe.lastRunID()
                        let took = try lab.restartServer(mode: mode)
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
        }
    }
#endif
