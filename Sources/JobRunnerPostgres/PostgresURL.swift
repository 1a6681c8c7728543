#if PostgreSQL
    public import PostgresNIO

    /// A PostgreSQL connection URL, libpq's form: `postgres[ql]://USER[:PASSWORD]@[HOST][:PORT]/DB[?…]`.
    ///
    /// The query may give `host=` (a Unix socket directory when it starts with `/`, as libpq takes it),
    /// `port=`, `user=` and `sslmode=` (`disable`, `prefer`, `require`). The password never appears in
    /// ``redacted``, which is what logs, errors and `JOB_DATABASE` show.
    public struct PostgresURL: Sendable, Equatable {
        public var user: String
        public var password: String?
        /// A host name, or a Unix socket directory (starting with `/`).
        public var host: String
        public var port: Int
        public var database: String
        public var sslMode: String
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
                case "schema": schema = value
                case "pool_size":
                    guard let n = Int(value) else { throw fail("pool_size must be 1 to 100") }
                    poolSize = n
                default:
                    throw fail(
                        "unknown parameter '\(key)' (known: host, port, user, password, dbname, sslmode, schema, pool_size)"
                    )
                }
            }
            let database = try Self.decode(path)
            guard !database.isEmpty else { throw fail("no database name") }
            do {
                try self.init(
                    host: host, port: port, user: user, password: password, database: database, sslMode: sslMode,
                    schema: schema, poolSize: poolSize)
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
        ///   - sslMode: `disable`, `prefer` or `require` (`allow`, `verify-ca` and `verify-full` are
        ///     taken too: the first as `prefer`, the others as `require`, which verifies the server's
        ///     certificate against the system's trust roots).
        ///   - schema: where the tables live, created when missing; nil for the default search path.
        ///   - poolSize: the most connections of the store's pool, 1 to 100.
        /// - Throws: `ParseError` naming the field that is not valid.
        public init(
            host: String = "localhost", port: Int = 5432, user: String = "postgres", password: String? = nil,
            database: String, sslMode: String = "prefer", schema: String? = nil, poolSize: Int = 4
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
            self.schema = schema
            self.poolSize = poolSize
            _ = try tlsRequired()
        }

        /// The URL without its password.
        public var redacted: String {
            let schemaParameter = schema.map { "schema=\($0)" }
            if host.hasPrefix("/") {
                return "postgresql://\(user)@/\(database)?host=\(host)&port=\(port)"
                    + (schemaParameter.map { "&" + $0 } ?? "")
            }
            return "postgresql://\(user)@\(host):\(port)/\(database)" + (schemaParameter.map { "?" + $0 } ?? "")
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

        /// What `sslmode` asks of TLS: nil for none, else whether it is required (or only preferred).
        private func tlsRequired() throws -> Bool? {
            switch sslMode {
            case "disable": return nil
            case "prefer", "allow": return false
            case "require", "verify-ca", "verify-full": return true
            default:
                throw ParseError(
                    description:
                        "unknown sslmode '\(sslMode)' (disable, allow, prefer, require, verify-ca, verify-full)")
            }
        }

        /// How long opening a connection may take before it fails, in seconds.
        static let connectTimeoutSeconds: Int64 = 5

        /// The configuration of one connection outside any pool (the change feed's LISTEN session).
        public func connectionConfiguration() throws -> PostgresConnection.Configuration {
            var configuration: PostgresConnection.Configuration
            if let socketPath {
                configuration = PostgresConnection.Configuration(
                    unixSocketPath: socketPath, username: user, password: password, database: database)
            } else {
                let tls: PostgresConnection.Configuration.TLS
                switch try tlsRequired() {
                case nil: tls = .disable
                case let required?:
                    let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                    tls = required ? .require(context) : .prefer(context)
                }
                configuration = PostgresConnection.Configuration(
                    host: host, port: port, username: user, password: password, database: database, tls: tls)
            }
            configuration.options.additionalStartupParameters = sessionParameters
            configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
            return configuration
        }

        /// The client configuration for this URL.
        public func clientConfiguration() throws -> PostgresClient.Configuration {
            var configuration: PostgresClient.Configuration
            if let socketPath {
                configuration = PostgresClient.Configuration(
                    unixSocketPath: socketPath, username: user, password: password, database: database)
            } else {
                let tls: PostgresClient.Configuration.TLS
                switch try tlsRequired() {
                case nil: tls = .disable
                case let required?:
                    tls = required ? .require(.makeClientConfiguration()) : .prefer(.makeClientConfiguration())
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
