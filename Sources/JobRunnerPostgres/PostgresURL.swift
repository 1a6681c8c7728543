#if PostgreSQL
    import NIOSSL
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
                default: break  // application_name, connect_timeout, …: not used yet
                }
            }
            let database = try Self.decode(path)
            guard !database.isEmpty else { throw fail("no database name") }
            guard (1...65535).contains(port) else { throw fail("bad port") }
            self.user = user
            self.password = password
            self.host = host
            self.port = port
            self.database = database
            self.sslMode = sslMode
        }

        /// The URL without its password.
        public var redacted: String {
            if host.hasPrefix("/") {
                return "postgresql://\(user)@/\(database)?host=\(host)&port=\(port)"
            }
            return "postgresql://\(user)@\(host):\(port)/\(database)"
        }

        /// The configuration of one connection outside any pool (the change feed's LISTEN session).
        public func connectionConfiguration() throws -> PostgresConnection.Configuration {
            if host.hasPrefix("/") {
                return PostgresConnection.Configuration(
                    unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
            }
            return PostgresConnection.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: try tls())
        }

        private func tls() throws -> PostgresConnection.Configuration.TLS {
            switch sslMode {
            case "disable": return .disable
            case "prefer", "allow": return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case "require", "verify-ca", "verify-full":
                return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            default: throw ParseError(description: "not a PostgreSQL URL: unknown sslmode '\(sslMode)'")
            }
        }

        /// The client configuration for this URL.
        public func clientConfiguration() throws -> PostgresClient.Configuration {
            if host.hasPrefix("/") {
                return PostgresClient.Configuration(
                    unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
            }
            let tls: PostgresClient.Configuration.TLS
            switch sslMode {
            case "disable": tls = .disable
            case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
            case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
            default: throw ParseError(description: "not a PostgreSQL URL: unknown sslmode '\(sslMode)'")
            }
            return PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: tls)
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
