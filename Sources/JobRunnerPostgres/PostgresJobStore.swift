#if PostgreSQL
    public import JobRunner
    public import Logging
    package import PostgresNIO

    /// The PostgreSQL store: the same jobs, history and guarantees as the SQLite file, in a database
    /// that runners on several hosts share. Open it through `JobStore.open(url:)`.
    ///
    /// Every call is one READ COMMITTED transaction on a pooled connection. Claims fence on the
    /// runner's row (`FOR SHARE`), count each queue's free places under a transaction-level advisory
    /// lock and take due jobs `FOR NO KEY UPDATE SKIP LOCKED` with the time bound as a value; finishes
    /// are fenced by run id and runner and are idempotent when a commit's acknowledgement was lost;
    /// rescue takes runner and run rows `SKIP LOCKED`, so any runner may rescue and none waits for a
    /// frozen one. Migrations are applied in one transaction each under an advisory lock, so replicas
    /// starting together apply each once. Operator actions (`add`, `trigger`, `resume`, queue changes,
    /// drains) NOTIFY; runners LISTEN on a session connection of their own (``PostgresChangeFeed``).
    /// The default clock is the server's (``DatabaseClock``).
    ///
    /// Across hosts, the runner does the rest: it fences itself (stops its runs) when it cannot renew
    /// its lease, and after failing to reach the database it declares nobody dead for one lease, so
    /// that an outage or a restart of the server is not taken for every other runner's death.
    /// Every statement is checked and written in one turn of its connection's event loop, so a
    /// connection that closed meanwhile fails the statement instead of holding it forever.
    public actor PostgresJobStore {
        /// The advisory lock key every migrating process takes (`pg_advisory_xact_lock(bigint)`): the
        /// bytes "JobRunMg" as a big-endian integer.
        static let migrationLockKey: Int64 = 0x4A6F_6252_756E_4D67

        public nonisolated let url: PostgresURL
        /// The clock for timestamps of operator calls and, by default, the runner's: the server's
        /// (``DatabaseClock``) unless another was given (a `ManualJobClock` in tests).
        public nonisolated let clock: any JobClock
        /// ``clock`` when it is the server's, which the store keeps measuring (every 30 s, and in
        /// every heartbeat).
        nonisolated let databaseClock: DatabaseClock?
        /// The connection pool; `package` so that tests can look at the schema.
        package nonisolated let client: PostgresClient
        let logger: Logger
        private var runTask: Task<Void, Never>?
        private var clockTask: Task<Void, Never>?
        /// The due count the last heartbeat read in its own statement (see ``dueCount(now:limit:)``).
        var heartbeatDueCount: (now: UnixMicros, limit: Int, count: Int)?
        /// The rescue's look the last heartbeat took in its own statement (see
        /// ``rescueOrphans(selfID:now:local:)``).
        var heartbeatLook: (now: UnixMicros, runnerID: Int64, rows: [RescueLook])?
        /// The live runners the last rescue's look counted (see ``liveRunnerCount(now:)``).
        var rescueLiveCount: (now: UnixMicros, count: Int)?

        /// The migrations this build knows.
        static var migrations: [PostgresMigration] { PostgresBundledMigrations.all }
        static var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

        private init(url: PostgresURL, clock: any JobClock, client: PostgresClient, logger: Logger) {
            self.url = url
            self.clock = clock
            databaseClock = clock as? DatabaseClock
            self.client = client
            self.logger = logger
        }

        /// Opens the database at `url` (see ``PostgresURL``) with a pool of its own, and brings its
        /// schema up to date.
        public static func open(
            url text: String,
            clock: (any JobClock)? = nil,
            logger: Logger = Logger(label: "JobRunner.Postgres")
        ) async throws -> PostgresJobStore {
            try await open(url: try PostgresURL(text), clock: clock, logger: logger)
        }

        /// Opens the database at `url` with a pool of its own, and brings its schema up to date.
        public static func open(
            url: PostgresURL,
            clock: (any JobClock)? = nil,
            logger: Logger = Logger(label: "JobRunner.Postgres")
        ) async throws -> PostgresJobStore {
            // One direct connection first: an unreachable server or a refused login fails here at once,
            // instead of in the pool, which retries connecting in the background for a minute.
            do {
                let probe = try await PostgresConnection.connect(
                    configuration: try url.connectionConfiguration(), id: 0, logger: logger)
                try await probe.close()
            } catch {
                throw publicError(error, url: url)
            }
            // The pool logs each failed reconnection at info level; a store reports failures through
            // its calls' errors instead.
            var poolLogger = logger
            poolLogger.logLevel = max(logger.logLevel, .warning)
            let client = PostgresClient(configuration: try url.clientConfiguration(), backgroundLogger: poolLogger)
            // A clock given is used as it is, unless it is a database clock (tests give one whose
            // elapsed time they step): that one is measured like the default.
            let databaseClock = clock == nil ? DatabaseClock() : clock as? DatabaseClock
            let store = PostgresJobStore(
                url: url, clock: clock ?? databaseClock ?? SystemJobClock(), client: client, logger: logger)
            await store.start()
            do {
                if let databaseClock {
                    try await databaseClock.measure(client, samples: 5, extra: 15, logger: logger)
                    await store.keepMeasuring(databaseClock)
                }
                try await store.migrate(now: store.clock.now())
            } catch {
                await store.close()
                throw error
            }
            return store
        }

        private func start() {
            let client = self.client
            // Immediately, where the standard library has it: `run()` then marks the pool running before
            // the first lease, which otherwise may come first (harmless, but postgres-nio warns).
            if #available(macOS 26, *) {
                runTask = Task.immediate { await client.run() }
            } else {
                runTask = Task { await client.run() }
            }
        }

        /// Re-measures the offset of the database's clock every 30 s while the store is open.
        private func keepMeasuring(_ databaseClock: DatabaseClock) {
            let client = self.client
            let logger = self.logger
            clockTask = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(30))
                    do {
                        let measured = try await databaseClock.measure(client, samples: 3, logger: logger)
                        databaseClock.report(measured, logger: logger)
                    } catch {
                        logger.debug("could not read the server's clock; keeping the last offset")
                    }
                }
            }
        }

        deinit {
            runTask?.cancel()
            clockTask?.cancel()
        }

        /// Closes every connection. The store cannot be used afterwards.
        public func close() async {
            clockTask?.cancel()
            clockTask = nil
            runTask?.cancel()
            await runTask?.value
            runTask = nil
        }

        /// The highest applied schema version, or 0 for a database JobRunner never migrated.
        public func schemaVersion() async throws -> Int {
            try await client.withConnection { connection in
                try await Self.currentVersion(connection, logger: self.logger)
            }
        }

        private static func currentVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
            // to_regclass follows search_path, as every other statement does.
            let rows = try await connection.query(
                "SELECT to_regclass(\("schema_migrations"))::text", logger: logger)
            var exists = false
            for try await name in rows.decode(String?.self) { exists = name != nil }
            guard exists else { return 0 }
            var version = 0
            for try await v in try await connection.query(
                "SELECT coalesce(max(version), 0)::bigint FROM schema_migrations", logger: logger
            ).decode(Int64.self) {
                version = Int(v)
            }
            return version
        }

        /// Applies the pending migrations, each with its `schema_migrations` row in one transaction,
        /// under the migration advisory lock; the version is re-read under the lock, since another
        /// process may have applied it meanwhile.
        func migrate(now: Int64) async throws {
            let known = Self.latestVersion
            let found = try await schemaVersion()
            if found > known { throw PostgresStoreError.newerSchema(found: found, known: known) }
            if found == known { return }
            for migration in Self.migrations.sorted(by: { $0.version < $1.version }) {
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query(
                        "SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", logger: self.logger)
                    if let schema = self.url.schema {
                        // A checked plain identifier (PostgresURL): an identifier cannot be a parameter.
                        try await connection.query(
                            PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: self.logger)
                    }
                    try await connection.query(
                        """
                        CREATE TABLE IF NOT EXISTS schema_migrations (
                            version    bigint PRIMARY KEY,
                            name       text NOT NULL,
                            applied_at bigint NOT NULL
                        )
                        """,
                        logger: self.logger)
                    let current = try await Self.currentVersion(connection, logger: self.logger)
                    if current > known { throw PostgresStoreError.newerSchema(found: current, known: known) }
                    guard current < migration.version else { return }
                    for statement in migration.statements {
                        do {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                        } catch {
                            throw PostgresStoreError.migrationFailed(
                                version: migration.version, name: migration.name, underlying: String(reflecting: error))
                        }
                    }
                    try await connection.query(
                        """
                        INSERT INTO schema_migrations (version, name, applied_at)
                        VALUES (\(Int64(migration.version)), \(migration.name), \(now))
                        """,
                        logger: self.logger)
                }
            }
        }
    }

    /// Errors of opening a PostgreSQL database that are about its schema, not the server.
    public enum PostgresStoreError: Error, Sendable, Equatable {
        /// The database was migrated by a newer JobRunner.
        case newerSchema(found: Int, known: Int)
        /// A migration failed and was rolled back.
        case migrationFailed(version: Int, name: String, underlying: String)
        /// The connection was closed (the server restarted or went away) before a statement was sent.
        case connectionClosed
    }
#endif

#if PostgreSQL
    extension JobStore {
        /// Opens the PostgreSQL database at `url` (`postgres://USER@HOST[:PORT]/DB[?sslmode=…]`, or a Unix
        /// socket with `?host=/dir`), with a connection pool of its own, creating or migrating its schema.
        /// The password comes from the URL, else `PGPASSWORD`; it never appears in errors or logs.
        ///
        /// - Throws: ``JobStoreError`` when the server cannot be reached or refuses; `PostgresURL.ParseError`
        ///   for a malformed URL.
        public static func open(
            url: String,
            clock: (any JobClock)? = nil,
            logger: Logger = Logger(label: "JobRunner.Postgres")
        ) async throws -> JobStore {
            try await open(postgres: try PostgresURL(url), clock: clock, logger: logger)
        }

        /// Opens the PostgreSQL database `configuration` describes (field by field, or parsed from a
        /// URL), with a connection pool of its own, creating or migrating its schema.
        ///
        /// ```swift
        /// let store = try await JobStore.open(
        ///     postgres: PostgresURL(host: "db.internal", user: "jobs", password: secret, database: "app",
        ///                           sslMode: "require", schema: "jobrunner", poolSize: 8))
        /// ```
        ///
        /// - Throws: ``JobStoreError`` when the server cannot be reached or refuses.
        public static func open(
            postgres configuration: PostgresURL,
            clock: (any JobClock)? = nil,
            logger: Logger = Logger(label: "JobRunner.Postgres")
        ) async throws -> JobStore {
            do {
                return JobStore(
                    backend: try await PostgresJobStore.open(url: configuration, clock: clock, logger: logger))
            } catch {
                throw PostgresJobStore.publicError(error, url: configuration)
            }
        }
    }
#endif

#if PostgreSQL
    extension PostgresStoreError: CustomStringConvertible {
        public var description: String {
            switch self {
            case .newerSchema(let found, let known):
                return
                    "the database has schema version \(found), newer than this JobRunner's \(known); upgrade JobRunner"
            case .migrationFailed(let version, let name, let underlying):
                return "migration \(version) (\(name)) failed and was rolled back: \(underlying)"
            case .connectionClosed:
                return "the connection to the server was closed"
            }
        }
    }
#endif
