import Foundation
package import JobRunner

/// The two stores the side-by-side scenarios compare.
enum BenchStoreKind: String, Sendable, CaseIterable {
    case sqlite, postgres

    var label: String { self == .sqlite ? "SQLite" : "PostgreSQL" }
}

/// A fresh database of one scenario: a file in its own directory, or a database of its own on the
/// benchmark's PostgreSQL server.
struct BenchDatabase: Sendable {
    var kind: BenchStoreKind
    /// What `--db` takes: the file's path, or the database's URL.
    var location: String
    /// The PostgreSQL database's name (nil for a file).
    var databaseName: String?
}

/// Opens a store at a `postgres://` URL: given by jobctl when it is built with the PostgreSQL trait.
package typealias BenchURLOpener = @Sendable (String) async throws -> JobStore
/// Closes a store's connections (a PostgreSQL pool); given by jobctl with the opener.
package typealias BenchStoreCloser = @Sendable (JobStore) async -> Void

/// What the benchmark needs from a PostgreSQL server besides the store: creating and dropping the
/// database of each scenario, and reading the server's statistics. Through `psql` (the client
/// package that has `pgbench` too), so that the benchmark links nothing more than the store.
/// Database names are the benchmark's own (`jrbench_PID_N`), never input.
enum BenchPostgres {
    /// `url` with its database (the path after the authority) replaced by `name`.
    static func url(_ url: String, database name: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let slash = rest.firstIndex(of: "/")
        let query = rest.firstIndex(of: "?")
        let authorityEnd = [slash, query].compactMap { $0 }.min() ?? rest.endIndex
        let queryPart = query.map { String(rest[$0...]) } ?? ""
        return String(url[..<scheme.upperBound]) + rest[..<authorityEnd] + "/" + name + queryPart
    }

    /// Runs `sql` with psql on `url` and returns its unaligned, tuples-only output.
    ///
    /// Values go in `values`, never into `sql`: each becomes a psql variable, which `sql` quotes as a
    /// literal with `:'name'` (psql escapes it). psql interpolates variables only in a script, not
    /// in `-c`, so `sql` is run from a scratch file.
    @discardableResult
    static func query(
        _ context: BenchContext, _ url: String, _ sql: String, values: KeyValuePairs<String, String> = [:]
    ) async throws -> String {
        let script = context.scratchFile("psql.sql")
        let output = context.scratchFile("psql.out")
        let errors = context.scratchFile("psql.err")
        defer {
            for file in [script, output, errors] { try? FileManager.default.removeItem(atPath: file) }
        }
        try Data(sql.utf8).write(to: URL(fileURLWithPath: script))
        var arguments = [context.psql, "--no-psqlrc", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
        for (name, value) in values { arguments += ["-v", "\(name)=\(value)"] }
        try await BenchChild.run(arguments + ["-d", url, "-f", script], output: output, errors: errors)
        return try String(contentsOfFile: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The server's version (`server_version`).
    static func version(_ context: BenchContext, _ url: String) async throws -> String {
        try await query(context, url, "SHOW server_version")
    }

    /// The server settings that matter to the figures.
    static func settings(_ context: BenchContext, _ url: String) async throws -> String {
        try await query(
            context, url,
            """
            SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
            WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'wal_sync_method', 'max_connections')
            """)
    }
}

extension BenchContext {
    /// A fresh database for `name` in the given store.
    func freshDatabase(_ kind: BenchStoreKind, _ name: String) async throws -> BenchDatabase {
        switch kind {
        case .sqlite:
            return BenchDatabase(kind: .sqlite, location: try freshDatabase(name), databaseName: nil)
        case .postgres:
            guard let server = postgres else { throw BenchWait.TimedOut(description: "no PostgreSQL URL (--db)") }
            let database = "jrbench_\(getpid())_\(nextNumber())"
            try await BenchPostgres.query(self, server, "CREATE DATABASE \(database)")
            return BenchDatabase(
                kind: .postgres, location: BenchPostgres.url(server, database: database), databaseName: database)
        }
    }

    /// Opens the store of `database`.
    func open(_ database: BenchDatabase) async throws -> JobStore {
        switch database.kind {
        case .sqlite:
            return try await open(database.location)
        case .postgres:
            guard let openURL else { throw BenchWait.TimedOut(description: "this jobctl has no PostgreSQL store") }
            return try await openURL(database.location)
        }
    }

    /// Removes a database made by ``freshDatabase(_:_:)`` (unless `--keep`).
    func discard(_ database: BenchDatabase) async {
        switch database.kind {
        case .sqlite:
            discard(database.location)
        case .postgres:
            guard !keep, let server = postgres, let name = database.databaseName else { return }
            _ = try? await BenchPostgres.query(self, server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }
}
