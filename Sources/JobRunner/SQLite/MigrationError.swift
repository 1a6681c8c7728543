/// The database's schema cannot be used by this version of JobRunner.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case newerSchema(found: Int, known: Int)
        case failed(version: Int, name: String, underlying: String)
    }

    private let code: Code
    /// Where the error was raised.
    package let file: String
    /// Where the error was raised.
    package let line: Int

    private init(_ code: Code, file: String, line: Int) {
        self.code = code
        self.file = file
        self.line = line
    }

    static func newerSchema(found: Int, known: Int, file: String = #fileID, line: Int = #line) -> MigrationError {
        MigrationError(.newerSchema(found: found, known: known), file: file, line: line)
    }

    static func failed(
        version: Int,
        name: String,
        underlying: any Error,
        file: String = #fileID,
        line: Int = #line
    ) -> MigrationError {
        MigrationError(.failed(version: version, name: name, underlying: "\(underlying)"), file: file, line: line)
    }

    /// The one-line message.
    public var description: String {
        switch code {
        case .newerSchema(let found, let known):
            "database schema version \(found) is newer than this JobRunner understands (\(known)); upgrade jobctl"
        case .failed(let version, let name, let underlying):
            "migration \(version) (\(name)) failed: \(underlying)"
        }
    }
}
