import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension PackageLayout {
    /// The network harness (scripts/reliability/network): namespaces, veths, the test's own cluster.
    static var networkScript: String { root + "/scripts/reliability/network" }
}

/// Three (or more) "hosts" and one PostgreSQL server, all on this machine: each host is a network
/// namespace joined to this one by a veth pair (10.NET.N.2 inside, 10.NET.N.1 here), and its runner runs
/// in PID, UTS and mount namespaces of its own, so that its host key (boot id + PID namespace) differs
/// from every other runner's and no runner can mistake another's pid for one of its own. The server is
/// a cluster of the test's own (initdb as `postgres`, its own port and directory), listening on the
/// veth addresses, so that restarting it disturbs no other test. Names are random per lab, so a lab
/// left behind by a crashed run does not collide with the next; everything is undone at clean-up.
struct NetworkLab: Sendable {
    let sandbox: Sandbox
    let id: String
    let net: Int
    let hosts: Int
    let port: Int
    let directory: String

    /// The test's own connection (the cluster's Unix socket): the probe, `jobctl add`, `jobctl drain`.
    var adminURL: String { "postgresql://postgres@/jobrunner?host=\(directory)/socket&port=\(port)" }

    /// How host `n` reaches the server: over its veth.
    func url(host n: Int) -> String { "postgresql://postgres@10.\(net).\(n).1:\(port)/jobrunner?sslmode=disable" }

    /// Host `n`'s host name (its runner's `runners.host`).
    func hostName(_ n: Int) -> String { "\(id)-h\(n)" }

    /// Runs `body` with a lab of `hosts` hosts in a fresh sandbox whose database is the lab's; the lab is
    /// torn down afterwards whatever happens. Where network namespaces cannot be made (not root, no
    /// CAP_NET_ADMIN), the test is skipped with the reason printed, never passed.
    static func with(
        _ name: String, hosts: Int = 3, _ body: (Sandbox, NetworkLab) async throws -> Void
    ) async throws {
        try await skipUnlessPermitted(name)
        try await Sandbox.with(name) { sandbox in
            let id = "jr" + String(UInt32.random(in: 0...0xFFFFF), radix: 16)
            let net = Int.random(in: 160...223)
            let port = Int.random(in: 20_000...39_999)
            let lab = NetworkLab(
                sandbox: sandbox, id: id, net: net, hosts: hosts, port: port, directory: "/tmp/jobrunner-net-\(id)")
            // Undone in reverse: the server first (its processes), then the namespaces.
            sandbox.onCleanup { _ = Self.script(["down", id, "\(hosts)"]) }
            sandbox.onCleanup { _ = Self.script(["pg-stop", lab.directory]) }
            try await lab.checked(["up", id, "\(net)", "\(hosts)"])
            let addresses = (1...hosts).map { "10.\(net).\($0).1" }.joined(separator: ",")
            try await lab.checked(["pg-start", lab.directory, "\(port)", addresses])
            let maintenance = Psql(url: TestPostgres.replacingDatabase(in: lab.adminURL, with: "postgres"))
            try await offThePool {
                try maintenance.run("CREATE DATABASE jobrunner ENCODING 'UTF8' TEMPLATE template0;")
            }
            sandbox.useDatabase(lab.adminURL)
            defer { sandbox.forgetDatabase() }
            try await body(sandbox, lab)
        }
    }

    /// Skips the test (with the reason printed) where network namespaces cannot be made: not root, no
    /// CAP_NET_ADMIN, no PostgreSQL server binaries. RELIABILITY_NO_NETNS=1 acts as if (to check this path).
    static func skipUnlessPermitted(_ name: String) async throws {
        let check = await offThePool { Self.script(["check"]) }
        if check.status != 0 || ChaosMode.environment["RELIABILITY_NO_NETNS"] == "1" {
            let reason = check.status != 0 ? check.output : "RELIABILITY_NO_NETNS=1 is set"
            print("[reliability] network scenario \(name) skipped: \(reason)")
            try Test.cancel("network namespaces cannot be made here: \(reason)")
        }
    }

    /// Starts a runner on host `n` (`jobctl --db postgresql://…@10.NET.n.1 run`), not yet registered.
    func startRunner(host n: Int, _ extra: [String] = []) throws -> ChildProcess {
        try sandbox.launch(
            executable: PackageLayout.networkScript,
            ["exec", id, "\(n)", hostName(n), sandbox.jobctlPath, "--db", url(host: n), "run", "--keep-history", "off"]
                + extra,
            environment: sandbox.scenarioEnvironment([:]), label: "runner-h\(n)")
    }

    /// The live registration of host `n`'s runner, if any (the newest).
    func runnerID(host n: Int) throws -> Int64? {
        try Psql(url: adminURL).rows(
            """
            SELECT id FROM runners WHERE host = :'host' AND state IN ('running', 'draining') ORDER BY id DESC LIMIT 1
            """, ["host": hostName(n)]
        ).first?.first?.int
    }

    /// Waits until host `n`'s runner has registered (with an id above `previous`: a runner restarted on a
    /// host whose last one was killed and not yet declared dead); fails early if it exits.
    @discardableResult
    func waitRegistered(
        _ runner: ChildProcess, host n: Int, after previous: Int64 = 0, timeout: Duration = .seconds(30)
    ) async throws -> Int64 {
        try await waitFor("the runner of host \(n) registers", timeout: timeout) {
            if let status = runner.poll() {
                throw HarnessError(
                    "the runner of host \(n) exited (\(status)) before registering\n\(runner.transcript())")
            }
            return (try? runnerID(host: n)).flatMap { $0 > previous ? $0 : nil }
        }
    }

    /// Cuts host `n` off (its veth down, from this side) or brings it back.
    func link(host n: Int, up: Bool) async throws { try await checked(["link", id, "\(n)", up ? "up" : "down"]) }

    /// `pg_ctl restart -m MODE`; returns how long it took.
    func restartServer(mode: String) async throws -> Duration {
        let started = ContinuousClock.now
        try await checked(["pg-restart", directory, mode])
        return ContinuousClock.now - started
    }

    private func checked(_ arguments: [String]) async throws {
        let result = await offThePool { Self.script(arguments) }
        guard result.status == 0 else {
            throw HarnessError("network \(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
    }

    /// Runs the harness script to completion, synchronously (clean-up runs outside async code).
    static func script(_ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PackageLayout.networkScript)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (127, "\(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus,
            String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        )
    }
}
