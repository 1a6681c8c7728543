/// Applies the bundled migrations to a connection.
///
/// Applied versions are recorded in `schema_migrations`. Each migration and its row run in one
/// IMMEDIATE transaction, so a crash leaves the schema at a whole version. A database written by a
/// newer schema is refused.
struct Migrator {
    var migrations: [Migration] = BundledMigrations.all

    var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// The highest applied version, or 0 for a new database.
    func currentVersion(_ connection: Connection) throws -> Int {
        let exists = try connection.scalarInt(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'"
        )
        guard exists == 1 else { return 0 }
        return Int(try connection.scalarInt("SELECT max(version) FROM schema_migrations") ?? 0)
    }

    /// Applies what is pending. Throws ``MigrationError`` for a newer schema.
    func migrate(_ connection: Connection, now: Int64) throws {
        let current = try currentVersion(connection)
        if current > latestVersion {
            throw MigrationError.newerSchema(found: current, known: latestVersion)
        }
        if current == latestVersion { return }
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            try connection.write {
                // In the same transaction as the migration, so that no other process ever sees the
                // version table without a version in it (it would take the file for a foreign one).
                try connection.execute(SchemaGuard.migrationTableSQL)
                // Re-read inside the write lock: another process may have migrated meanwhile.
                let applied = try connection.scalarInt(
                    "SELECT count(*) FROM schema_migrations WHERE version = ?",
                    [.integer(Int64(migration.version))]
                )
                guard applied == 0 else { return }
                do {
                    try connection.executeScript(migration.sql)
                } catch {
                    throw MigrationError.failed(version: migration.version, name: migration.name, underlying: error)
                }
                try connection.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .integer(now)]
                )
            }
        }
    }
}
