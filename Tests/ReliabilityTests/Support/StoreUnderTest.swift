import Foundation
import JobRunner
import Synchronization
import TestSupport

#if PostgreSQL
    import JobRunnerPostgres
#endif

/// The store a scenario runs on. The store-neutral scenarios take one and run unchanged on either:
/// the SQLite suites pass `.sqlite`, the PostgreSQL suite (`Postgres/PostgresScenarios.swift`) `.postgres`.
enum StoreKind: String, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    var description: String { rawValue }

    /// What a scenario's figures are named with on this store.
    func figures(_ scenario: String) -> String { self == .sqlite ? scenario : scenario + " (postgres)" }
}

/// Whether `database` (a `--db` value) names a PostgreSQL database rather than a SQLite file.
func isPostgresURL(_ database: String) -> Bool {
    database.hasPrefix("postgres://") || database.hasPrefix("postgresql://")
}

/// The database of each sandbox whose scenario does not run on its SQLite file, by sandbox tag.
private let sandboxDatabases = Mutex<[String: String]>([:])

extension Sandbox {
    /// Runs `body` in a fresh sandbox on `store` (a new database of its own on PostgreSQL, dropped
    /// afterwards), and cleans up afterwards, whatever happens.
    static func with<T>(_ name: String, store: StoreKind, _ body: (Sandbox) async throws -> T) async throws -> T {
        switch store {
        case .sqlite:
            return try await with(name, body)
        case .postgres:
            let database = try await offThePool { try TestPostgres.createDatabase() }
            do {
                let result = try await with(name) { sandbox in
                    sandbox.useDatabase(database)
                    defer { sandbox.forgetDatabase() }
                    return try await body(sandbox)
                }
                await offThePool { TestPostgres.dropDatabase(database) }
                return result
            } catch {
                await offThePool { TestPostgres.dropDatabase(database) }
                throw error
            }
        }
    }

    /// Makes `url` the scenario's database (for scenarios that bring a server of their own), until
    /// ``forgetDatabase()``.
    func useDatabase(_ url: String) { sandboxDatabases.withLock { $0[tag] = url } }

    func forgetDatabase() { sandboxDatabases.withLock { $0[tag] = nil } }

    /// The scenario's database, as `--db` takes it: the sandbox's SQLite file, or a PostgreSQL URL.
    var database: String { sandboxDatabases.withLock { $0[tag] } ?? db }

    /// The store the scenario runs on.
    var store: StoreKind { isPostgresURL(database) ? .postgres : .sqlite }

    /// Whether the scenario's store exists yet: the SQLite file, or JobRunner's schema in the PostgreSQL
    /// database (which the test creates empty).
    func storeExists() throws -> Bool {
        guard store == .postgres else { return FileManager.default.fileExists(atPath: database) }
        return try probe().tableCount(named: ["jobs"]) > 0
    }

    /// Opens the scenario's store in-process (for bulk set-up and in-process runners).
    func openStore(clock: (any JobClock)? = nil) async throws -> JobStore {
        let database = self.database
        guard isPostgresURL(database) else {
            if let clock { return try await JobStore.open(path: database, clock: clock) }
            return try await JobStore.open(path: database)
        }
        #if PostgreSQL
            return try await JobStore.open(url: database, clock: clock)
        #else
            throw HarnessError("the PostgreSQL store needs the PostgreSQL trait (swift test --traits PostgreSQL)")
        #endif
    }
}

/// The probe of the store the scenarios run on: a SQLite file, or a PostgreSQL database through psql.
func storeProbe(_ database: String) throws -> any StoreProbe {
    isPostgresURL(database) ? PostgresProbe(database) : try DatabaseProbe(database)
}

/// The PostgreSQL server of the tests (`JOBRUNNER_TEST_POSTGRES_URL`, as scripts/start-postgres prints
/// it), on which each scenario gets a database of its own. Without it a PostgreSQL scenario fails: it is
/// never skipped silently.
enum TestPostgres {
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["JOBRUNNER_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw HarnessError("JOBRUNNER_TEST_POSTGRES_URL is not set (scripts/start-postgres prints one)")
        }
        return url
    }

    /// A fresh, empty database on the test server; returns its URL.
    static func createDatabase() throws -> String {
        let server = try serverURL()
        let name = "jrrel_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        try Psql(url: replacingDatabase(in: server, with: "postgres")).run(
            "CREATE DATABASE :\"name\" ENCODING 'UTF8' TEMPLATE template0;", ["name": name])
        return replacingDatabase(in: server, with: name)
    }

    /// Drops a database made by ``createDatabase()`` (closing what is still connected); a failure is printed.
    static func dropDatabase(_ url: String) {
        let name = databaseName(of: url)
        precondition(name.hasPrefix("jrrel_"))
        do {
            try Psql(url: replacingDatabase(in: url, with: "postgres")).run(
                "DROP DATABASE IF EXISTS :\"name\" WITH (FORCE);", ["name": name])
        } catch {
            print("[reliability] could not drop the test database \(name): \(error)")
        }
    }

    /// The URL `url` with its database (the path after the authority) replaced by `name`.
    static func replacingDatabase(in url: String, with name: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else {
            let query = rest.firstIndex(of: "?") ?? rest.endIndex
            return String(url[..<query]) + "/" + name + String(rest[query...])
        }
        let end = rest[slash...].firstIndex(of: "?") ?? rest.endIndex
        return String(url[..<rest.index(after: slash)]) + name + String(rest[end...])
    }

    /// The database named in `url`.
    static func databaseName(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return "" }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        let after = rest[rest.index(after: slash)...]
        return String(after.prefix { $0 != "?" })
    }
}
