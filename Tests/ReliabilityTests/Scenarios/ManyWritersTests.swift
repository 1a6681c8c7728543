import Foundation
import TestSupport
import Testing

extension Reliability {
    /// Scenario 3 (guarantees 1 and 7): many `jobctl add` processes at once while two runners write.
    @Suite("3. many writers")
    struct ManyWriters {
        struct Request {
            var name: String
            var arguments: [String]
            var scheduleKind: String
            var handler: String?
            var command: [String]?
            var payload: String?
        }

        @Test(
            "50 concurrent adds: each succeeds, or fails with a clear busy error and writes nothing",
            .timeLimit(ChaosMode.timeLimit(short: 4))
        )
        func concurrentAdds() async throws { try await Self.concurrentAdds(on: .sqlite) }

        static func concurrentAdds(on store: StoreKind) async throws {
            let rounds = ChaosMode.count(short: 1, long: 10)
            let perRound = 50
            try await Sandbox.with("many-writers", store: store) { sandbox in
                let log = sandbox.root + "/witness.log"
                var acknowledged: Set<String> = []
                var witnessed: Set<String> = []
                for index in 0..<5 {
                    try await sandbox.jobctlOK(["add", "load-\(index)", "--every", "10ms", "--handler", "tick"])
                    acknowledged.insert("load-\(index)")
                }
                let runners = [
                    try await sandbox.startRegisteredRunner(["--concurrency", "4"]),
                    try await sandbox.startRegisteredRunner(["--concurrency", "4"]),
                ]

                var succeeded = 0
                var refusedBusy = 0
                var refusedWithDefaultTimeout = 0  // 5 s: a refusal then means an add waited that long
                var slowest: Duration = .zero
                for round in 0..<rounds {
                    var requests: [Request] = []
                    for index in 0..<perRound {
                        let name = "w-\(round)-\(index)"
                        let payload = #"{"round":\#(round),"index":\#(index),"text":"it's \"quoted\" \\ %_"}"#
                        var arguments = ["add", name]
                        // A quarter never waits for the lock, a quarter waits 10 ms: those may be refused.
                        switch index % 4 {
                        case 0: arguments += ["--busy-timeout", "0s"]
                        case 1: arguments += ["--busy-timeout", "10ms"]
                        default: break
                        }
                        var request = Request(name: name, arguments: [], scheduleKind: "every")
                        switch index % 3 {
                        case 0:
                            arguments += ["--every", "\(50 + index)ms"]
                        case 1:
                            arguments += ["--cron", "*/7 * * * * *", "--tz", "Europe/Berlin"]
                            request.scheduleKind = "cron"
                        default:
                            arguments += ["--in", "\(index)ms"]
                            request.scheduleKind = "once"
                        }
                        if index % 2 == 0 {
                            arguments += ["--handler", "tick", "--payload", payload]
                            request.handler = "tick"
                            request.payload = payload
                        } else {
                            request.command = [sandbox.witnessPath, log]
                            arguments += ["--"] + request.command!
                            witnessed.insert(name)
                        }
                        request.arguments = arguments
                        requests.append(request)
                    }
                    let started = ContinuousClock.now
                    let processes = try requests.map { try sandbox.startJobctl($0.arguments) }
                    for (request, process) in zip(requests, processes) {
                        let status = try await process.wait(timeout: .seconds(60))
                        slowest = max(slowest, ContinuousClock.now - started)
                        let errors = process.stderr.split(separator: "\n")
                        switch status {
                        case .exited(0):
                            succeeded += 1
                            acknowledged.insert(request.name)
                            try expectStored(request, in: sandbox)
                        case .exited(1):
                            refusedBusy += 1
                            if !request.arguments.contains("--busy-timeout") { refusedWithDefaultTimeout += 1 }
                            #expect(
                                errors.count == 1 && errors[0].hasPrefix("jobctl: error: ")
                                    && errors[0].contains("locked"),
                                "a refused add says the database is locked, in one line: \(process.transcript())")
                            let present = try sandbox.probe().job(named: request.name)
                            #expect(present == nil, "a refused add wrote its job anyway: \(request.name)")
                        default:
                            Issue.record("add ended unexpectedly: \(process.transcript())")
                        }
                    }
                }
                try await sandbox.drainAll(runners)
                let invariants = try sandbox.expectInvariants(acknowledged: acknowledged)
                let witness = try sandbox.expectWitness(log: log, jobs: witnessed)
                #expect(succeeded + refusedBusy == rounds * perRound)
                Figures.report(
                    store.figures("3 many writers"),
                    [
                        "adds": rounds * perRound, "succeeded": succeeded, "refused_busy": refusedBusy,
                        "refused_with_default_timeout": refusedWithDefaultTimeout,
                        "slowest_round_seconds": slowest.seconds, "runs": Int(invariants.totalRuns),
                        "lost": witness.lost.count, "duplicated": witness.duplicated.count,
                        "violations": invariants.violations.count,
                    ])
            }
        }

        /// The job an acknowledged add wrote is whole: every field as asked.
        private static func expectStored(_ request: Request, in sandbox: Sandbox) throws {
            guard let job = try sandbox.probe().job(named: request.name) else {
                Issue.record("add of \(request.name) exited 0 but the job is not there")
                return
            }
            #expect(job.scheduleKind == request.scheduleKind, "\(request.name): schedule kind")
            #expect(job.handler == request.handler, "\(request.name): handler")
            if let command = request.command {
                let stored = (job.command?.data(using: .utf8)).flatMap {
                    try? JSONSerialization.jsonObject(with: $0) as? [String]
                }
                #expect(stored == command, "\(request.name): command \(String(describing: job.command))")
            } else {
                #expect(job.command == nil, "\(request.name): no command")
            }
            #expect(job.payload == request.payload, "\(request.name): payload")
            #expect(["active", "done"].contains(job.state), "\(request.name): state \(job.state)")
        }
    }
}
