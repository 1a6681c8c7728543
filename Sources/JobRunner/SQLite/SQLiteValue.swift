/// A value stored in or read from SQLite.
enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

extension SQLiteValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByNilLiteral {
    /// An integer.
    init(integerLiteral value: Int64) { self = .integer(value) }
    /// A text value.
    init(stringLiteral value: String) { self = .text(value) }
    /// Null.
    init(nilLiteral: ()) { self = .null }
}

extension SQLiteValue {
    /// An integer value, or null.
    static func int(_ value: Int64?) -> SQLiteValue { value.map(SQLiteValue.integer) ?? .null }
    /// An integer value from an `Int`, or null.
    static func int(_ value: Int?) -> SQLiteValue { value.map { .integer(Int64($0)) } ?? .null }
    /// A text value, or null.
    static func string(_ value: String?) -> SQLiteValue { value.map(SQLiteValue.text) ?? .null }
    /// A boolean stored as 0 or 1.
    static func bool(_ value: Bool) -> SQLiteValue { .integer(value ? 1 : 0) }
}
