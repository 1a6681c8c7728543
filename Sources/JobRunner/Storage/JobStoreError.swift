/// A failure of the database under a ``JobStore``, whatever the store: the same kinds for every
/// backend, with the backend's own code and message kept.
///
/// The description is one line, for example:
///
/// ```
/// SQLite error 5 (SQLITE_BUSY): database is locked — while executing `BEGIN IMMEDIATE`
/// ```
///
/// Bound values never appear in it.
public struct JobStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in terms that do not depend on the database.
    public enum Kind: Sendable, Hashable {
        /// Another writer held the database longer than the busy timeout; retrying may succeed.
        case busy
        /// The database (or its directory) cannot be written by this process.
        case readOnly
        /// The disk (or a quota) is full.
        case full
        /// The file or server is not a database this backend can read.
        case notADatabase
        /// The database is damaged.
        case corrupt
        /// The database cannot be opened or reached.
        case unavailable
        /// Anything else.
        case other
    }

    /// What went wrong.
    public var kind: Kind
    /// The backend that failed, such as `SQLite`.
    public var backend: String
    /// The backend's own code (for SQLite, the extended result code).
    public var code: Int
    /// The backend's own message.
    public var message: String
    /// The backend's one-line description: code, message, and the statement (never its values).
    public var description: String

    /// Creates an error.
    package init(kind: Kind, backend: String, code: Int, message: String, description: String) {
        self.kind = kind
        self.backend = backend
        self.code = code
        self.message = message
        self.description = description
    }
}
