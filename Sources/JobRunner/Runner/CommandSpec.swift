/// What to run for a command job.
///
/// `argv[0]` is the program: resolved through `PATH` when it contains no `/`
/// (like `execvp`), otherwise used as a path. No shell is ever involved, so
/// every element reaches the program literally.
struct CommandSpec: Sendable, Hashable {
    /// Program and arguments. Must be non-empty.
    var argv: [String]
    /// Variables added on top of (overriding) the runner's inherited environment.
    var environment: [String: String]
    /// Directory the child starts in; `nil` keeps the runner's.
    var workingDirectory: String?

    init(argv: [String], environment: [String: String] = [:], workingDirectory: String? = nil) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// How a command job ended.
struct CommandResult: Sendable, Hashable {
    /// Exit status when the process exited normally; `nil` when killed by a signal.
    var exitCode: Int32?
    /// The signal that killed the process; `nil` when it exited normally.
    var terminatingSignal: Int32?
    /// The last `outputLimit` bytes of stdout and stderr (interleaved as the
    /// child wrote them), whatever bytes they are (NULs, invalid UTF-8).
    /// Prefixed by `"…[N bytes truncated]\n"` when earlier output was dropped.
    var outputBytes: [UInt8]
    /// Every byte the child wrote to stdout and stderr, kept or not.
    var totalOutputBytes: Int
    /// The timeout elapsed and the process group was terminated.
    var timedOut: Bool
    /// The calling task was cancelled and the process group was terminated.
    var interrupted: Bool

    /// ``outputBytes`` decoded as UTF-8 with invalid sequences replaced.
    var outputTail: String { String(decoding: outputBytes, as: UTF8.self) }
}
