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

        /// The rows of `query`, sent on `connection` (see ``PostgresConnection/rows(of:logger:)``).
        func send(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
            try await connection.rows(of: query, logger: logger)
        }

        /// Rows of `query`, each mapped by `map`.
        func all<T>(
            _ query: PostgresQuery, on connection: PostgresConnection, map: (PostgresStoreRow) throws -> T
        ) async throws -> [T] {
            try await send(query, on: connection).map { try map(PostgresStoreRow(row: $0.makeRandomAccess())) }
        }

        /// The first row of `query`, mapped by `map`, or nil.
        func first<T>(
            _ query: PostgresQuery, on connection: PostgresConnection, map: (PostgresStoreRow) throws -> T
        ) async throws -> T? {
            try await send(query, on: connection).first.map { try map(PostgresStoreRow(row: $0.makeRandomAccess())) }
        }

        /// The first column of the first row of `query` as an integer, or nil (no row, or NULL).
        func scalar(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int64? {
            try await first(query, on: connection) { try $0.optionalInt64(0) } ?? nil
        }

        /// Runs a statement and discards its rows.
        func execute(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
            _ = try await send(query, on: connection)
        }

        /// The number of rows `query` returns (a write with `RETURNING 1` counts what it changed).
        func count(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> Int {
            try await send(query, on: connection).count
        }

        static func sqlState(_ error: PSQLError) -> String? { error.serverInfo?[.sqlState] }

        /// Deadlock (40P01) or serialization failure (40001): the transaction was rolled back.
        static func isRetryableAbort(_ error: PSQLError) -> Bool {
            guard let state = sqlState(error) else { return false }
            return state == "40001" || state == "40P01"
        }
    }

    extension PostgresConnection {
        /// Sends `query` and collects its rows; fails with ``PostgresStoreError/connectionClosed`` at
        /// once when the connection is closed, instead of waiting forever.
        ///
        /// postgres-nio 1.33.2 hands a statement to its channel without a write promise: on a channel
        /// that has closed, the write fails unseen and the statement waits forever, keeping its pool
        /// lease. Checking `isClosed` before the call is not enough: the event loop may notice the
        /// close between the check and the write. That happened after `pg_ctl restart` under load, and
        /// in 1 run in 4 of a runner thawed after a SIGSTOP longer than the server's
        /// `idle_in_transaction_session_timeout`: all its threads woke at once, and its claims, its
        /// heartbeat and its re-registration each hung on a dead connection until the pool had none.
        /// So the check and the write happen in one turn of the connection's own event loop, where
        /// a write reaches the connection's handler synchronously: either the channel is closed and
        /// the statement fails here, or the handler holds the statement and fails it when the
        /// channel closes.
        func rows(of query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
            let loop = eventLoop
            return try await loop.flatSubmit { () -> EventLoopFuture<PostgresQueryResult> in
                guard !self.isClosed else { return loop.makeFailedFuture(PostgresStoreError.connectionClosed) }
                return self.query(query, logger: logger)
            }.get().rows
        }
    }
#endif
