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
            return "command not found: \(Self.quoted(name))"
        case .permissionDenied(let name):
            return "permission denied: \(Self.quoted(name))"
        case .isADirectory(let name):
            return "is a directory: \(Self.quoted(name))"
        case .workingDirectoryUnavailable(let path, let reason):
            return "working directory unavailable: \(Self.quoted(path)) (\(Self.oneLine(reason)))"
        case .invalidSpec(let reason):
            return "invalid command: \(Self.oneLine(reason))"
        case .launchFailed(let command, let reason):
            return "failed to start \(Self.quoted(command)): \(Self.oneLine(reason))"
        case .monitoringFailed(let command, let reason):
            return "failed while running \(Self.quoted(command)): \(Self.oneLine(reason))"
        }
    }

    /// Double-quoted, with quotes, backslashes and control characters escaped
    /// so the description stays on one line.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
