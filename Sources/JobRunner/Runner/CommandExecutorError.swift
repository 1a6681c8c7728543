/// Why a command could not be started. Descriptions are a single line.
enum CommandExecutorError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyCommand
    /// A spec value that can't be passed to a process (NUL bytes, bad variable name).
    case invalidSpec(String)
    case commandNotFound(String)
    case permissionDenied(String)
    case isADirectory(String)
    case workingDirectoryUnavailable(path: String, reason: String)
    case launchFailed(command: String, reason: String)
    /// Started, but watching or reading the process failed; it was killed.
    case monitoringFailed(command: String, reason: String)

    var description: String {
        switch self {
        case .emptyCommand:
            return "empty command: argv has no program"
        case .commandNotFound(let name):
            return "command not found: \(JobRunnerError.quoted(name))"
        case .permissionDenied(let name):
            return "permission denied: \(JobRunnerError.quoted(name))"
        case .isADirectory(let name):
            return "is a directory: \(JobRunnerError.quoted(name))"
        case .workingDirectoryUnavailable(let path, let reason):
            return "working directory unavailable: \(JobRunnerError.quoted(path)) (\(Self.oneLine(reason)))"
        case .invalidSpec(let reason):
            return "invalid command: \(Self.oneLine(reason))"
        case .launchFailed(let command, let reason):
            return "failed to start \(JobRunnerError.quoted(command)): \(Self.oneLine(reason))"
        case .monitoringFailed(let command, let reason):
            return "failed while running \(JobRunnerError.quoted(command)): \(Self.oneLine(reason))"
        }
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
