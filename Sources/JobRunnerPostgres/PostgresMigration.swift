/// One numbered PostgreSQL schema migration, embedded from `migrations/postgres/NNNN_name.sql` by
/// `scripts/embed-migrations`, already split into statements: postgres-nio sends one statement per
/// query (the extended protocol), never a script.
struct PostgresMigration: Sendable {
    var version: Int
    var name: String
    var fileName: String
    var statements: [String]
}
