#if PostgreSQL
    import Foundation
    import JobRunner
    @testable import JobRunnerPostgres
    import PostgresNIO
    import TestSupport
    import Testing

    /// Two PostgreSQL servers of the suite's own, on 127.0.0.1, and the certificates to reach them:
    ///
    /// - `tlsPort`: `ssl=on` with a certificate signed by `ca.crt` that names `localhost` only (not
    ///   127.0.0.1); pg_hba takes TLS connections only (`hostnossl … reject`), `certuser` by client
    ///   certificate (signed by `ca.crt` too), everyone else by trust.
    /// - `plainPort`: `ssl=off`, trust.
    ///
    /// `other-ca.crt` is a CA that signs nothing of these. Made once per suite (``PostgresTLSLabTrait``)
    /// in a sandbox under /tmp, as the `postgres` user when we are root (initdb refuses root), and
    /// stopped and deleted at its end.
    final class PostgresTLSLab: Sendable {
        let sandbox: Sandbox
        let directory: String
        let certificates: String
        let tlsPort: Int
        let plainPort: Int
        let bin: String

        /// A password that no message may show.
        static let password = "pw-0f-the-TLS-lab"

        func file(_ name: String) -> String { "\(certificates)/\(name)" }

        /// `postgresql://postgres:PASSWORD@HOST:PORT/postgres?QUERY` (the TLS server's port unless told).
        func url(host: String = "localhost", port: Int? = nil, user: String = "postgres", _ query: String) -> String {
            "postgresql://\(user):\(Self.password)@\(host):\(port ?? tlsPort)/postgres?\(query)"
        }

        private init(sandbox: Sandbox, bin: String, tlsPort: Int, plainPort: Int) {
            self.sandbox = sandbox
            self.directory = sandbox.root + "/pg"
            self.certificates = sandbox.root + "/certs"
            self.bin = bin
            self.tlsPort = tlsPort
            self.plainPort = plainPort
        }

        /// Makes the certificates and both clusters, and starts them; stops what it started if it fails.
        static func start() async throws -> PostgresTLSLab {
            let sandbox = try Sandbox("pg-tls", exportsDatabase: false)
            let lab = PostgresTLSLab(
                sandbox: sandbox, bin: try postgresBinaries(), tlsPort: try await freePort(),
                plainPort: try await freePort())
            do {
                try await lab.makeCertificates()
                try await lab.makeClusters()
                try await lab.startCluster("tls", port: lab.tlsPort)
                try await lab.startCluster("plain", port: lab.plainPort)
                try await lab.createRole("certuser")
            } catch {
                await lab.stop()
                throw error
            }
            return lab
        }

        /// Stops both servers (immediately: they hold nothing worth a checkpoint) and deletes it all.
        func stop() async {
            for name in ["tls", "plain"]
            where FileManager.default.fileExists(atPath: "\(directory)/\(name)/postmaster.pid") {
                try? await run(
                    ["\(bin)/pg_ctl", "-D", "\(directory)/\(name)", "-m", "immediate", "-w", "-t", "60", "stop"],
                    asOwner: true)
            }
            sandbox.cleanup()
        }

        // MARK: Set-up

        private static var isRoot: Bool { getuid() == 0 }

        /// Where initdb and pg_ctl are: PG_BINDIR, else next to `initdb` on PATH, else Debian's newest.
        private static func postgresBinaries() throws -> String {
            let environment = ProcessInfo.processInfo.environment
            if let bin = environment["PG_BINDIR"], !bin.isEmpty { return bin }
            if let initdb = executable("initdb") {
                return URL(fileURLWithPath: initdb).deletingLastPathComponent().path
            }
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
            if let newest = versions.compactMap(Int.init).max(),
                FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(newest)/bin/initdb")
            {
                return "/usr/lib/postgresql/\(newest)/bin"
            }
            throw HarnessError("no PostgreSQL server binaries (initdb): install postgresql-15, or set PG_BINDIR")
        }

        /// The path of `name` on PATH, if any.
        private static func executable(_ name: String) -> String? {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            return path.split(separator: ":").map { "\($0)/\(name)" }.first {
                FileManager.default.isExecutableFile(atPath: $0)
            }
        }

        /// A TCP port of 127.0.0.1 that nothing listens on just now (the kernel's pick).
        private static func freePort() async throws -> Int {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = channel.localAddress?.port
            try await channel.close()
            guard let port else { throw HarnessError("no port for a listener") }
            return port
        }

        /// Runs a program to completion (as the clusters' owner: `postgres` when we are root); throws
        /// with its output when it fails.
        private func run(_ arguments: [String], asOwner: Bool = false) async throws {
            var arguments = arguments
            if asOwner && Self.isRoot { arguments = ["runuser", "-u", "postgres", "--"] + arguments }
            let executable = arguments.removeFirst()
            guard let path = executable.hasPrefix("/") ? executable : Self.executable(executable) else {
                throw HarnessError("no \(executable) on PATH")
            }
            let result = try await sandbox.run(executable: path, arguments, timeout: .seconds(120))
            guard result.status == .exited(0) else { throw HarnessError("\(result)") }
        }

        private func write(_ text: String, to path: String) throws {
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }

        /// A CA, an unrelated CA, the server's certificate (signed by the first, for DNS:localhost only)
        /// and a client certificate for `certuser`, all ECDSA P-256, valid for two days.
        private func makeCertificates() async throws {
            try FileManager.default.createDirectory(atPath: certificates, withIntermediateDirectories: true)
            let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            for (name, subject) in [("ca", "JobRunner test CA"), ("other-ca", "JobRunner unrelated CA")] {
                try await run(
                    ["openssl", "req", "-x509", "-new"] + key + [
                        "-keyout", file("\(name).key"), "-out", file("\(name).crt"), "-days", "2",
                        "-subj", "/CN=\(subject)", "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                    ])
            }
            for (name, subject, extensions) in [
                ("server", "JobRunner test server", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"),
                ("client", "certuser", "extendedKeyUsage=clientAuth\n"),
            ] {
                try write(
                    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n" + extensions,
                    to: file("\(name).ext"))
                try await run(
                    ["openssl", "req", "-new"] + key + [
                        "-keyout", file("\(name).key"), "-out", file("\(name).csr"), "-subj", "/CN=\(subject)",
                    ])
                try await run(
                    [
                        "openssl", "x509", "-req", "-in", file("\(name).csr"), "-CA", file("ca.crt"), "-CAkey",
                        file("ca.key"),
                        "-CAcreateserial", "-out", file("\(name).crt"), "-days", "2", "-extfile", file("\(name).ext"),
                    ])
            }
            // The server reads its key as its own user, and only from a file that others cannot read.
            if Self.isRoot { try await run(["chown", "postgres:", file("server.key")]) }
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file("server.key"))
        }

        /// One initdb, copied for the second cluster; each gets its configuration and pg_hba.conf.
        private func makeClusters() async throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if Self.isRoot { try await run(["chown", "postgres:", directory]) }
            try await run(
                [
                    "\(bin)/initdb", "--pgdata=\(directory)/tls", "--username=postgres", "--encoding=UTF8",
                    "--locale=C",
                    "--auth-local=trust", "--auth-host=reject", "--no-sync",
                ], asOwner: true)
            try await run(["cp", "-a", "\(directory)/tls", "\(directory)/plain"], asOwner: true)
            let common = """
                listen_addresses = '127.0.0.1'
                unix_socket_directories = '\(directory)'
                fsync = off
                max_connections = 40

                """
            try append(
                common + """
                    ssl = on
                    ssl_cert_file = '\(file("server.crt"))'
                    ssl_key_file = '\(file("server.key"))'
                    ssl_ca_file = '\(file("ca.crt"))'

                    """, to: "\(directory)/tls/postgresql.conf")
            try append(common + "ssl = off\n", to: "\(directory)/plain/postgresql.conf")
            try write(
                """
                local all all trust
                hostssl all certuser 127.0.0.1/32 cert
                hostssl all all 127.0.0.1/32 trust
                hostnossl all all 127.0.0.1/32 reject

                """, to: "\(directory)/tls/pg_hba.conf")
            try write("local all all trust\nhost all all 127.0.0.1/32 trust\n", to: "\(directory)/plain/pg_hba.conf")
        }

        private func append(_ text: String, to path: String) throws {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        }

        /// `pg_ctl start -w`: returns once the server accepts connections.
        private func startCluster(_ name: String, port: Int) async throws {
            do {
                try await run(
                    [
                        "\(bin)/pg_ctl", "-D", "\(directory)/\(name)", "-l", "\(directory)/\(name).log", "-o",
                        "-p \(port)", "-w", "-t", "60", "start",
                    ], asOwner: true)
            } catch {
                let log = (try? String(contentsOfFile: "\(directory)/\(name).log", encoding: .utf8)) ?? ""
                throw HarnessError("\(error)\n--- \(name).log:\n\(log.suffix(3000))")
            }
        }

        /// Creates a login role on the TLS server (over its Unix socket).
        private func createRole(_ name: String) async throws {
            let admin = try PostgresURL(host: directory, port: tlsPort, database: "postgres")
            let connection = try await PostgresConnection.connect(
                configuration: try admin.connectionConfiguration(), id: 0,
                logger: Logger(label: "PostgresTLSLab"))
            do {
                try await connection.query(
                    PostgresQuery(unsafeSQL: #"CREATE ROLE "\#(name)" LOGIN"#), logger: Logger(label: "PostgresTLSLab"))
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        }
    }

    /// Starts ``PostgresTLSLab`` once for the suite it marks, and stops it after its last test.
    struct PostgresTLSLabTrait: SuiteTrait, TestScoping {
        @TaskLocal static var current: PostgresTLSLab?

        var isRecursive: Bool { false }

        func provideScope(
            for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
        ) async throws {
            let lab = try await PostgresTLSLab.start()
            do {
                try await Self.$current.withValue(lab) { try await function() }
            } catch {
                await lab.stop()
                throw error
            }
            await lab.stop()
        }

        static func lab() throws -> PostgresTLSLab {
            guard let current else { throw HarnessError("no PostgresTLSLab: the suite lacks .postgresTLSLab") }
            return current
        }
    }

    extension Trait where Self == PostgresTLSLabTrait {
        static var postgresTLSLab: Self { Self() }
    }

    @Suite(
        "PostgresTLS: sslmode, sslrootcert and client certificates against servers of the suite's own", .postgresTLSLab)
    struct PostgresTLSTests {
        let lab: PostgresTLSLab

        init() throws { lab = try PostgresTLSLabTrait.lab() }

        /// Whether the session of a connection made with `url` is encrypted (pg_stat_ssl).
        func sessionIsEncrypted(_ url: String) async throws -> Bool {
            let connection = try await PostgresConnection.connect(
                configuration: try PostgresURL(url).connectionConfiguration(), id: 0,
                logger: Logger(label: "PostgresTLSTests"))
            do {
                let rows = try await connection.query(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    logger: Logger(label: "PostgresTLSTests"))
                var encrypted: [Bool] = []
                for try await ssl in rows.decode(Bool.self) { encrypted.append(ssl) }
                try await connection.close()
                #expect(encrypted.count == 1)
                return encrypted.first == true
            } catch {
                try? await connection.close()
                throw error
            }
        }

        /// Opens a store with `url` (its pool and schema too, not only a first connection), then
        /// closes it.
        func openStore(_ url: String) async throws {
            let store = try await PostgresJobStore.open(url: url, clock: ManualJobClock(now: 0))
            #expect(try await store.schemaVersion() == PostgresJobStore.latestVersion)
            await store.close()
        }

        /// Opening a store with `url` fails with one line that has each of `words`, and not the password.
        func expectRefused(
            _ url: String, _ words: [String], sourceLocation: SourceLocation = #_sourceLocation
        ) async {
            do {
                // What a service gets (JobStore's errors), as jobctl does.
                _ = try await JobStore.open(url: url, clock: ManualJobClock(now: 0))
                Issue.record("\(url) connected", sourceLocation: sourceLocation)
            } catch {
                let message = "\(error)"
                #expect(!message.contains("\n"), "not one line: \(message)", sourceLocation: sourceLocation)
                #expect(
                    !message.contains(PostgresTLSLab.password), "the password: \(message)",
                    sourceLocation: sourceLocation)
                for word in words {
                    #expect(message.contains(word), "\(message) lacks \(word)", sourceLocation: sourceLocation)
                }
            }
        }

        @Test("require encrypts, without checking the certificate (the lab's CA is not the system's)")
        func requireEncrypts() async throws {
            let url = lab.url("sslmode=require&schema=tls_require")
            #expect(try await sessionIsEncrypted(url))
            try await openStore(url)
            // By IP address too: nothing about the name is checked.
            #expect(try await sessionIsEncrypted(lab.url(host: "127.0.0.1", "sslmode=require")))
        }

        @Test("require with an sslrootcert checks the chain, as verify-ca (libpq's rule)")
        func requireWithRootCertificateVerifies() async throws {
            #expect(try await sessionIsEncrypted(lab.url("sslmode=require&sslrootcert=\(lab.file("ca.crt"))")))
            await expectRefused(
                lab.url("sslmode=require&sslrootcert=\(lab.file("other-ca.crt"))"),
                ["the server's certificate is not trusted (sslmode=require)", lab.file("other-ca.crt")])
        }

        @Test("verify-ca with the server's CA connects, whatever the host name")
        func verifyCAWithTheRightCA() async throws {
            let query = "sslmode=verify-ca&sslrootcert=\(lab.file("ca.crt"))"
            #expect(try await sessionIsEncrypted(lab.url(host: "127.0.0.1", query)))
            try await openStore(lab.url(host: "127.0.0.1", query + "&schema=tls_verify_ca"))
        }

        @Test("verify-ca with another CA, or the system's roots, is refused in one clear line")
        func verifyCAWithAnotherCA() async {
            await expectRefused(
                lab.url("sslmode=verify-ca&sslrootcert=\(lab.file("other-ca.crt"))"),
                [
                    "the server's certificate is not trusted (sslmode=verify-ca)",
                    "sslrootcert \(lab.file("other-ca.crt"))",
                    // The URL, redacted, keeps what says how it connects.
                    "localhost:\(lab.tlsPort)/postgres?sslmode=verify-ca&sslrootcert=\(lab.file("other-ca.crt")):",
                ])
            await expectRefused(
                lab.url("sslmode=verify-ca"), ["not trusted (sslmode=verify-ca)", "the system's trust roots"])
        }

        @Test("verify-full connects to the name the certificate gives, and refuses an address it does not")
        func verifyFull() async throws {
            let query = "sslmode=verify-full&sslrootcert=\(lab.file("ca.crt"))"
            #expect(try await sessionIsEncrypted(lab.url(query)))
            try await openStore(lab.url(query + "&schema=tls_verify_full"))
            await expectRefused(
                lab.url(host: "127.0.0.1", query),
                ["the server's certificate does not name 127.0.0.1 (sslmode=verify-full)"])
            await expectRefused(
                lab.url("sslmode=verify-full&sslrootcert=\(lab.file("other-ca.crt"))"),
                ["not trusted (sslmode=verify-full)"])
        }

        @Test("a server without TLS: require is refused, prefer connects unencrypted")
        func serverWithoutTLS() async throws {
            await expectRefused(
                lab.url(port: lab.plainPort, "sslmode=require"),
                ["the server does not support TLS (sslmode=require)", "localhost:\(lab.plainPort)"])
            await expectRefused(
                lab.url(port: lab.plainPort, "sslmode=verify-full&sslrootcert=\(lab.file("ca.crt"))"),
                ["the server does not support TLS (sslmode=verify-full)"])
            #expect(try await sessionIsEncrypted(lab.url(port: lab.plainPort, "sslmode=prefer")) == false)
            #expect(try await sessionIsEncrypted(lab.url("sslmode=prefer")))
        }

        @Test("disable against a server that takes TLS connections only: the server's refusal, named")
        func disableAgainstTLSOnly() async {
            await expectRefused(lab.url("sslmode=disable"), ["no encryption", "SQLSTATE 28000"])
        }

        @Test("a certificate file that is missing or not PEM fails at open, named, before any connection")
        func badFiles() async throws {
            let missing = lab.sandbox.root + "/nowhere/ca.pem"
            await expectRefused(
                lab.url("sslmode=verify-full&sslrootcert=\(missing)"), ["sslrootcert \(missing): no such file"])
            let notPEM = lab.sandbox.root + "/not-a-certificate.pem"
            try "hello\n".write(toFile: notPEM, atomically: false, encoding: .utf8)
            await expectRefused(
                lab.url("sslmode=verify-ca&sslrootcert=\(notPEM)"), ["sslrootcert \(notPEM): no PEM certificate"])
            await expectRefused(
                lab.url("sslmode=require&sslcert=\(lab.file("client.crt"))&sslkey=\(missing)"),
                ["sslkey \(missing): no such file"])
            await expectRefused(
                lab.url("sslmode=require&sslcert=\(lab.file("client.crt"))&sslkey=\(notPEM)"),
                ["sslkey \(notPEM): not an unencrypted PEM private key"])
            await expectRefused(
                lab.url("sslmode=require&sslcert=\(lab.file("client.crt"))&sslkey=\(lab.file("ca.key"))"),
                ["sslkey \(lab.file("ca.key")) is not the key of sslcert \(lab.file("client.crt"))"])
        }

        @Test("a client certificate logs in where pg_hba asks for one; without it the server's refusal is named")
        func clientCertificate() async throws {
            let client = "sslcert=\(lab.file("client.crt"))&sslkey=\(lab.file("client.key"))"
            let query = "sslmode=verify-full&sslrootcert=\(lab.file("ca.crt"))&" + client
            #expect(try await sessionIsEncrypted(lab.url(user: "certuser", query)))
            // certuser may not create the schema in the postgres database; connecting is the point.
            await expectRefused(
                lab.url(user: "certuser", "sslmode=verify-full&sslrootcert=\(lab.file("ca.crt"))"),
                ["certificate", "SQLSTATE 28000"])
        }

        @Test("jobctl takes the TLS parameters in --db, and shows each refusal in one line without the password")
        func jobctlPassesTheURLThrough() async throws {
            let query = "sslmode=verify-full&sslrootcert=\(lab.file("ca.crt"))&schema=tls_jobctl"
            let listed = try await lab.sandbox.run(
                executable: lab.sandbox.jobctlPath, ["--db", lab.url(query), "list"], timeout: .seconds(60))
            #expect(listed.status == .exited(0), "\(listed)")
            let refusals = [
                (lab.url(host: "127.0.0.1", query), "does not name 127.0.0.1 (sslmode=verify-full)"),
                (
                    lab.url("sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem"),
                    "sslrootcert /nonexistent/ca.pem: no such file"
                ),
                (lab.url(port: lab.plainPort, "sslmode=require"), "the server does not support TLS (sslmode=require)"),
            ]
            for (url, words) in refusals {
                let result = try await lab.sandbox.run(
                    executable: lab.sandbox.jobctlPath, ["--db", url, "list"], timeout: .seconds(60))
                #expect(result.status != .exited(0), "\(result)")
                #expect(result.stderrLines.count == 1, "\(result)")
                #expect(result.stderr.contains(words), "\(result)")
                #expect(
                    !result.stdout.contains(PostgresTLSLab.password) && !result.stderr.contains(PostgresTLSLab.password)
                )
            }
        }
    }
#endif
