import Foundation
import JobRunner
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension Reliability {
    /// Scenario 11 (guarantee 8): file modes, and exactly what a command job inherits.
    @Suite("11. files and permissions")
    struct FilesAndPermissions {
        @Test(
            "a new database (and its WAL and shared memory) is mode 0600 whatever the umask",
            .timeLimit(ChaosMode.timeLimit(short: 2)))
        func newDatabaseIsPrivate() async throws {
            try await Sandbox.with("permissions") { sandbox in
                var checked = 0
                for umask in ["000", "002", "022", "077"] {
                    let directory = sandbox.root + "/umask-\(umask)"
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    let db = directory + "/jobs.sqlite"
                    let wrapper = #"umask "$0"; exec "$@""#
                    let add = try sandbox.spawn(
                        "/bin/sh",
                        [
                            "-c", wrapper, umask, sandbox.jobctlPath, "add", "--db", db, "t", "--every", "1h",
                            "--handler", "tick",
                        ]
                        .map { Array($0.utf8) }, label: "add-umask-\(umask)")
                    #expect(try await add.wait(timeout: .seconds(30)) == .exited(0), "\(add.transcript())")
                    // A runner keeps the WAL and the shared-memory file in place while it runs.
                    let runner = try sandbox.spawn(
                        "/bin/sh",
                        ["-c", wrapper, umask, sandbox.jobctlPath, "run", "--db", db].map { Array($0.utf8) },
                        label: "run-umask-\(umask)")
                    let process = RunnerProcess(child: runner, db: db)
                    try await process.waitRegistered()
                    for suffix in ["", "-wal", "-shm"] {
                        let mode = try #require(Self.mode(of: db + suffix), "\(db)\(suffix) exists")
                        #expect(
                            mode == 0o600, "umask \(umask): jobs.sqlite\(suffix) has mode \(String(mode, radix: 8))")
                        checked += 1
                    }
                    try await sandbox.drainAll([process], db: db)
                }
                // The default location: a private directory, a private file.
                let state = sandbox.root + "/state-default"
                let add = try sandbox.spawn(
                    "/bin/sh",
                    [
                        "-c", #"umask 000; exec "$@""#, "sh", sandbox.jobctlPath, "add", "d", "--every", "1h",
                        "--handler", "tick",
                    ]
                    .map { Array($0.utf8) },
                    environment: ["JOBCTL_DB": nil, "XDG_STATE_HOME": state], label: "add-default")
                #expect(try await add.wait(timeout: .seconds(30)) == .exited(0), "\(add.transcript())")
                #expect(Self.mode(of: state + "/jobrunner") == 0o700, "the default directory is private")
                #expect(Self.mode(of: state + "/jobrunner/jobs.sqlite") == 0o600, "the default database is private")
                Figures.report("11a file modes", ["umasks": 4, "files_checked": checked + 2])
            }
        }

        @Test(
            "a command job inherits descriptors 0–2 only, the runner's environment plus JOB_*, and the directory of its add",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func commandInheritance() async throws {
            try await Sandbox.with("inheritance") { sandbox in
                let addDirectory = sandbox.root + "/where-it-was-added"
                try FileManager.default.createDirectory(atPath: addDirectory, withIntermediateDirectories: true)
                let payload = #"{"p": "value with spaces, 'quotes' and \"escapes\""}"#
                try await sandbox.jobctlOK(
                    [
                        "add", "probe", "--every", "1h", "--delay", "0s", "--payload", payload, "--", "/bin/sleep",
                        "600",
                    ],
                    directory: addDirectory)
                try await sandbox.jobctlOK([
                    "add", "probe-cwd", "--every", "1h", "--delay", "0s", "--cwd", "/", "--", "/bin/sleep", "600",
                ])
                let runner = try sandbox.startJobctl(
                    ["run"], environment: ["RELIABILITY_MARK": "inherit me", "RELIABILITY_ODD": "a=b=c\t\u{1F9E8}"])
                let process = RunnerProcess(child: runner, db: sandbox.db)
                try await process.waitRegistered()
                let pids = try await waitFor("both commands run", timeout: .seconds(30)) { () -> [String: Int32]? in
                    var found: [String: Int32] = [:]
                    for name in ["probe", "probe-cwd"] {
                        let matches = ProcessTable.processes(withEnvironment: "JOB_NAME", value: name).filter {
                            ProcessTable.environment(of: $0)?[Sandbox.tagVariable] == sandbox.tag
                        }
                        if let pid = matches.first { found[name] = pid }
                    }
                    return found.count == 2 ? found : nil
                }
                let pid = try #require(pids["probe"])
                let runnerEnvironment = try #require(ProcessTable.environment(of: runner.pid))
                let environment = try #require(ProcessTable.environment(of: pid))

                // Descriptors: exactly 0, 1 and 2; stdin is /dev/null; stdout and stderr are one pipe.
                let descriptors = ProcessTable.descriptors(of: pid)
                #expect(Set(descriptors.keys) == [0, 1, 2], "open descriptors: \(descriptors)")
                #expect(descriptors[0] == "/dev/null")
                #expect(
                    descriptors[1]?.hasPrefix("pipe:") == true && descriptors[1] == descriptors[2], "\(descriptors)")

                // Environment: the runner's, plus JOB_NAME, JOB_RUN_ID, JOB_SCHEDULED_FOR, JOB_ATTEMPT, JOB_PAYLOAD.
                let added = Set(environment.keys).subtracting(runnerEnvironment.keys)
                #expect(
                    added == [
                        "JOB_NAME", "JOB_RUN_ID", "JOB_SCHEDULED_FOR", "JOB_ATTEMPT", "JOB_DATABASE", "JOB_PAYLOAD",
                    ], "\(added)")
                let missing = Set(runnerEnvironment.keys).subtracting(environment.keys)
                #expect(missing.isEmpty, "not inherited: \(missing)")
                for (key, value) in runnerEnvironment where environment[key] != value {
                    Issue.record("\(key) is \(environment[key] ?? "unset") in the command, \(value) in the runner")
                }
                #expect(environment["RELIABILITY_MARK"] == "inherit me")
                let run = try #require(
                    try DatabaseProbe(sandbox.db).rows(
                        "SELECT id, scheduled_for, attempt FROM runs WHERE job_name = 'probe' AND outcome = 'running'"
                    ).first)
                #expect(environment["JOB_NAME"] == "probe")
                #expect(environment["JOB_RUN_ID"] == "\(run[0])")
                #expect(environment["JOB_ATTEMPT"] == "\(run[2])")
                #expect(environment["JOB_PAYLOAD"] == payload)
                let scheduled = try Timestamp.parseRFC3339(environment["JOB_SCHEDULED_FOR"] ?? "")
                #expect(
                    scheduled == run[1].int, "JOB_SCHEDULED_FOR \(environment["JOB_SCHEDULED_FOR"] ?? "") vs \(run[1])")

                // Working directory and process group.
                #expect(ProcessTable.workingDirectory(of: pid) == addDirectory)
                #expect(ProcessTable.workingDirectory(of: try #require(pids["probe-cwd"])) == "/")
                let entry = try #require(ProcessTable.entry(pid))
                #expect(entry.group == pid, "the command leads its own process group")
                #expect(entry.group != ProcessTable.entry(runner.pid)?.group)

                try await sandbox.drainAll([process], grace: "0s")
                for pid in pids.values { #expect(!ProcessTable.isLiving(pid), "command \(pid) outlived the drain") }
                let invariants = try sandbox.expectInvariants()
                Figures.report(
                    "11b command inheritance",
                    [
                        "descriptors": descriptors.count, "variables_added": added.count,
                        "violations": invariants.violations.count,
                    ])
            }
        }

        static func mode(of path: String) -> Int? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return Int(info.st_mode & 0o777)
        }
    }
}
