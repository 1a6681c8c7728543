/// An error explaining why a scheduling input (a duration, a timestamp, a cron
/// expression or a time-zone name) was rejected.
///
/// `description` is a single line that names the offending input and the problem,
/// suitable for showing to a user verbatim.
public struct ScheduleError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The one-line, human-readable explanation of the problem.
    public let message: String

    /// Creates an error carrying the given one-line message.
    package init(_ message: String) {
        self.message = message
    }

    /// The one-line explanation (same as ``message``).
    public var description: String { message }

    /// Quotes user input for inclusion in a message: long inputs are truncated and
    /// control characters are escaped so the message always stays on one line.
    static func quote(_ text: String, limit: Int = 80) -> String {
        var shown = text
        if text.utf8.count > limit {
            shown = String(text.prefix(limit)) + "…"
        }
        return shown.debugDescription
    }
}
