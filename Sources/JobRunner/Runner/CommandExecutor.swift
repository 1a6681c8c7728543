import Subprocess
import SystemPackage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a command job as a child process, built on swift-subprocess.
///
/// * Spawning: swift-subprocess `posix_spawn`s the child with stdin on
///   `/dev/null`, `closefrom(3)` (so no parent descriptor other than 0, 1, 2
///   leaks), `setpgid(0, 0)` (the child leads a new process group), `fchdir`
///   to the working directory, and PATH resolution for names without `/`.
/// * Waiting and reading never block the cooperative pool: swift-subprocess
///   watches the child's pidfd and the non-blocking output pipe on its own
///   epoll thread and resumes continuations from there.
/// * Timeout and cancellation are handled here by a watchdog task, which sends
///   SIGTERM to the process group, waits `terminationGrace`, then sends SIGKILL
///   to the group. The subprocess itself runs in an unstructured task so the
///   caller's cancellation reaches only the watchdog: output keeps being read
///   until the child is gone, and a result (not an error) comes back.
/// * After the child has exited, whatever is left in its process group is
///   SIGKILLed, so background children of the command don't outlive it.
enum CommandExecutor {
    /// Runs `spec` to completion.
    ///
    /// - Parameters:
    ///   - timeout: Wall-clock limit (ContinuousClock) from launch; `nil` for none.
    ///   - terminationGrace: Time between SIGTERM and SIGKILL on timeout or cancellation.
    ///   - interruptionGrace: If given, asked for the time between SIGTERM and SIGKILL when the
    ///     calling task is cancelled (a runner fencing itself has less time than a drain).
    ///   - outputLimit: Number of trailing output bytes kept in `outputTail`.
    /// - Returns: The outcome, also when the child was killed on timeout or
    ///   because the calling task was cancelled (`timedOut` / `interrupted`).
    /// - Throws: `CommandExecutorError` when the command can't be started.
    static func run(
        _ spec: CommandSpec,
        timeout: Duration?,
        terminationGrace: Duration,
        outputLimit: Int,
        interruptionGrace: (@Sendable () -> Duration)? = nil,
        onLaunch: (@Sendable (pid_t) -> Void)? = nil
    ) async throws -> CommandResult {
        guard let program = spec.argv.first, !program.isEmpty else {
            throw CommandExecutorError.emptyCommand
        }
        try validate(spec)
        let (cancelSignal, cancelContinuation) = AsyncStream.makeStream(
            of: Duration.self,
            bufferingPolicy: .bufferingNewest(1)
        )
        // Unstructured on purpose: the caller's cancellation must not cancel
        // the output reading or the wait for the child; it is turned into a
        // termination request for the watchdog instead.
        let execution = Task {
            try await execute(
                spec,
                program: program,
                timeout: timeout,
                terminationGrace: terminationGrace,
                outputLimit: outputLimit,
                cancelSignal: cancelSignal,
                onLaunch: onLaunch
            )
        }
        defer { cancelContinuation.finish() }
        return try await withTaskCancellationHandler {
            try await execution.value
        } onCancel: {
            cancelContinuation.yield(interruptionGrace?() ?? terminationGrace)
        }
    }

    /// Why the watchdog terminated the process group.
    private enum TerminationCause: Sendable {
        case timedOut
        case interrupted
    }

    /// Rejects what C strings would silently truncate or `execve` misread.
    private static func validate(_ spec: CommandSpec) throws {
        for (index, argument) in spec.argv.enumerated() where argument.utf8.contains(0) {
            throw CommandExecutorError.invalidSpec("argv[\(index)] contains a NUL byte")
        }
        for (name, value) in spec.environment {
            if name.isEmpty || name.utf8.contains(UInt8(ascii: "=")) || name.utf8.contains(0) {
                throw CommandExecutorError.invalidSpec(
                    "environment variable name \(JobRunnerError.quoted(name)) is empty or contains '=' or NUL"
                )
            }
            if value.utf8.contains(0) {
                throw CommandExecutorError.invalidSpec("environment variable \(name) contains a NUL byte")
            }
        }
        if let directory = spec.workingDirectory, directory.isEmpty || directory.utf8.contains(0) {
            throw CommandExecutorError.invalidSpec("working directory is empty or contains a NUL byte")
        }
    }

    @concurrent
    private static func execute(
        _ spec: CommandSpec,
        program: String,
        timeout: Duration?,
        terminationGrace: Duration,
        outputLimit: Int,
        cancelSignal: AsyncStream<Duration>,
        onLaunch: (@Sendable (pid_t) -> Void)?
    ) async throws -> CommandResult {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        let (launchedPIDs, launchedContinuation) = AsyncStream.makeStream(
            of: pid_t.self,
            bufferingPolicy: .bufferingNewest(1)
        )

        var platformOptions = PlatformOptions()
        platformOptions.processGroupID = 0
        // Only used by swift-subprocess itself if reading output fails; the
        // implicit final SIGKILL also goes to the group.
        platformOptions.teardownSequence = [
            .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: terminationGrace)
        ]

        var overrides: [Environment.Key: String?] = [:]
        for (name, value) in spec.environment {
            if let key = Environment.Key(rawValue: name) {
                overrides[key] = value
            }
        }

        let executable: Executable =
            program.contains("/")
            ? .path(FilePath(program))
            : .name(program)

        return try await withThrowingTaskGroup(of: TerminationCause?.self) { group in
            group.addTask {
                await watchdog(
                    launchedPIDs: launchedPIDs,
                    cancelSignal: cancelSignal,
                    deadline: deadline,
                    grace: terminationGrace
                )
            }

            let outcome: ExecutionResult<CommandOutputTail, SequenceOutput, CombinedErrorOutput>
            var launchedPID: pid_t?
            do {
                outcome = try await Subprocess.run(
                    executable,
                    arguments: Arguments(Array(spec.argv.dropFirst())),
                    environment: .inherit.updating(overrides),
                    workingDirectory: spec.workingDirectory.map { FilePath($0) },
                    platformOptions: platformOptions,
                    input: .none,
                    output: .sequence,
                    error: .combinedWithOutput
                ) { execution in
                    launchedPID = execution.processIdentifier.value
                    launchedContinuation.yield(execution.processIdentifier.value)
                    onLaunch?(execution.processIdentifier.value)
                    var tail = CommandOutputTail(limit: outputLimit)
                    for try await chunk in execution.standardOutput {
                        chunk.withUnsafeBytes { tail.append($0) }
                    }
                    return tail
                }
            } catch {
                launchedContinuation.finish()
                group.cancelAll()
                if let launchedPID {
                    // swift-subprocess has already torn the child down; sweep its group too.
                    signalProcessGroup(launchedPID, SIGKILL)
                    throw CommandExecutorError.monitoringFailed(command: program, reason: String(describing: error))
                }
                throw launchError(error, spec: spec, program: program)
            }
            launchedContinuation.finish()
            // The child has been reaped; stop the watchdog (a pending SIGKILL
            // is replaced by the sweep below) and kill anything left in its group.
            group.cancelAll()
            signalProcessGroup(outcome.processIdentifier.value, SIGKILL)

            var cause: TerminationCause?
            for try await watchdogCause in group where watchdogCause != nil {
                cause = watchdogCause
            }

            let tail = outcome.closureResult
            var result = CommandResult(
                exitCode: nil,
                terminatingSignal: nil,
                outputBytes: tail.bytes,
                totalOutputBytes: tail.totalBytes,
                timedOut: cause == .timedOut,
                interrupted: cause == .interrupted
            )
            switch outcome.terminationStatus {
            case .exited(let code):
                result.exitCode = code
            case .signaled(let signal):
                result.terminatingSignal = signal
            }
            return result
        }
    }

    /// Waits for the launch, then for the deadline or a cancellation request,
    /// and then runs SIGTERM → grace → SIGKILL on the process group (a
    /// cancellation request says its own grace). Returns the cause if it
    /// started terminating. Cancelled once the child is reaped.
    @concurrent
    private static func watchdog(
        launchedPIDs: AsyncStream<pid_t>,
        cancelSignal: AsyncStream<Duration>,
        deadline: ContinuousClock.Instant?,
        grace: Duration
    ) async -> TerminationCause? {
        var pids = launchedPIDs.makeAsyncIterator()
        guard let pid = await pids.next() else { return nil }

        let trigger = await withTaskGroup(of: (TerminationCause, Duration)?.self) { triggers in
            if let deadline {
                triggers.addTask {
                    do {
                        try await Task.sleep(until: deadline, clock: .continuous)
                        return (.timedOut, grace)
                    } catch {
                        return nil
                    }
                }
            }
            triggers.addTask {
                var requests = cancelSignal.makeAsyncIterator()
                return await requests.next().map { (.interrupted, $0) }
            }
            // Both triggers only return nil when cancelled (the cancel stream
            // is finished only after the run is over), so the first answer decides.
            let first = await triggers.next() ?? nil
            triggers.cancelAll()
            return first
        }
        guard let (cause, grace) = trigger, !Task.isCancelled else { return nil }

        // Nothing left to signal means the child ended on its own first.
        guard signalProcessGroup(pid, SIGTERM) else { return nil }
        do {
            try await Task.sleep(for: grace)
        } catch {
            // Cancelled: the child is gone and the caller sweeps the group.
            return cause
        }
        signalProcessGroup(pid, SIGKILL)
        return cause
    }

    /// `kill(-pgid, signal)`; false when no process of the group is left.
    @discardableResult
    private static func signalProcessGroup(_ pgid: pid_t, _ signal: Int32) -> Bool {
        guard pgid > 1 else { return false }
        return kill(-pgid, signal) == 0
    }

    private static func launchError(_ error: any Error, spec: CommandSpec, program: String) -> any Error {
        guard let error = error as? SubprocessError else { return error }
        let reason = error.underlyingError.map { String(describing: $0) } ?? String(describing: error)
        if error.code == .executableNotFound {
            return diagnoseMissingExecutable(
                program, spec: spec, reason: error.underlyingError.map { String(describing: $0) })
        }
        if error.code == .failedToChangeWorkingDirectory {
            return CommandExecutorError.workingDirectoryUnavailable(
                path: spec.workingDirectory ?? "",
                reason: reason
            )
        }
        return CommandExecutorError.launchFailed(command: program, reason: reason)
    }

    /// swift-subprocess reports every failed candidate as "not found"; look at
    /// the candidates again to tell "not executable" and "is a directory" apart.
    private static func diagnoseMissingExecutable(
        _ program: String,
        spec: CommandSpec,
        reason: String?
    ) -> CommandExecutorError {
        let candidates: [String]
        if program.contains("/") {
            candidates = [program]
        } else {
            let searchPath = spec.environment["PATH"] ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
            candidates =
                searchPath
                .split(separator: ":", omittingEmptySubsequences: false)
                .map { ($0.isEmpty ? "." : String($0)) + "/" + program }
        }
        var found: CommandExecutorError?
        for candidate in candidates where found == nil {
            var info = stat()
            guard stat(candidate, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                found = .isADirectory(program)
            } else if access(candidate, X_OK) != 0 {
                found = .permissionDenied(program)
            } else {
                // Exists and is executable, yet exec failed: typically a `#!` line
                // naming a missing interpreter (the kernel reports ENOENT).
                found = .launchFailed(
                    command: program,
                    reason: "exec failed: \(reason ?? "unknown error") (missing #! interpreter?)"
                )
            }
        }
        return found ?? .commandNotFound(program)
    }
}
