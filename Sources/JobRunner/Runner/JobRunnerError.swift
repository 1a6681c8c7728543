/// An error from JobRunner's API: bad input, an unknown job, a conflicting state.
///
/// The description is one line naming the problem, ready to show to a user.
public struct JobRunnerError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The kinds of error, for matching with `==` on ``kind``.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// A definition or argument breaks a documented rule.
        public static let invalidDefinition = Kind("invalid definition")
        /// No job has that name.
        public static let jobNotFound = Kind("job not found")
        /// A job with that name exists already.
        public static let jobExists = Kind("job exists")
        /// No queue has that name.
        public static let queueNotFound = Kind("queue not found")
        /// The operation does not fit the job's state.
        public static let invalidState = Kind("invalid state")
        /// The database cannot be used.
        public static let database = Kind("database")
        /// A wait ran out of time.
        public static let timedOut = Kind("timed out")
        /// The kind's name.
        public var description: String { name }
    }

    /// What went wrong, broadly.
    public let kind: Kind
    /// The one-line message.
    public let message: String
    /// Where the error was raised.
    package let file: String
    /// Where the error was raised.
    package let line: Int

    private init(_ kind: Kind, _ message: String, file: String, line: Int) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
    }

    /// The one-line message.
    public var description: String { message }

    /// Errors are equal when their kind and message are.
    public static func == (lhs: JobRunnerError, rhs: JobRunnerError) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message
    }

    package static func invalidDefinition(_ message: String, file: String = #fileID, line: Int = #line)
        -> JobRunnerError
    {
        JobRunnerError(.invalidDefinition, message, file: file, line: line)
    }

    package static func jobNotFound(_ name: String, file: String = #fileID, line: Int = #line) -> JobRunnerError {
        JobRunnerError(.jobNotFound, "no job named \(quoted(name))", file: file, line: line)
    }

    package static func jobExists(_ name: String, file: String = #fileID, line: Int = #line) -> JobRunnerError {
        JobRunnerError(
            .jobExists,
            "a job named \(quoted(name)) already exists (use --replace to redefine it)",
            file: file,
            line: line
        )
    }

    package static func queueNotFound(_ name: String, file: String = #fileID, line: Int = #line) -> JobRunnerError {
        JobRunnerError(.queueNotFound, "no queue named \(quoted(name))", file: file, line: line)
    }

    package static func invalidState(_ message: String, file: String = #fileID, line: Int = #line) -> JobRunnerError {
        JobRunnerError(.invalidState, message, file: file, line: line)
    }

    package static func database(_ message: String, file: String = #fileID, line: Int = #line) -> JobRunnerError {
        JobRunnerError(.database, message, file: file, line: line)
    }

    static func timedOut(_ message: String, file: String = #fileID, line: Int = #line) -> JobRunnerError {
        JobRunnerError(.timedOut, message, file: file, line: line)
    }

    /// A name in double quotes, with control characters escaped so the message stays one line.
    package static func quoted(_ name: String) -> String {
        var out = "\""
        for scalar in name.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
