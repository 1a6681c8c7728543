/// An error reported by SQLite, with the statement that failed.
///
/// The description is one line, for example:
///
/// ```
/// SQLite error 5 (SQLITE_BUSY): database is locked — while executing `BEGIN IMMEDIATE`
/// ```
///
/// Bound values never appear in it.
struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code.
    var code: ResultCode
    /// The message SQLite gave (`sqlite3_errmsg`), captured at once.
    var message: String
    /// The SQL being executed, if any.
    var sql: String?

    /// Creates an error.
    init(code: ResultCode, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// One line: code, message, and the statement (never its bound values).
    var description: String {
        var text = "SQLite error \(code): \(message)"
        if let sql {
            // Fold the statement onto one line so that the whole error stays one line.
            let words = sql.split(whereSeparator: { $0 == " " || $0 == "\t" || $0.isNewline })
            text += " — while executing `\(words.joined(separator: " "))`"
        }
        return text
    }
}
