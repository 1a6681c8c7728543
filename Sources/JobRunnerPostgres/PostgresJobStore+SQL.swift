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
        func int64Array(_ column: Int) throws -> [Int64] { try row[column].decode([Int64].self) }
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
                _ = try await send(begin, on: connection)
                do {
                    let value = try await body(connection)
                    _ = try await send("COMMIT", on: connection)
                    return value
                } catch {
                    _ = try? await send("ROLLBACK", on: connection)
                    throw error
                }
            }
        }

        /// Sends `query` on `connection`, unless the connection is closed already.
        ///
        /// postgres-nio 1.33.2 writes a statement to its channel without a write promise
        /// (`PostgresConnection.query`): on a channel already closed (the server restarted, and the
        /// pool has not noticed yet) the write fails unseen and the statement waits forever. Measured
        /// with `pg_ctl restart` under load: a runner's claim hung for good on its second statement,
        /// and with it every claim and drain. So every statement is sent only on an open connection;
        /// the connection then fails as closed, and the caller retries on another.
        func send(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> PostgresRowSequence {
            guard !connection.isClosed else { throw PostgresStoreError.connectionClosed }
            return try await connection.query(query, logger: logger)
        }

        /// Rows of `query`, each mapped by `map`.
        func all<T>(
            _ query: PostgresQuery, on connection: PostgresConnection, map: (PostgresStoreRow) throws -> T
        ) async throws -> [T] {
            var out: [T] = []
            for try await row in try await send(query, on: connection) {
                out.append(try map(PostgresStoreRow(row: row.makeRandomAccess())))
            }
            return out
        }

        /// The first row of `query`, mapped by `map`, or nil.
        func first<T>(
            _ query: PostgresQuery, on connection: PostgresConnection, map: (PostgresStoreRow) throws -> T
        ) async throws -> T? {
            for try await row in try await send(query, on: connection) {
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
            for try await _ in try await send(query, on: connection) {}
        }

        /// The number of rows `query` returns (a write with `RETURNING 1` counts what it changed).
        func count(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int {
            var n = 0
            for try await _ in try await send(query, on: connection) { n += 1 }
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
