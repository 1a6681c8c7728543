import Foundation
import TestSupport

/// The sqlite3 shell, used to dump databases, to make foreign ones and to hold a write lock.
enum SQLiteShell {
    static let path: String? = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3", "/opt/homebrew/bin/sqlite3"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static func require() throws -> String {
        guard let path else { throw HarnessError("the sqlite3 shell is not installed (apt-get install sqlite3)") }
        return path
    }
}

extension Sandbox {
    /// Runs SQL with the sqlite3 shell; requires success.
    @discardableResult
    func sqlite(_ database: String, _ sql: String) async throws -> String {
        let result = try await run(executable: try SQLiteShell.require(), [database, sql])
        guard result.exitedNormally, result.status == 0, result.stderr.isEmpty else {
            throw HarnessError("sqlite3 failed:\n\(result)")
        }
        return result.stdout
    }

    /// The whole content of a database (the sandbox's unless given), to compare before and after a
    /// command that must change nothing.
    func dump(_ database: String? = nil) async throws -> String {
        let text = try await sqlite(database ?? db, ".dump")
        guard text.contains("CREATE TABLE") else { throw HarnessError("the dump of \(database ?? db) is empty") }
        return text
    }
}
