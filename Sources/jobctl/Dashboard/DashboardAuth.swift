#if Dashboard
    import Synchronization

    /// Who may act: the token from `--token-file`, browser sessions made by signing in with it, and
    /// the CSRF tokens that every action must carry.
    ///
    /// An action needs both (1) the token, as `Authorization: Bearer TOKEN` or a session cookie got by
    /// signing in, and (2) the CSRF token of that session (a form field `csrf`, or `X-CSRF-Token`):
    /// a page of another site can make a browser send the cookie, but cannot read the CSRF token. A
    /// POST whose `Origin` is not this server is refused too. Without a token, nothing is allowed.
    final class DashboardAuth: Sendable {
        /// The token; nil for a read-only server.
        let token: String?
        /// The CSRF token of bearer-token clients (`GET /api/csrf`), fixed for the server's life.
        let apiCSRF: String
        private let sessions = Mutex<Sessions>(Sessions())

        /// Sessions by id, each with its CSRF token; the oldest are forgotten beyond a bound.
        private struct Sessions {
            var csrf: [String: String] = [:]
            var order: [String] = []
        }

        /// The most sessions remembered.
        static let maximumSessions = 256

        init(token: String?) {
            self.token = token
            apiCSRF = DashboardAuth.randomToken()
        }

        var readOnly: Bool { token == nil }

        /// 32 bytes from the system's secure generator, as hex.
        static func randomToken() -> String {
            var generator = SystemRandomNumberGenerator()
            var text = ""
            for _ in 0..<32 {
                let byte = UInt8.random(in: 0...255, using: &generator)
                text += String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
            }
            return text
        }

        /// Compares in time independent of where the strings differ.
        static func same(_ a: String, _ b: String) -> Bool {
            let x = Array(a.utf8)
            let y = Array(b.utf8)
            var difference = UInt8(x.count == y.count ? 0 : 1)
            for index in 0..<max(x.count, y.count) {
                difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
            }
            return difference == 0
        }

        /// Whether `candidate` is the token.
        func isToken(_ candidate: String) -> Bool {
            guard let token else { return false }
            return DashboardAuth.same(candidate, token)
        }

        /// A new session for someone who gave the token: its id (the cookie) and CSRF token.
        func newSession() -> (id: String, csrf: String) {
            let id = DashboardAuth.randomToken()
            let csrf = DashboardAuth.randomToken()
            sessions.withLock { state in
                state.csrf[id] = csrf
                state.order.append(id)
                while state.order.count > DashboardAuth.maximumSessions {
                    state.csrf[state.order.removeFirst()] = nil
                }
            }
            return (id, csrf)
        }

        func endSession(_ id: String) {
            sessions.withLock { state in
                state.csrf[id] = nil
                state.order.removeAll { $0 == id }
            }
        }

        /// The CSRF token of a signed-in request (session or bearer), or nil when it is not signed in.
        func csrf(for request: DashboardRequest) -> String? {
            guard token != nil else { return nil }
            if let bearer = request.bearer {
                return isToken(bearer) ? apiCSRF : nil
            }
            if let id = request.sessionCookie {
                return sessions.withLock { state in
                    state.csrf.first { DashboardAuth.same($0.key, id) }?.value
                }
            }
            return nil
        }

        /// Why an action is refused, with the HTTP status; nil when it is allowed.
        func refusal(of request: DashboardRequest) -> (status: Int, message: String)? {
            guard token != nil else {
                return (403, "read-only: this server was started without --token-file, so actions are refused")
            }
            guard request.method == "POST" else { return (405, "actions are POST requests") }
            if let origin = request.origin, let host = request.host,
                origin != "http://" + host && origin != "https://" + host
            {
                return (403, "refused: the request comes from another site (Origin \(origin))")
            }
            if request.bearer != nil && !(request.bearer.map(isToken) ?? false) {
                return (401, "the bearer token is wrong")
            }
            guard let expected = csrf(for: request) else {
                return (401, "not signed in: sign in at /login, or send Authorization: Bearer TOKEN")
            }
            guard let given = request.form["csrf"] ?? request.csrfHeader else {
                return (403, "missing CSRF token (form field csrf or header X-CSRF-Token; GET /api/csrf gives it)")
            }
            guard DashboardAuth.same(given, expected) else { return (403, "bad CSRF token") }
            return nil
        }
    }
#endif
