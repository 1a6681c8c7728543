#if PostgreSQL
    import JobRunnerPostgres
    import PostgresNIO
    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Darwin)
        import Darwin
    #endif

    /// The server under test: `JOBRUNNER_TEST_POSTGRES_URL` (scripts/start-postgres prints one). Without
    /// it these tests fail rather than skip, so that CI cannot pass them by accident.
    enum PostgresTestServer {
        struct NotConfigured: Error, CustomStringConvertible {
            var description: String { "JOBRUNNER_TEST_POSTGRES_URL is not set (run scripts/start-postgres)" }
        }

        static func url() throws -> PostgresURL {
            guard let value = getenv("JOBRUNNER_TEST_POSTGRES_URL"), case let text = String(cString: value),
                !text.isEmpty
            else { throw NotConfigured() }
            return try PostgresURL(text)
        }

        /// A fresh, empty database on the test server (for one test; checks run in parallel).
        static func createDatabase() async throws -> PostgresURL {
            var url = try url()
            // The name is ours, made of [a-z0-9_]: an identifier cannot be a bound parameter.
            let name = "jrtest_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
            try await withAdminClient { client in
                try await client.query(
                    PostgresQuery(unsafeSQL: #"CREATE DATABASE "\#(name)" ENCODING 'UTF8' TEMPLATE template0"#))
            }
            url.database = name
            return url
        }

        /// Runs `body` with a fresh, empty database (``createDatabase()``), dropped afterwards whatever
        /// `body` did.
        static func withDatabase(_ body: (PostgresURL) async throws -> Void) async throws {
            let url = try await createDatabase()
            do {
                try await body(url)
            } catch {
                try await drop(url)
                throw error
            }
            try await drop(url)
        }

        /// Drops a database made by ``createDatabase()``, closing what is still connected to it.
        static func drop(_ url: PostgresURL) async throws {
            precondition(url.database.hasPrefix("jrtest_"))
            let name = url.database
            try await withAdminClient { client in
                try await client.query(PostgresQuery(unsafeSQL: #"DROP DATABASE IF EXISTS "\#(name)" WITH (FORCE)"#))
            }
        }

        /// Runs `body` with a client on the server's `postgres` database.
        static func withAdminClient(_ body: @Sendable (PostgresClient) async throws -> Void) async throws {
            var admin = try url()
            admin.database = "postgres"
            try await withClient(admin, body)
        }

        /// Runs `body` with a client of its own on `url` (e.g. a test's database, to set rows up).
        static func withClient(_ url: PostgresURL, _ body: @Sendable (PostgresClient) async throws -> Void)
            async throws
        {
            let client = PostgresClient(configuration: try url.clientConfiguration())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                do {
                    try await body(client)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }
#endif
