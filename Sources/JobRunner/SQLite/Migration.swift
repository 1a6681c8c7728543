/// One numbered schema migration, embedded from `migrations/NNNN_name.sql`.
struct Migration: Sendable {
    var version: Int
    var name: String
    var fileName: String
    var sql: String
}
