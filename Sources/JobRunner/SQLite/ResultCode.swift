import CSQLite

/// A SQLite result code, primary or extended.
///
/// Extended codes match their primary code in pattern matching, so `catch ResultCode.busy`
/// also catches `SQLITE_BUSY_TIMEOUT`.
///
/// Related SQLite documentation: <https://www.sqlite.org/rescode.html>
struct ResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The raw SQLite code (extended when SQLite gave one).
    let rawValue: Int32

    /// Creates a result code from its raw value.
    init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary result code (the low 8 bits).
    var primary: ResultCode { ResultCode(rawValue: rawValue & 0xFF) }

    /// `SQLITE_OK`.
    static let ok = ResultCode(rawValue: SQLITE_OK)
    /// `SQLITE_ERROR`.
    static let error = ResultCode(rawValue: SQLITE_ERROR)
    /// `SQLITE_INTERNAL`.
    static let `internal` = ResultCode(rawValue: SQLITE_INTERNAL)
    /// `SQLITE_PERM`.
    static let permission = ResultCode(rawValue: SQLITE_PERM)
    /// `SQLITE_ABORT`.
    static let abort = ResultCode(rawValue: SQLITE_ABORT)
    /// `SQLITE_BUSY`.
    static let busy = ResultCode(rawValue: SQLITE_BUSY)
    /// `SQLITE_LOCKED`.
    static let locked = ResultCode(rawValue: SQLITE_LOCKED)
    /// `SQLITE_NOMEM`.
    static let noMemory = ResultCode(rawValue: SQLITE_NOMEM)
    /// `SQLITE_READONLY`.
    static let readOnly = ResultCode(rawValue: SQLITE_READONLY)
    /// `SQLITE_INTERRUPT`.
    static let interrupt = ResultCode(rawValue: SQLITE_INTERRUPT)
    /// `SQLITE_IOERR`.
    static let ioError = ResultCode(rawValue: SQLITE_IOERR)
    /// `SQLITE_CORRUPT`.
    static let corrupt = ResultCode(rawValue: SQLITE_CORRUPT)
    /// `SQLITE_FULL`.
    static let full = ResultCode(rawValue: SQLITE_FULL)
    /// `SQLITE_CANTOPEN`.
    static let cantOpen = ResultCode(rawValue: SQLITE_CANTOPEN)
    /// `SQLITE_CONSTRAINT`.
    static let constraint = ResultCode(rawValue: SQLITE_CONSTRAINT)
    /// `SQLITE_MISMATCH`.
    static let mismatch = ResultCode(rawValue: SQLITE_MISMATCH)
    /// `SQLITE_MISUSE`.
    static let misuse = ResultCode(rawValue: SQLITE_MISUSE)
    /// `SQLITE_NOTADB`.
    static let notADatabase = ResultCode(rawValue: SQLITE_NOTADB)
    /// `SQLITE_ROW`.
    static let row = ResultCode(rawValue: SQLITE_ROW)
    /// `SQLITE_DONE`.
    static let done = ResultCode(rawValue: SQLITE_DONE)

    /// The symbolic name of the code, such as `SQLITE_BUSY`, as given by `sqlite3_errstr` for the message.
    var name: String {
        switch primary.rawValue {
        case SQLITE_OK: "SQLITE_OK"
        case SQLITE_ERROR: "SQLITE_ERROR"
        case SQLITE_INTERNAL: "SQLITE_INTERNAL"
        case SQLITE_PERM: "SQLITE_PERM"
        case SQLITE_ABORT: "SQLITE_ABORT"
        case SQLITE_BUSY: "SQLITE_BUSY"
        case SQLITE_LOCKED: "SQLITE_LOCKED"
        case SQLITE_NOMEM: "SQLITE_NOMEM"
        case SQLITE_READONLY: "SQLITE_READONLY"
        case SQLITE_INTERRUPT: "SQLITE_INTERRUPT"
        case SQLITE_IOERR: "SQLITE_IOERR"
        case SQLITE_CORRUPT: "SQLITE_CORRUPT"
        case SQLITE_FULL: "SQLITE_FULL"
        case SQLITE_CANTOPEN: "SQLITE_CANTOPEN"
        case SQLITE_CONSTRAINT: "SQLITE_CONSTRAINT"
        case SQLITE_MISMATCH: "SQLITE_MISMATCH"
        case SQLITE_MISUSE: "SQLITE_MISUSE"
        case SQLITE_NOTADB: "SQLITE_NOTADB"
        case SQLITE_ROW: "SQLITE_ROW"
        case SQLITE_DONE: "SQLITE_DONE"
        default: "SQLITE_\(primary.rawValue)"
        }
    }

    /// The raw value and the name, e.g. `5 (SQLITE_BUSY)`.
    var description: String { "\(rawValue) (\(name))" }

    /// Matches a code against another: a primary pattern matches all its extended codes.
    static func ~= (pattern: ResultCode, code: ResultCode) -> Bool {
        if pattern.rawValue == pattern.primary.rawValue {
            return pattern.rawValue == code.primary.rawValue
        }
        return pattern.rawValue == code.rawValue
    }

    /// Matches an error against a code, so that `catch ResultCode.busy` works.
    static func ~= (pattern: ResultCode, error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return pattern ~= error.code
    }
}
