#if Dashboard
    import Foundation
    import HTTPTypes
    import Hummingbird
    import JobRunner
    import Logging
    import NIOCore
    import ServiceLifecycle
    import UnixSignals

    /// `jobctl serve`: hummingbird answering with ``DashboardRoutes``.
    struct DashboardServer {
        let store: JobStore
        let address: ListenAddress
        let token: String?

        /// The largest request body read (a sign-in or action form).
        static let maximumBody = 16 * 1024

        /// Headers on every HTML page: no external or inline script or style may run (the pages use
        /// only /static/), no framing, and no sniffing.
        static let pageHeaders: [(String, String)] = [
            (
                "Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            ),
            ("X-Frame-Options", "DENY"),
        ]

        func run() async throws {
            var logger = Logger(label: "jobctl.serve")
            logger.logLevel = .notice
            let routes = DashboardRoutes(store: store, auth: DashboardAuth(token: token))
            let readOnly = token == nil
            let app = Application(
                responder: DashboardServer.responder { await routes.respond(to: $0) },
                configuration: .init(address: .hostname(address.host, port: address.port), serverName: "jobctl"),
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? address.port
                    var shown = address
                    shown.port = port
                    let line =
                        "jobctl serve: listening on http://\(shown)/ (\(readOnly ? "read-only" : "actions allowed with the token"))\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                },
                logger: logger
            )
            try await DashboardServer.runUntilSignal(services: [app], logger: logger)
        }

        /// Runs the services until SIGTERM or SIGINT, then shuts them down gracefully.
        static func runUntilSignal(services: [any Service], logger: Logger) async throws {
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(
                    services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
        }

        /// A hummingbird responder that turns a request into a ``DashboardRequest`` and the answer
        /// into a response.
        static func responder(
            _ handle: @escaping @Sendable (DashboardRequest) async -> DashboardResponse
        ) -> CallbackResponder<BasicRequestContext> {
            CallbackResponder { request, _ in
                var dashboardRequest = DashboardRequest(
                    method: request.method.rawValue, path: request.uri.path,
                    query: request.uri.query.map { FormDecoding.fields(Substring($0)) } ?? [:])
                let headers = request.headers
                if let authorization = headers[.authorization], authorization.hasPrefix("Bearer ") {
                    dashboardRequest.bearer = String(authorization.dropFirst("Bearer ".count))
                }
                dashboardRequest.csrfHeader = HTTPField.Name("X-CSRF-Token").flatMap { headers[$0] }
                dashboardRequest.origin = headers[.origin]
                dashboardRequest.host = request.head.authority ?? headers[HTTPField.Name("Host")!]
                if let cookies = headers[.cookie] {
                    for part in cookies.split(separator: ";") {
                        let pair = part.trimmingCharacters(in: .whitespaces)
                        if pair.hasPrefix("jobctl_session=") {
                            dashboardRequest.sessionCookie = String(pair.dropFirst("jobctl_session=".count))
                        } else if pair.hasPrefix("jobctl_login_csrf=") {
                            dashboardRequest.loginCSRFCookie = String(pair.dropFirst("jobctl_login_csrf=".count))
                        }
                    }
                }
                if request.method == .post {
                    let body = request.body
                    let buffer = try await body.collect(upTo: maximumBody)
                    if headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true {
                        dashboardRequest.form = FormDecoding.fields(Substring(String(buffer: buffer)))
                    }
                }
                let answer = await handle(dashboardRequest)
                var fields = HTTPFields()
                fields[.contentType] = answer.contentType
                fields[.cacheControl] = "no-store"
                fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
                var extra = answer.headers
                if answer.contentType.hasPrefix("text/html") { extra += pageHeaders }
                for (name, value) in extra {
                    if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
                }
                return Response(
                    status: HTTPResponse.Status(code: answer.status), headers: fields,
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
        }
    }
#endif
