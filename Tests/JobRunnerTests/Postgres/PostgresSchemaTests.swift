#if PostgreSQL
    @testable import JobRunnerPostgres
    import Testing
    import JobRunner
    import PostgresNIO

    @Suite struct PostgresURLTests {
        @Test func socketURL() throws {
            let url = try PostgresURL("postgresql://postgres@/jobrunner?host=/tmp/pg/socket&port=54329")
            #expect(url.host == "/tmp/pg/socket")
            #expect(url.port == 54329)
            #expect(url.database == "jobrunner")
            #expect(url.user == "postgres")
        }

        @Test func passwordIsDecodedAndNeverShown() throws {
            let url = try PostgresURL("postgres://app:s%40cret@db.example:6543/jobs?sslmode=require")
            #expect(url.password == "s@cret")
            #expect(url.host == "db.example")
            #expect(url.port == 6543)
            #expect(!url.redacted.contains("cret"))
            // Printed by mistake, the URL shows no password either.
            var dumped = ""
            dump(url, to: &dumped)
            for shown in ["\(url)", String(describing: url), String(reflecting: url), dumped] {
                #expect(!shown.contains("cret"), "\(shown)")
                #expect(shown.contains("db.example"), "\(shown)")
            }
            #expect(dumped.contains("<redacted>"))
        }

        @Test func refusesOtherSchemes() {
            #expect(throws: PostgresURL.ParseError.self) { try PostgresURL("mysql://x@y/z") }
            #expect(throws: PostgresURL.ParseError.self) { try PostgresURL("postgres://x@y") }
        }

        @Test("a configuration field by field follows the URL's rules, and each bad field is named")
        func configurationFieldByField() throws {
            let fields = try PostgresURL(
                host: "db.example", port: 6543, user: "app", password: "s@cret", database: "jobs", sslMode: "require",
                schema: "jobrunner", poolSize: 8)
            let parsed = try PostgresURL(
                "postgres://app:s%40cret@db.example:6543/jobs?sslmode=require&schema=jobrunner&pool_size=8")
            #expect(fields == parsed)
            #expect(!fields.redacted.contains("cret"))
            let refusals: [(() throws -> PostgresURL, String)] = [
                ({ try PostgresURL(database: "") }, "no database name"),
                ({ try PostgresURL(port: 0, database: "d") }, "bad port"),
                ({ try PostgresURL(database: "d", poolSize: 0) }, "pool_size"),
                ({ try PostgresURL(database: "d", schema: "Robert'); DROP") }, "schema"),
                ({ try PostgresURL(database: "d", sslMode: "sometimes") }, "sslmode"),
                ({ try PostgresURL("postgres://u@h/d?sslmode=sometimes") }, "not a PostgreSQL URL: unknown sslmode"),
                ({ try PostgresURL("postgres://u@h/d?pool_size=500") }, "not a PostgreSQL URL: pool_size"),
                ({ try PostgresURL("postgres://u@h/d?sslmode=VERIFY-FULL") }, "unknown sslmode 'VERIFY-FULL'"),
                ({ try PostgresURL("postgres://u@h/d?sslcert=/c.pem") }, "sslcert and sslkey go together"),
                ({ try PostgresURL(database: "d", sslKey: "/k.pem") }, "sslcert and sslkey go together"),
                ({ try PostgresURL("postgres://u@h/d?sslpassword=x") }, "unknown parameter 'sslpassword' (known: host"),
            ]
            for (make, words) in refusals {
                let error = #expect(throws: PostgresURL.ParseError.self) { try make() }
                #expect(error?.description.contains(words) == true, "\(String(describing: error)) lacks \(words)")
                #expect(error?.description.contains("\n") == false)
            }
        }

        @Test("sslmode as libpq has it; sslrootcert, sslcert and sslkey parsed, kept by redacted (paths are no secret)")
        func tlsParameters() throws {
            let url = try PostgresURL(
                "postgres://app:s%40cret@db.example/jobs?sslmode=verify-full&sslrootcert=/etc/pg%20ca.pem"
                    + "&sslcert=/c.pem&sslkey=/k.pem&schema=jobrunner")
            #expect(url.sslMode == "verify-full")
            #expect(url.sslRootCert == "/etc/pg ca.pem")
            #expect(url.sslCert == "/c.pem")
            #expect(url.sslKey == "/k.pem")
            #expect(
                url.redacted
                    == "postgresql://app@db.example:5432/jobs?sslmode=verify-full&sslrootcert=/etc/pg%20ca.pem"
                    + "&sslcert=/c.pem&sslkey=/k.pem&schema=jobrunner")
            let again = try PostgresURL(url.redacted)
            #expect(
                [again.sslMode, again.sslRootCert, again.sslCert, again.sslKey] == [
                    "verify-full", "/etc/pg ca.pem", "/c.pem", "/k.pem",
                ])
            let fields = try PostgresURL(
                host: "db.example", user: "app", password: "s@cret", database: "jobs", sslMode: "verify-full",
                schema: "jobrunner", sslRootCert: "/etc/pg ca.pem", sslCert: "/c.pem", sslKey: "/k.pem")
            #expect(fields == url)
            // The default mode is not spelled out; a socket URL reads as before.
            let socket = "postgresql://postgres@/jobrunner?host=/tmp/pg/socket&port=54329"
            #expect(try PostgresURL(socket).redacted == socket)
            #expect(
                try PostgresURL("postgres://u@h/d?sslmode=prefer&sslrootcert=").redacted == "postgresql://u@h:5432/d")

            let modes: [(String, PostgresURL.TLSMode?)] = [
                ("sslmode=disable", nil), ("sslmode=allow", .prefer), ("sslmode=prefer", .prefer), ("", .prefer),
                ("sslmode=require", .require(.none)),
                ("sslmode=require&sslrootcert=/ca.pem", .require(.noHostnameVerification)),
                ("sslmode=verify-ca", .require(.noHostnameVerification)),
                ("sslmode=verify-full", .require(.fullVerification)),
            ]
            for (query, mode) in modes {
                #expect(try PostgresURL("postgres://u@h/d?" + query).tlsMode() == mode, "\(query)")
            }
        }

        @Test("certificate files are read when connecting: a missing one is named then, in one line")
        func certificateFilesAreReadWhenConnecting() throws {
            let url = try PostgresURL("postgres://u:pw@h/d?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            let error = #expect(throws: PostgresURL.ParseError.self) { try url.connectionConfiguration() }
            #expect(error?.description == "sslrootcert /nonexistent/ca.pem: no such file")
            #expect(throws: PostgresURL.ParseError.self) { try url.clientConfiguration() }
            // Modes that verify nothing do not read it; a Unix socket has no TLS.
            var prefer = url
            prefer.sslMode = "prefer"
            _ = try prefer.connectionConfiguration()
            _ = try PostgresURL("postgres://u@/d?host=/tmp/s&sslmode=verify-ca&sslrootcert=/nonexistent")
                .connectionConfiguration()
        }

        @Test("the library opens a store from a configuration given field by field")
        func openFromConfiguration() async throws {
            try await PostgresTestServer.withDatabase { url in
                let configuration = try PostgresURL(
                    host: url.host, port: url.port, user: url.user, password: url.password, database: url.database,
                    sslMode: "disable", schema: "configured", poolSize: 2)
                let store = try await JobStore.open(postgres: configuration, clock: ManualJobClock(now: 0))
                _ = try await store.add(
                    JobDefinition(name: "configured", action: .handler("tick"), schedule: .every(.seconds(60))))
                #expect(try await store.job(named: "configured")?.definition.name == "configured")
                #expect(store.databaseName.contains("schema=configured"))
            }
        }
    }

    @Suite struct PostgresMigrationTests {
        @Test func replicasStartingTogetherMigrateOnce() async throws {
            try await PostgresTestServer.withDatabase { url in
                let clock = ManualJobClock(now: 1_700_000_000_000_000)
                // Several stores at once: the advisory lock serialises them, and each sees the latest version.
                let versions = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            let store = try await PostgresJobStore.open(url: url, clock: clock)
                            let version = try await store.schemaVersion()
                            await store.close()
                            return version
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let latest = PostgresJobStore.latestVersion
                #expect(versions == Array(repeating: latest, count: 4))

                let store = try await PostgresJobStore.open(url: url, clock: clock)
                #expect(try await store.schemaVersion() == latest)
                var applied: [Int64] = []
                for try await (version, appliedAt) in try await store.client.query(
                    "SELECT version, applied_at FROM schema_migrations ORDER BY version"
                ).decode((Int64, Int64).self) {
                    applied.append(version)
                    #expect(appliedAt == 1_700_000_000_000_000)
                }
                #expect(applied == Array(1...Int64(latest)))
                await store.close()
            }
        }

        @Test func pruningTheNewestRunsRaisesTheIdFloor() async throws {
            try await PostgresTestServer.withDatabase { url in
                let store = try await PostgresJobStore.open(url: url, clock: ManualJobClock(now: 0))
                let client = store.client
                let queue = "default"
                try await client.query("INSERT INTO queues (name, updated_at) VALUES (\(queue), \(Int64(0)))")
                for _ in 0..<5 {
                    try await client.query(
                        """
                        INSERT INTO runs (job_name, attempt, scheduled_for, started_at, outcome, queue)
                        VALUES (\("j"), \(Int32(1)), \(Int64(0)), \(Int64(0)), \("ok"), \(queue))
                        """)
                }
                func floor() async throws -> Int64 {
                    var value: Int64 = -1
                    for try await id in try await client.query("SELECT id FROM run_id_floor").decode(Int64.self) {
                        value = id
                    }
                    return value
                }
                #expect(try await floor() == 0)
                try await client.query("DELETE FROM runs WHERE id >= \(Int64(4))")
                #expect(try await floor() == 5)
                try await client.query("DELETE FROM runs WHERE id = \(Int64(1))")
                #expect(try await floor() == 5)  // never down
                await store.close()
            }
        }
    }
#endif
