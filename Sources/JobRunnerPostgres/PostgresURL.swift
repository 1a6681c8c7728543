#if PostgreSQL
    public import PostgresNIO
    #if canImport(Glibc)
        import Glibc
    #elseif canImport(Musl)
        import Musl
    #elseif canImport(Darwin)
        import Darwin
    #endif

    /// A PostgreSQL connection URL, libpq's form: `postgres[ql]://USER[:PASSWORD]@[HOST][:PORT]/DB[?…]`.
    ///
    /// The query may give `host=` (a Unix socket directory when it starts with `/`, as libpq takes it),
    /// `port=`, `user=`, `password=`, `dbname=`, `schema=`, `pool_size=`, and TLS as libpq has it:
    /// `sslmode=`, `sslrootcert=` (the CA certificates, PEM, that sign the server's), and
    /// `sslcert=` with `sslkey=` (a client certificate and its unencrypted key, PEM). See ``sslMode``
    /// for what each mode checks. The password never appears in ``redacted``, which is what logs,
    /// errors and `JOB_DATABASE` show.
    public struct PostgresURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        public var user: String
        public var password: String?
        /// A host name, or a Unix socket directory (starting with `/`).
        public var host: String
        public var port: Int
        public var database: String
        /// How the connection uses TLS, as libpq's `sslmode` (over a Unix socket, never):
        ///
        /// - `disable`: no TLS.
        /// - `allow`, `prefer` (the default): TLS when the server offers it, else none; the server's
        ///   certificate is not checked (taken as `prefer`: TLS first).
        /// - `require`: TLS or no connection; the certificate is not checked, unless ``sslRootCert``
        ///   is given, which makes it `verify-ca` (as in libpq).
        /// - `verify-ca`: TLS, and the server's certificate must be signed by a CA of ``sslRootCert``,
        ///   or, without one, of the system's trust roots (where libpq would read
        ///   `~/.postgresql/root.crt`).
        /// - `verify-full`: `verify-ca`, and the certificate must name the host connected to (its
        ///   subject alternative names, or its common name when it has none; an IP address must be
        ///   among its IP addresses).
        public var sslMode: String
        /// A PEM file of the CA certificates that sign the server's (`?sslrootcert=`), for `require`,
        /// `verify-ca` and `verify-full`; unused by the other modes. Read when a connection is made.
        public var sslRootCert: String?
        /// A PEM file of the client certificate (`?sslcert=`), presented when the server asks for one
        /// (`cert` authentication in pg_hba.conf); given together with ``sslKey``.
        public var sslCert: String?
        /// A PEM file of the private key of ``sslCert`` (`?sslkey=`), unencrypted.
        public var sslKey: String?
        /// The schema JobRunner's tables live in (`?schema=`), created when missing; nil for the
        /// database's default search path (`public`). Several deployments may share a database this way.
        public var schema: String?
        /// The most connections the store's pool opens (`?pool_size=`, 4 by default); the change feed
        /// holds one more of its own.
        public var poolSize: Int

        public struct ParseError: Error, Sendable, CustomStringConvertible {
            public var description: String
        }

        public init(_ text: String) throws {
            func fail(_ why: String) -> ParseError { ParseError(description: "not a PostgreSQL URL: \(why)") }
            var rest = Substring(text)
            if rest.hasPrefix("postgresql://") {
                rest = rest.dropFirst("postgresql://".count)
            } else if rest.hasPrefix("postgres://") {
                rest = rest.dropFirst("postgres://".count)
            } else {
                throw fail("expected postgres:// or postgresql://")
            }
            var query: Substring = ""
            if let q = rest.firstIndex(of: "?") {
                query = rest[rest.index(after: q)...]
                rest = rest[..<q]
            }
            var path: Substring = ""
            if let slash = rest.firstIndex(of: "/") {
                path = rest[rest.index(after: slash)...]
                rest = rest[..<slash]
            }
            var user = "postgres"
            var password: String?
            if let at = rest.lastIndex(of: "@") {
                let info = rest[..<at]
                rest = rest[rest.index(after: at)...]
                if let colon = info.firstIndex(of: ":") {
                    user = try Self.decode(info[..<colon])
                    password = try Self.decode(info[info.index(after: colon)...])
                } else {
                    user = try Self.decode(info)
                }
            }
            var host = "localhost"
            var port = 5432
            if !rest.isEmpty {
                if let colon = rest.lastIndex(of: ":") {
                    guard let p = Int(rest[rest.index(after: colon)...]) else { throw fail("bad port") }
                    port = p
                    rest = rest[..<colon]
                }
                if !rest.isEmpty { host = try Self.decode(rest) }
            }
            var sslMode = "prefer"
            var sslRootCert: String?
            var sslCert: String?
            var sslKey: String?
            var schema: String?
            var poolSize = 4
            for pair in query.split(separator: "&") where !pair.isEmpty {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = try Self.decode(parts[0])
                let value = parts.count > 1 ? try Self.decode(parts[1]) : ""
                switch key {
                case "host": host = value
                case "port":
                    guard let p = Int(value) else { throw fail("bad port") }
                    port = p
                case "user": user = value
                case "password": password = value
                case "dbname": path = Substring(value)
                case "sslmode": sslMode = value
                case "sslrootcert": sslRootCert = value
                case "sslcert": sslCert = value
                case "sslkey": sslKey = value
                case "schema": schema = value
                case "pool_size":
                    guard let n = Int(value) else { throw fail("pool_size must be 1 to 100") }
                    poolSize = n
                default:
                    throw fail(
                        "unknown parameter '\(key)' (known: host, port, user, password, dbname, sslmode, sslrootcert, "
                            + "sslcert, sslkey, schema, pool_size)"
                    )
                }
            }
            let database = try Self.decode(path)
            guard !database.isEmpty else { throw fail("no database name") }
            do {
                try self.init(
                    host: host, port: port, user: user, password: password, database: database, sslMode: sslMode,
                    schema: schema, poolSize: poolSize, sslRootCert: sslRootCert, sslCert: sslCert, sslKey: sslKey)
            } catch let error as ParseError {
                throw fail(error.description)
            }
        }

        /// A configuration given field by field, for a service that holds no URL (its password comes
        /// from a secret store, say). The same rules as the URL's apply; the password falls back to
        /// `PGPASSWORD`.
        ///
        /// - Parameters:
        ///   - host: a host name, or a Unix socket directory (starting with `/`).
        ///   - sslMode: `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`, as
        ///     libpq takes them (see ``sslMode``).
        ///   - schema: where the tables live, created when missing; nil for the default search path.
        ///   - poolSize: the most connections of the store's pool, 1 to 100.
        ///   - sslRootCert: a PEM file of the CA certificates that sign the server's (see ``sslRootCert``).
        ///   - sslCert: a PEM file of a client certificate, given with `sslKey`.
        ///   - sslKey: a PEM file of the client certificate's unencrypted private key.
        /// - Throws: `ParseError` naming the field that is not valid. The files are read when a
        ///   connection is made, not here.
        public init(
            host: String = "localhost", port: Int = 5432, user: String = "postgres", password: String? = nil,
            database: String, sslMode: String = "prefer", schema: String? = nil, poolSize: Int = 4,
            sslRootCert: String? = nil, sslCert: String? = nil, sslKey: String? = nil
        ) throws {
            guard !database.isEmpty else { throw ParseError(description: "no database name") }
            guard !user.isEmpty else { throw ParseError(description: "no user name") }
            guard !host.isEmpty else { throw ParseError(description: "no host") }
            guard (1...65535).contains(port) else { throw ParseError(description: "bad port \(port) (1 to 65535)") }
            guard (1...100).contains(poolSize) else {
                throw ParseError(description: "pool_size must be 1 to 100; got \(poolSize)")
            }
            if let schema, !Self.isPlainIdentifier(schema) {
                throw ParseError(
                    description: "schema must be a plain lower-case identifier ([a-z_][a-z0-9_]*, at most 48 bytes)")
            }
            self.user = user
            self.password = password ?? getenv("PGPASSWORD").map { String(cString: $0) }
            self.host = host
            self.port = port
            self.database = database
            self.sslMode = sslMode
            // An empty path is no path, as in libpq.
            self.sslRootCert = sslRootCert.flatMap { $0.isEmpty ? nil : $0 }
            self.sslCert = sslCert.flatMap { $0.isEmpty ? nil : $0 }
            self.sslKey = sslKey.flatMap { $0.isEmpty ? nil : $0 }
            self.schema = schema
            self.poolSize = poolSize
            _ = try tlsMode()
            if (self.sslCert == nil) != (self.sslKey == nil) {
                throw ParseError(description: "sslcert and sslkey go together (a client certificate and its key)")
            }
        }

        /// The URL without its password: what errors and `jobctl status` show and commands get as
        /// `JOB_DATABASE`. It keeps `sslmode` (unless `prefer`, the default) and the certificate files'
        /// paths, which are no secret, so that a command connecting with it is as safe as the runner.
        public var redacted: String {
            var parameters: [String] = []
            if host.hasPrefix("/") { parameters += ["host=\(host)", "port=\(port)"] }
            if sslMode != "prefer" { parameters.append("sslmode=\(sslMode)") }
            for (key, path) in [("sslrootcert", sslRootCert), ("sslcert", sslCert), ("sslkey", sslKey)] {
                if let path { parameters.append("\(key)=\(Self.encodeQueryValue(path))") }
            }
            if let schema { parameters.append("schema=\(schema)") }
            let query = parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&")
            if host.hasPrefix("/") { return "postgresql://\(user)@/\(database)" + query }
            return "postgresql://\(user)@\(host):\(port)/\(database)" + query
        }

        /// ``redacted``: a URL printed by mistake (`"\(url)"`, `print(url)`, a log's interpolation)
        /// shows no password.
        public var description: String { redacted }

        /// ``redacted``, named as this type.
        public var debugDescription: String { "PostgresURL(\(redacted))" }

        /// The fields, with the password replaced by `<redacted>`, for `dump` and debuggers.
        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "user": user, "password": password.map { _ in "<redacted>" } as Any, "host": host, "port": port,
                    "database": database, "sslMode": sslMode, "sslRootCert": sslRootCert as Any,
                    "sslCert": sslCert as Any, "sslKey": sslKey as Any, "schema": schema as Any, "poolSize": poolSize,
                ],
                displayStyle: .struct)
        }

        /// A query value percent-encoded where it could be misread (`&`, `=`, `%`, `#`, spaces…).
        private static func encodeQueryValue(_ text: String) -> String {
            var encoded = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "-"),
                    UInt8(ascii: "_"), UInt8(ascii: "~"):
                    encoded.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    encoded += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                }
            }
            return encoded
        }

        /// `[a-z_][a-z0-9_]*`, short enough to be a channel name's suffix: safe to splice as an identifier.
        static func isPlainIdentifier(_ text: String) -> Bool {
            guard let first = text.utf8.first, text.utf8.count <= 48,
                first == UInt8(ascii: "_") || (97...122).contains(first)
            else { return false }
            return text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (97...122).contains($0) || (48...57).contains($0) }
        }

        /// Session settings of every connection: the schema's search path; an idle-in-transaction
        /// timeout, so that a process frozen in the middle of a transaction (SIGSTOP, a partition)
        /// releases its row locks after 5 s instead of blocking the other runners until it wakes; and
        /// no JIT compilation.
        ///
        /// JIT: the planner's estimates for the small `queues` table (never analyzed: too few rows
        /// for autovacuum) put the heartbeat's statement above `jit_above_cost`, and it was compiled
        /// on every beat: 60–90 ms of LLVM for 1 ms of work, all the while holding the runner's row,
        /// which the runner's claims lock `FOR SHARE`. Its claims waited, and their runs started up
        /// to 160 ms late (measured with `auto_explain`). JobRunner's statements are all short; none
        /// gains from JIT.
        var sessionParameters: [(String, String)] {
            var parameters = [
                ("idle_in_transaction_session_timeout", "5000"), ("jit", "off"), ("application_name", "jobrunner"),
            ]
            if let schema { parameters.append(("search_path", "\"\(schema)\"")) }
            return parameters
        }

        /// The path of the server's socket, when `host` is a socket directory.
        private var socketPath: String? { host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : nil }

        /// What `sslmode` asks of TLS.
        enum TLSMode: Equatable {
            /// TLS when the server offers it (`allow`, `prefer`), unchecked.
            case prefer
            /// TLS or nothing; `verification` says what of the server's certificate is checked.
            case require(CertificateVerification)
        }

        /// `sslmode` read: nil for no TLS.
        func tlsMode() throws -> TLSMode? {
            switch sslMode {
            case "disable": return nil
            case "prefer", "allow": return .prefer
            // libpq: "if a root CA file exists, the behavior of sslmode=require will be the same as that of verify-ca".
            case "require": return .require(sslRootCert == nil ? .none : .noHostnameVerification)
            case "verify-ca": return .require(.noHostnameVerification)
            case "verify-full": return .require(.fullVerification)
            default:
                throw ParseError(
                    description:
                        "unknown sslmode '\(sslMode)' (disable, allow, prefer, require, verify-ca, verify-full)")
            }
        }

        /// The TLS configuration `sslmode` asks for, with the certificate files read (nil for none),
        /// and whether TLS is required.
        ///
        /// - Throws: `ParseError` naming a file that is missing, unreadable or not what it should be.
        func tlsConfiguration() throws -> (configuration: TLSConfiguration, required: Bool)? {
            guard let mode = try tlsMode() else { return nil }
            var configuration = TLSConfiguration.makeClientConfiguration()
            switch mode {
            case .prefer:
                configuration.certificateVerification = .none
            case .require(let verification):
                configuration.certificateVerification = verification
                if verification != .none, let sslRootCert {
                    configuration.trustRoots = .certificates(
                        try Self.certificates(sslRootCert, parameter: "sslrootcert"))
                }
            }
            if let sslCert, let sslKey {
                configuration.certificateChain = try Self.certificates(sslCert, parameter: "sslcert").map {
                    .certificate($0)
                }
                try Self.checkReadable(sslKey, parameter: "sslkey")
                do {
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: sslKey, format: .pem))
                } catch {
                    throw ParseError(description: "sslkey \(sslKey): not an unencrypted PEM private key")
                }
            }
            if case .prefer = mode { return (configuration, false) }
            return (configuration, true)
        }

        /// Fails with a one-line `ParseError` when `path` cannot be opened for reading.
        private static func checkReadable(_ path: String, parameter: String) throws {
            guard access(path, R_OK) != 0 else { return }
            let why: String
            switch errno {
            case ENOENT, ENOTDIR: why = "no such file"
            case EACCES: why = "permission denied"
            case let code: why = String(cString: strerror(code))
            }
            throw ParseError(description: "\(parameter) \(path): \(why)")
        }

        /// The certificates of a PEM file (at least one).
        private static func certificates(_ path: String, parameter: String) throws -> [NIOSSLCertificate] {
            try checkReadable(path, parameter: parameter)
            let certificates = try? NIOSSLCertificate.fromPEMFile(path)
            guard let certificates, !certificates.isEmpty else {
                throw ParseError(description: "\(parameter) \(path): no PEM certificate in it")
            }
            return certificates
        }

        /// How long opening a connection may take before it fails, in seconds.
        static let connectTimeoutSeconds: Int64 = 5

        /// The configuration of one connection outside any pool (the change feed's LISTEN session).
        ///
        /// - Throws: `ParseError` when a certificate file named by the URL cannot be used.
        public func connectionConfiguration() throws -> PostgresConnection.Configuration {
            var configuration: PostgresConnection.Configuration
            if let socketPath {
                configuration = PostgresConnection.Configuration(
                    unixSocketPath: socketPath, username: user, password: password, database: database)
            } else {
                let tls: PostgresConnection.Configuration.TLS
                if let settings = try tlsConfiguration() {
                    let context: NIOSSLContext
                    do {
                        context = try NIOSSLContext(configuration: settings.configuration)
                    } catch {
                        // Files that each loaded but do not go together: a key not of the certificate.
                        guard let sslCert, let sslKey else { throw error }
                        throw ParseError(description: "sslkey \(sslKey) is not the key of sslcert \(sslCert)")
                    }
                    tls = settings.required ? .require(context) : .prefer(context)
                } else {
                    tls = .disable
                }
                configuration = PostgresConnection.Configuration(
                    host: host, port: port, username: user, password: password, database: database, tls: tls)
            }
            configuration.options.additionalStartupParameters = sessionParameters
            configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
            return configuration
        }

        /// The client configuration for this URL.
        ///
        /// - Throws: `ParseError` when a certificate file named by the URL cannot be used.
        public func clientConfiguration() throws -> PostgresClient.Configuration {
            var configuration: PostgresClient.Configuration
            if let socketPath {
                configuration = PostgresClient.Configuration(
                    unixSocketPath: socketPath, username: user, password: password, database: database)
            } else {
                let tls: PostgresClient.Configuration.TLS
                if let settings = try tlsConfiguration() {
                    tls = settings.required ? .require(settings.configuration) : .prefer(settings.configuration)
                } else {
                    tls = .disable
                }
                configuration = PostgresClient.Configuration(
                    host: host, port: port, username: user, password: password, database: database, tls: tls)
            }
            configuration.options.additionalStartupParameters = sessionParameters
            configuration.options.maximumConnections = poolSize
            configuration.options.minimumConnections = 1
            configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
            return configuration
        }

        private static func decode(_ text: Substring) throws -> String {
            var bytes: [UInt8] = []
            var utf8 = text.utf8[...]
            while let byte = utf8.popFirst() {
                if byte == UInt8(ascii: "%") {
                    let hex = utf8.prefix(2)
                    guard hex.count == 2, let value = UInt8(String(decoding: hex, as: UTF8.self), radix: 16) else {
                        throw ParseError(description: "not a PostgreSQL URL: bad percent escape")
                    }
                    bytes.append(value)
                    utf8 = utf8.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
#endif
