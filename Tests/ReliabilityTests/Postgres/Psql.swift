import Foundation
import TestSupport

/// The test's own route into a PostgreSQL database, independent of the product's code: `psql` as a
/// subprocess (`-X`: no psqlrc). The SQL text is fixed by the test; every value goes in as a psql
/// variable (`-v name=value`, written `:'name'` in the SQL, which psql quotes as a literal), never
/// spliced into the text. The statement arrives on standard input, since psql interpolates variables
/// there and not in `-c`.
struct Psql: Sendable {
    /// A libpq connection URI (`postgresql://USER@HOST:PORT/DB` or `…/DB?host=/socket/dir&port=N`).
    let url: String

    /// psql: on PATH, else Debian's PostgreSQL 15.
    static let executable: String = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/lib/postgresql/15/bin"] {
            let candidate = "\(directory)/psql"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return "/usr/bin/psql"
    }()

    /// Runs `sql` (one or more statements) and returns what psql printed (unaligned, tuples only).
    @discardableResult
    func run(_ sql: String, _ variables: [String: String] = [:], timeout seconds: Int = 60) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        var arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) { arguments += ["-v", "\(name)=\(value)"] }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PGCLIENTENCODING"] = "UTF8"
        environment["PGCONNECT_TIMEOUT"] = "10"
        // A probe never waits long for a lock or a statement: a hang is a failure, reported.
        environment["PGOPTIONS"] = "-c statement_timeout=\(seconds)s -c lock_timeout=\(seconds)s"
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("psql-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        let errorHandle = try FileHandle(forWritingTo: errors)
        defer { try? errorHandle.close() }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errorHandle
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(sql.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw HarnessError(
                "psql exited \(process.terminationStatus): \(message.trimmingCharacters(in: .whitespacesAndNewlines))"
                    + " in: \(sql.prefix(300))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs one query (`sql`, no trailing semicolon) and returns its rows, each column in order, typed
    /// as JSON carries them: bigint as integer, text as text, NULL as null (booleans: cast to int).
    func rows(_ sql: String, _ variables: [String: String] = [:]) throws -> [[ProbeValue]] {
        // json (not jsonb) keeps the columns in their order; json_each then lists them in it.
        let wrapped = """
            SELECT coalesce(json_agg((
                SELECT coalesce(json_agg(c.value ORDER BY c.ordinality), '[]'::json)
                FROM json_each(row_to_json(t)) WITH ORDINALITY AS c)), '[]'::json)
            FROM (
            \(sql)
            ) AS t;
            """
        let text = try run(wrapped, variables)
        guard let rows = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? [Any]
        else { throw HarnessError("psql: not a JSON array: \(text.prefix(200))") }
        return try rows.map { row in
            guard let columns = row as? [Any] else { throw HarnessError("psql: a row is not an array: \(row)") }
            return columns.map(Self.value)
        }
    }

    /// The first column of the first row, as an integer.
    func int(_ sql: String, _ variables: [String: String] = [:]) throws -> Int64 {
        guard let value = try rows(sql, variables).first?.first?.int else {
            throw HarnessError("psql: no integer from \(sql)")
        }
        return value
    }

    /// The first column of every row, as text.
    func strings(_ sql: String, _ variables: [String: String] = [:]) throws -> [String] {
        try rows(sql, variables).map { $0.first?.string ?? "" }
    }

    private static func value(_ json: Any) -> ProbeValue {
        switch json {
        case is NSNull: return .null
        case let text as String: return .text(text)
        case let number as NSNumber:
            let double = number.doubleValue
            if double.rounded() == double, abs(double) < 9.0e18 { return .integer(number.int64Value) }
            return .real(double)
        default: return .text("\(json)")
        }
    }
}
