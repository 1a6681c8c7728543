import TestSupport
import Testing

@testable import JobRunner

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("CommandExecutor")
struct CommandExecutorTests {
    private func run(
        _ argv: [String],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        timeout: Duration? = .seconds(60),
        grace: Duration = .seconds(5),
        outputLimit: Int = 64 * 1024
    ) async throws -> CommandResult {
        try await CommandExecutor.run(
            CommandSpec(argv: argv, environment: environment, workingDirectory: workingDirectory),
            timeout: timeout,
            terminationGrace: grace,
            outputLimit: outputLimit
        )
    }

    // MARK: Exit status

    @Test func exitZeroCapturesOutput() async throws {
        let result = try await run(["sh", "-c", "echo hello"])
        #expect(result.exitCode == 0)
        #expect(result.terminatingSignal == nil)
        #expect(result.outputTail == "hello\n")
        #expect(result.totalOutputBytes == 6)
        #expect(!result.timedOut)
        #expect(!result.interrupted)
    }

    @Test func nonZeroExitIsReportedAndStderrCaptured() async throws {
        let result = try await run(["sh", "-c", "echo oops >&2; exit 3"])
        #expect(result.exitCode == 3)
        #expect(result.terminatingSignal == nil)
        #expect(result.outputTail == "oops\n")
    }

    @Test func stdoutAndStderrAreInterleavedInOrder() async throws {
        let result = try await run(["sh", "-c", "echo one; echo two >&2; echo three"])
        #expect(result.outputTail == "one\ntwo\nthree\n")
    }

    @Test func killedBySignalReportsSignalAndNoExitCode() async throws {
        let result = try await run(["sh", "-c", "kill -KILL $$"])
        #expect(result.exitCode == nil)
        #expect(result.terminatingSignal == SIGKILL)
        #expect(!result.timedOut)
        #expect(!result.interrupted)
    }

    // MARK: Output

    @Test func hugeOutputKeepsOnlyTheTail() async throws {
        let total = 200_000_000
        let peakBefore = CommandTestSupport.peakResidentKilobytes()
        let result = try await run(["head", "-c", "\(total)", "/dev/zero"], outputLimit: 4096)
        // Keeping the output would raise the peak by ~200 MB.
        let peakGrowth = CommandTestSupport.peakResidentKilobytes() - peakBefore
        #expect(peakGrowth < 64 * 1024, "peak RSS grew by \(peakGrowth) KiB")
        #expect(result.exitCode == 0)
        #expect(result.totalOutputBytes == total)
        let prefix = "…[\(total - 4096) bytes truncated]\n"
        #expect(result.outputTail.hasPrefix(prefix))
        #expect(result.outputTail.utf8.count == prefix.utf8.count + 4096)
        #expect(result.outputTail.utf8.dropFirst(prefix.utf8.count).allSatisfy { $0 == 0 })
        // How fast it reads is the benchmarks' business; this test holds memory to the tail.
    }

    @Test func tailIsTheLastBytesOfTheStream() async throws {
        let result = try await run(["seq", "1", "100000"], outputLimit: 20)
        let expected = (1...100_000).map { "\($0)\n" }.joined()
        #expect(result.totalOutputBytes == expected.utf8.count)
        let lastBytes = String(decoding: expected.utf8.suffix(20), as: UTF8.self)
        #expect(result.outputTail == "…[\(expected.utf8.count - 20) bytes truncated]\n" + lastBytes)
    }

    @Test func outputIsDecodedLossily() async throws {
        let result = try await run(["printf", "\\377abc"])
        #expect(result.outputTail == "\u{FFFD}abc")
        #expect(result.totalOutputBytes == 4)
    }

    @Test func zeroOutputLimitKeepsNothingButCounts() async throws {
        let result = try await run(["printf", "abc"], outputLimit: 0)
        #expect(result.totalOutputBytes == 3)
        #expect(result.outputTail == "…[3 bytes truncated]\n")
    }

    // MARK: Environment, directory, argv, stdin

    @Test func environmentIsInheritedAndExtended() async throws {
        let result = try await run(
            ["sh", "-c", "printf '%s|%s' \"$JOB_NAME\" \"$PATH\""],
            environment: ["JOB_NAME": "nightly-backup"]
        )
        let inheritedPath = getenv("PATH").map { String(cString: $0) } ?? ""
        #expect(result.outputTail == "nightly-backup|\(inheritedPath)")
    }

    @Test func workingDirectoryIsHonoured() async throws {
        let directory = try CommandTestSupport.makeTemporaryDirectory()
        let result = try await run(["pwd", "-P"], workingDirectory: directory)
        await CommandTestSupport.removeTree(directory)
        #expect(result.exitCode == 0)
        #expect(result.outputTail == directory + "\n")
    }

    @Test func missingWorkingDirectoryThrowsClearError() async throws {
        let missing = "/nonexistent/jobrunner-\(getpid())"
        let error = try await #require(throws: CommandExecutorError.self) {
            _ = try await run(["pwd"], workingDirectory: missing)
        }
        guard case .workingDirectoryUnavailable(let path, _) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(path == missing)
        #expect(error.description.hasPrefix("working directory unavailable: \"\(missing)\""))
        #expect(!error.description.contains("\n"))
    }

    @Test func argvIsPassedLiterallyWithoutAShell() async throws {
        let result = try await run(["printf", "%s\\n", "$(id)", ";", "*", "a b", "`x`"])
        #expect(result.exitCode == 0)
        #expect(result.outputTail == "$(id)\n;\n*\na b\n`x`\n")
    }

    @Test func standardInputIsDevNull() async throws {
        let result = try await run(["sh", "-c", "readlink /proc/self/fd/0; cat"])
        #expect(result.exitCode == 0)
        #expect(result.outputTail == "/dev/null\n")
    }

    @Test func absolutePathExecutableRuns() async throws {
        let result = try await run(["/bin/sh", "-c", "exit 7"])
        #expect(result.exitCode == 7)
    }

    // MARK: Launch errors

    @Test func commandNotFound() async throws {
        let error = try await #require(throws: CommandExecutorError.self) {
            _ = try await run(["nosuchcmd"])
        }
        #expect(error == .commandNotFound("nosuchcmd"))
        #expect(error.description == #"command not found: "nosuchcmd""#)
    }

    @Test func missingPathIsNotFound() async throws {
        let error = try await #require(throws: CommandExecutorError.self) {
            _ = try await run(["/nonexistent/bin/tool"])
        }
        #expect(error.description == #"command not found: "/nonexistent/bin/tool""#)
    }

    @Test func nonExecutableFileIsPermissionDenied() async throws {
        let directory = try CommandTestSupport.makeTemporaryDirectory()
        let script = directory + "/script.sh"
        try CommandTestSupport.writeFile(script, "#!/bin/sh\necho hi\n", mode: 0o644)
        let thrown = await #expect(throws: CommandExecutorError.self) {
            _ = try await run([script])
        }
        await CommandTestSupport.removeTree(directory)
        #expect(thrown?.description == "permission denied: \"\(script)\"")
    }

    @Test func fileThatIsNotAnExecutableFailsToStart() async throws {
        let directory = try CommandTestSupport.makeTemporaryDirectory()
        let script = directory + "/no-shebang"
        try CommandTestSupport.writeFile(script, "echo hi\n", mode: 0o755)
        let thrown = await #expect(throws: CommandExecutorError.self) {
            _ = try await run([script])
        }
        await CommandTestSupport.removeTree(directory)
        #expect(thrown?.description == "failed to start \"\(script)\": Exec format error")
    }

    @Test func directoryAsCommandIsReported() async throws {
        let error = try await #require(throws: CommandExecutorError.self) {
            _ = try await run(["/tmp"])
        }
        #expect(error.description == #"is a directory: "/tmp""#)
    }

    @Test func invalidSpecsAreRejectedBeforeSpawning() async throws {
        await #expect(throws: CommandExecutorError.self) {
            _ = try await run(["echo", "a\u{0}b"])
        }
        await #expect(throws: CommandExecutorError.self) {
            _ = try await run(["env"], environment: ["A=B": "c"])
        }
        await #expect(throws: CommandExecutorError.self) {
            _ = try await run(["env"], environment: ["": "c"])
        }
    }

    @Test func emptyArgvIsRejected() async throws {
        await #expect(throws: CommandExecutorError.emptyCommand) {
            _ = try await run([])
        }
    }

    @Test func errorDescriptionsAreOneLine() {
        let error = CommandExecutorError.commandNotFound("bad\nname\"x")
        #expect(error.description == #"command not found: "bad\nname\"x""#)
        #expect(!error.description.contains("\n"))
        let launch = CommandExecutorError.launchFailed(command: "x", reason: "a\nb")
        #expect(launch.description == #"failed to start "x": a b"#)
    }

    // MARK: Timeout and cancellation

    @Test func timeoutEscalatesToSIGKILLWhenTermIsIgnored() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await run(
            ["sh", "-c", "trap '' TERM; echo ready; sleep 100"],
            timeout: .milliseconds(300),
            grace: .milliseconds(500)
        )
        let elapsed = clock.now - start
        #expect(result.timedOut)
        #expect(!result.interrupted)
        #expect(result.exitCode == nil)
        #expect(result.terminatingSignal == SIGKILL)
        #expect(result.outputTail == "ready\n")
        // Not before the timeout and the grace; that it did not run its 100 s is the SIGKILL above.
        #expect(elapsed >= .milliseconds(800))
    }

    @Test func timeoutSIGTERMStopsACooperativeChildBeforeTheGrace() async throws {
        let result = try await run(["sleep", "100"], timeout: .milliseconds(200), grace: .seconds(30))
        #expect(result.timedOut)
        // Stopped by the SIGTERM, not by a SIGKILL after the 30 s grace, nor at the end of its 100 s.
        #expect(result.terminatingSignal == SIGTERM)
    }

    @Test func timeoutAppliesAfterTheChildClosedItsOutput() async throws {
        let result = try await run(
            ["sh", "-c", "echo bye; exec >/dev/null 2>&1; exec sleep 100"],
            timeout: .milliseconds(300),
            grace: .seconds(5)
        )
        #expect(result.timedOut)
        #expect(result.terminatingSignal == SIGTERM)
        #expect(result.outputTail == "bye\n")
    }

    @Test func noTimeoutWhenCommandFinishesInTime() async throws {
        let result = try await run(["true"], timeout: .seconds(30))
        #expect(result.exitCode == 0)
        #expect(!result.timedOut)
    }

    @Test func cancellationTerminatesAndReportsInterrupted() async throws {
        let directory = try CommandTestSupport.makeTemporaryDirectory()
        let marker = directory + "/started"
        let task = Task {
            try await run(
                ["sh", "-c", "echo started; touch \"$MARKER\"; exec sleep 100"],
                environment: ["MARKER": marker],
                timeout: nil,
                grace: .seconds(30)
            )
        }
        try await waitUntil("the command started", timeout: CommandTestSupport.deadline) {
            CommandTestSupport.fileExists(marker)
        }
        task.cancel()
        let result = try await task.value
        await CommandTestSupport.removeTree(directory)
        #expect(result.interrupted)
        #expect(!result.timedOut)
        #expect(result.terminatingSignal == SIGTERM)
        #expect(result.outputTail == "started\n")
    }

    @Test func cancellationEscalatesToSIGKILLAfterGrace() async throws {
        let directory = try CommandTestSupport.makeTemporaryDirectory()
        let marker = directory + "/started"
        let task = Task {
            try await run(
                ["sh", "-c", "trap '' TERM; touch \"$MARKER\"; sleep 100"],
                environment: ["MARKER": marker],
                timeout: nil,
                grace: .milliseconds(300)
            )
        }
        try await waitUntil("the command started", timeout: CommandTestSupport.deadline) {
            CommandTestSupport.fileExists(marker)
        }
        task.cancel()
        let result = try await task.value
        await CommandTestSupport.removeTree(directory)
        #expect(result.interrupted)
        #expect(result.terminatingSignal == SIGKILL)
    }

    @Test func alreadyCancelledCallerStillGetsAResult() async throws {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await run(["sleep", "100"], timeout: nil, grace: .seconds(30))
        }
        let result = try await task.value
        #expect(result.interrupted)
        #expect(result.exitCode == nil)
        #expect(result.terminatingSignal == SIGTERM)
    }

    // MARK: Isolation from the parent

    @Test func onlyStandardDescriptorsReachTheChild() async throws {
        // Deliberately without CLOEXEC: the executor must close them anyway.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let fileFD = open("/dev/zero", O_RDONLY)
        #expect(fileFD >= 0)
        defer {
            close(fds[0])
            close(fds[1])
            close(fileFD)
        }
        let listing = try await run(["ls", "/proc/self/fd"])
        let open = Set(listing.outputTail.split(separator: "\n").map(String.init))
        // 0, 1, 2 plus the directory descriptor ls itself uses to list.
        #expect(open.isSuperset(of: ["0", "1", "2"]))
        #expect(open.count <= 4, "child saw descriptors \(open.sorted())")

        let targets = try await run([
            "sh", "-c", "for f in 0 1 2 3 4 5 6 7 8 9 10 11 12; do readlink /proc/self/fd/$f; done; exit 0",
        ])
        #expect(!targets.outputTail.contains("/dev/zero"), "\(targets.outputTail)")
        var info = stat()
        #expect(fstat(fds[0], &info) == 0)
        #expect(!targets.outputTail.contains("pipe:[\(info.st_ino)]"), "\(targets.outputTail)")
    }

    @Test func childLeadsItsOwnProcessGroup() async throws {
        let result = try await run(["sh", "-c", "set -- $(cat /proc/$$/stat); echo $5 $$"])
        let fields = result.outputTail.split(whereSeparator: { $0 == "\n" || $0 == " " })
        try #require(fields.count == 2, "\(result.outputTail)")
        #expect(fields[0] == fields[1])
        #expect(Int32(fields[0]) != getpgrp())
    }

    @Test func backgroundChildrenAreKilledAfterExit() async throws {
        // The shell exits at once; its background `sleep` (even ignoring
        // SIGTERM) must not outlive the job.
        let result = try await run(["sh", "-c", "(trap '' TERM; exec sleep 1000) & echo $!"])
        #expect(result.exitCode == 0)
        let pid = try #require(Int32(result.outputTail.split(separator: "\n").first ?? ""))
        try await waitUntil("background child \(pid) is gone", timeout: CommandTestSupport.deadline) {
            CommandTestSupport.processIsGone(pid)
        }
    }

    @Test func timeoutKillsTheWholeProcessGroup() async throws {
        let result = try await run(
            ["sh", "-c", "sleep 1000 & echo $!; wait"],
            timeout: .milliseconds(300),
            grace: .seconds(5)
        )
        #expect(result.timedOut)
        let pid = try #require(Int32(result.outputTail.split(separator: "\n").first ?? ""))
        try await waitUntil("grandchild \(pid) is gone", timeout: CommandTestSupport.deadline) {
            CommandTestSupport.processIsGone(pid)
        }
    }

    @Test func waitingDoesNotBlockTheCooperativePool() async throws {
        // More concurrent long-running commands than this machine has cores:
        // if waiting or reading blocked pool threads, the probe could not run.
        let directory = try CommandTestSupport.makeTemporaryDirectory()
        let count = 6
        try await withThrowingTaskGroup(of: CommandResult?.self) { group in
            for index in 0..<count {
                group.addTask {
                    try await run(
                        ["sh", "-c", "touch \"$DIR/$N\"; exec sleep 100"],
                        environment: ["DIR": directory, "N": "\(index)"],
                        timeout: .seconds(60),
                        grace: .seconds(5)
                    )
                }
            }
            try await waitUntil("all \(count) commands started", timeout: CommandTestSupport.deadline) {
                (0..<count).allSatisfy { CommandTestSupport.fileExists("\(directory)/\($0)") }
            }
            let clock = ContinuousClock()
            let start = clock.now
            let probe = await Task { (1...1000).reduce(0, +) }.value
            #expect(probe == 500_500)
            // Blocked threads would hold the probe until the commands end (their 60 s timeout): a
            // bound far below that, and far above a busy machine's scheduling delays, tells the two apart.
            #expect(clock.now - start < .seconds(20))
            group.cancelAll()
            var interrupted = 0
            for try await result in group where result?.interrupted == true {
                interrupted += 1
            }
            #expect(interrupted == count)
        }
        await CommandTestSupport.removeTree(directory)
    }
}
