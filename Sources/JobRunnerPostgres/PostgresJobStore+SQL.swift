#if PostgreSQL
    import JobRunner
    import Logging
    import NIOCore
    import PostgresNIO

    /// A result row read by position, for the shared codecs (``JobRow``).
    struct PostgresStoreRow: StoreRow {
        let row: PostgresRandomAccessRow

        func int64(_ column: Int) throws -> Int64 { try row[column].decode(Int64.self) }
        func optionalInt64(_ column: Int) throws -> Int64? { try row[column].decode(Int64?.self) }
        func string(_ column: Int) throws -> String { try row[column].decode(String.self) }
        func optionalString(_ column: Int) throws -> String? { try row[column].decode(String?.self) }
        func bool(_ column: Int) throws -> Bool { try row[column].decode(Bool.self) }
        func optionalBytes(_ column: Int) throws -> [UInt8]? {
            try row[column].decode(ByteBuffer?.self).map { Array($0.readableBytesView) }
        }
    }

    extension PostgresJobStore {
        /// Runs `body` on a pooled connection, outside a transaction (each statement commits alone).
        func read<T>(_ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
            try await client.withConnection { connection in try await body(connection) }
        }

        /// Runs `body` in one READ COMMITTED transaction, retried from the start (a few times) when
        /// PostgreSQL aborts it for a deadlock or a serialization failure: the only aborts that say
        /// nothing was written. The error `body` throws is the one the caller sees.
        func write<T>(_ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
            var attempt = 0
            while true {
                attempt += 1
                do {
                    return try await transaction("BEGIN", body)
                } catch let error as PSQLError where attempt < 5 && Self.isRetryableAbort(error) {
                    logger.debug(
                        "transaction aborted, retrying", metadata: ["sqlstate": "\(Self.sqlState(error) ?? "")"])
                    continue
                }
            }
        }

        /// Runs `body` in one transaction opened with `begin` on a pooled connection: committed when
        /// `body` returns, rolled back when it throws (and its error rethrown as is).
        func transaction<T>(
            _ begin: PostgresQuery, _ body: (PostgresConnection) async throws -> sending T
        ) async throws -> sending T {
            try await client.withConnection { connection in
                try await connection.query(begin, logger: logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }

        /// Rows of `query`, each mapped by `map`.
        func all<T>(
            _ query: PostgresQuery, on connection: PostgresConnection, map: (PostgresStoreRow) throws -> T
        ) async throws -> [T] {
            var out: [T] = []
            for try await row in try await connection.query(query, logger: logger) {
                out.append(try map(PostgresStoreRow(row: row.makeRandomAccess())))
            }
            return out
        }

        /// The first row of `query`, mapped by `map`, or nil.
        func first<T>(
            _ query: PostgresQuery, on connection: PostgresConnection, map: (PostgresStoreRow) throws -> T
        ) async throws -> T? {
            for try await row in try await connection.query(query, logger: logger) {
                return try map(PostgresStoreRow(row: row.makeRandomAccess()))
            }
            return nil
        }

        /// The first column of the first row of `query` as an integer, or nil (no row, or NULL).
        func scalar(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int64? {
            try await first(query, on: connection) { try $0.optionalInt64(0) } ?? nil
        }

        /// Runs a statement and discards its rows.
        func execute(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
            for try await _ in try await connection.query(query, logger: logger) {}
        }

        /// The number of rows `query` returns (a write with `RETURNING 1` counts what it changed).
        func count(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int {
            var n = 0
            for try await _ in try await connection.query(query, logger: logger) { n += 1 }
            return n
        }

        static func sqlState(_ error: PSQLError) -> String? { error.serverInfo?[.sqlState] }

        /// Deadlock (40P01) or serialization failure (40001): the transaction was rolled back.
        static func isRetryableAbort(_ error: PSQLError) -> Bool {
            guard let state = sqlState(error) else { return false }
            return state == "40001" || state == "40P01"
        }
    }
#endif
