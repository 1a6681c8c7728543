/// What a job runs.
public enum JobAction: Sendable, Hashable {
    /// A handler registered by name in the runner's ``JobRegistry``.
    case handler(String)
    /// A command: an argv array run without a shell, in `workingDirectory` (the runner's own when nil).
    case command([String], workingDirectory: String?)

    /// `handler` or `command`.
    public var kind: String {
        switch self {
        case .handler: "handler"
        case .command: "command"
        }
    }
}
