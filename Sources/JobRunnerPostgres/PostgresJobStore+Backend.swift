#if PostgreSQL
    package import JobRunner
    import Logging
    import PostgresNIO

    extension PostgresJobStore: JobStoreBackend {
        package nonisolated var databaseName: String { url.redacted }
        /// A claim costs 1–5 ms here (the function, a round trip, the WAL flush), and tens of ms when
        /// a checkpoint or the queue's lock holds it up: claimed 100 ms ahead, runs start on time.
        package nonisolated var defaultClaimLead: Duration { .milliseconds(100) }

        package nonisolated func publicError(_ error: any Error) -> any Error {
            Self.publicError(error, url: url)
        }

        /// A ``JobStoreError`` for a postgres-nio error: the server's SQLSTATE and message, or what
        /// went wrong with the connection. Never the password: the URL is shown redacted.
        static func publicError(_ error: any Error, url: PostgresURL) -> any Error {
            if let error = error as? PostgresTransactionError {
                return publicError(error.closureError ?? error.commitError ?? error.beginError ?? error, url: url)
            }
            // postgres-nio's pool error type is not public API: known by its name.
            if String(describing: type(of: error)) == "ConnectionPoolError" {
                return JobStoreError(
                    kind: .unavailable, backend: "PostgreSQL", code: 0, message: "cannot connect to the server",
                    description: "PostgreSQL at \(url.redacted): cannot connect to the server (\(error))")
            }
            if case .connectionClosed? = error as? PostgresStoreError {
                return JobStoreError(
                    kind: .unavailable, backend: "PostgreSQL", code: 0, message: "the connection was closed",
                    description: "PostgreSQL at \(url.redacted): the connection was closed")
            }
            if let what = tlsFailure(error, url: url) {
                return JobStoreError(
                    kind: .unavailable, backend: "PostgreSQL", code: 0, message: what,
                    description: "PostgreSQL at \(url.redacted): \(what)")
            }
            guard let error = error as? PSQLError else { return error }
            if let state = sqlState(error) {
                let message = error.serverInfo?[.message] ?? "error"
                let kind: JobStoreError.Kind
                switch state {
                case "40001", "40P01", "55P03", "57014": kind = .busy
                case "25006": kind = .readOnly
                case "53100": kind = .full
                case "XX001", "XX002": kind = .corrupt
                case "3D000", "28000", "28P01", "57P01", "57P02", "57P03", "53300":
                    kind = .unavailable
                default: kind = state.hasPrefix("08") ? .unavailable : .other
                }
                return JobStoreError(
                    kind: kind, backend: "PostgreSQL", code: 0, message: "\(message) (SQLSTATE \(state))",
                    description: "PostgreSQL at \(url.redacted): \(message) (SQLSTATE \(state))")
            }
            let what: String
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                what = error.underlying.map { "cannot reach the server (\($0))" } ?? "the connection was closed"
            case .sslUnsupported: what = "the server does not support TLS (sslmode=\(url.sslMode))"
            case .failedToAddSSLHandler:
                what = "cannot start TLS (sslmode=\(url.sslMode))" + (error.underlying.map { ": \($0)" } ?? "")
            case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
                what = "authentication failed (set the password in PGPASSWORD or ~/.pgpass)"
            case .queryCancelled: what = "the query was cancelled"
            default: what = "\(error.code)"
            }
            return JobStoreError(
                kind: .unavailable, backend: "PostgreSQL", code: 0, message: what,
                description: "PostgreSQL at \(url.redacted): \(what)")
        }

        /// What went wrong in the TLS handshake, in one line that names `sslmode` (and `sslrootcert`,
        /// when the certificate is not trusted); nil when `error` is not a TLS failure.
        static func tlsFailure(_ error: any Error, url: PostgresURL) -> String? {
            if let error = error as? PSQLError {
                return error.underlying.flatMap { tlsFailure($0, url: url) }
            }
            let mode = "sslmode=\(url.sslMode)"
            if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
                return "the server's certificate does not name \(url.host) (\(mode))"
            }
            guard case .handshakeFailed(let failure) = error as? NIOSSLError else { return nil }
            // BoringSSL's reasons read "error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at FILE:LINE".
            let reasons: [String]
            switch failure {
            case .sslError(let stack), .unknownError(let stack):
                reasons = stack.map { entry in
                    let parts = entry.description.split(separator: ":")
                    guard let library = parts.firstIndex(of: "OPENSSL_internal"), library + 1 < parts.endIndex,
                        let reason = parts[library + 1].split(separator: " ").first
                    else { return entry.description }
                    return String(reason.lowercased().map { $0 == "_" ? " " : $0 })
                }
            default:
                reasons = ["\(failure)"]
            }
            if reasons.contains("certificate verify failed") {
                let roots = url.sslRootCert.map { "sslrootcert \($0)" } ?? "the system's trust roots"
                // BoringSSL says no more: an unknown CA, an expired certificate, one not for a server…
                return "the server's certificate is not trusted (\(mode)): it does not verify against \(roots)"
            }
            return
                "the TLS handshake failed (\(mode)): \(reasons.isEmpty ? "\(failure)" : reasons.joined(separator: "; "))"
        }

        /// None: PostgreSQL's autovacuum does what SQLite's checkpoints and `optimize` do.
        package nonisolated func maintenanceHandlers() -> [String: JobRegistry.Handler] { [:] }

        /// LISTEN on a session connection of its own (not one of the pool's), re-established when it
        /// drops; see ``PostgresChangeFeed``.
        package nonisolated func changeFeed(pollInterval: Duration, clock: any JobClock) -> any StoreChangeFeed {
            PostgresChangeFeed(
                url: url, channel: wakeChannel, retry: max(pollInterval, .seconds(1)), logger: logger)
        }
    }

    /// Wakes a runner on the notifications that operator actions send (``PostgresJobStore/wakeChannel``).
    ///
    /// The feed holds one connection outside the pool (a pooler in transaction mode would never
    /// deliver them). Each time its `LISTEN` takes effect, the first time included, it reports one
    /// change: what was sent before (while the runner registered and the feed connected, or while it
    /// was away) is lost, and the runner's look that follows finds it. A runner also looks at every
    /// heartbeat, but a job added just as a runner starts would otherwise wait for that, up to a
    /// second past its due time.
    ///
    /// Notifications are reported whether the runner waits or not (`arm` and `disarm` change
    /// nothing): they come only from operator actions, never from the runner's own claims and
    /// finishes, so one that arrives during a claim is news, which a pending wake keeps.
    final class PostgresChangeFeed: StoreChangeFeed {
        let url: PostgresURL
        let channel: String
        let retry: Duration
        let logger: Logger

        init(url: PostgresURL, channel: String, retry: Duration, logger: Logger) {
            self.url = url
            self.channel = channel
            self.retry = retry
            self.logger = logger
        }

        func arm() {}
        func disarm() {}

        func run(onChange: @escaping @Sendable () async -> Void) async {
            while !Task.isCancelled {
                do {
                    let configuration = try url.connectionConfiguration()
                    let connection = try await PostgresConnection.connect(
                        configuration: configuration, id: 0, logger: logger)
                    do {
                        try await connection.listen(on: channel) { notifications in
                            await onChange()  // what was sent before the LISTEN took effect
                            for try await _ in notifications { await onChange() }
                        }
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                    try? await connection.close()
                } catch {
                    if Task.isCancelled { return }
                    logger.debug(
                        "change feed: connection lost, reconnecting",
                        metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: retry)
            }
        }
    }
#endif
