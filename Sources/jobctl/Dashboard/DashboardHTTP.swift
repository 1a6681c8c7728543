#if Dashboard
    import Foundation

    /// A request as the dashboard's routes see it: independent of the HTTP server, so that routing,
    /// authorization and rendering are plain functions of it.
    struct DashboardRequest: Sendable {
        var method: String
        var path: String
        /// Query parameters, percent-decoded; the first of a repeated name wins.
        var query: [String: String]
        /// Form fields of a POST with `application/x-www-form-urlencoded`, percent-decoded.
        var form: [String: String] = [:]
        /// `Authorization: Bearer …`, without the scheme.
        var bearer: String?
        /// `X-CSRF-Token`.
        var csrfHeader: String?
        /// The `jobctl_session` cookie.
        var sessionCookie: String?
        /// The `jobctl_login_csrf` cookie: the sign-in form's CSRF token, before there is a session.
        var loginCSRFCookie: String?
        /// `Origin`, and `Host`, to refuse a cross-site POST.
        var origin: String?
        var host: String?

        /// A query parameter, or nil when absent or empty.
        func parameter(_ name: String) -> String? {
            guard let value = query[name], !value.isEmpty else { return nil }
            return value
        }
    }

    /// A response: status, content type, extra headers, body.
    struct DashboardResponse: Sendable {
        var status: Int
        var contentType: String
        var headers: [(String, String)] = []
        var body: Data

        static func json(_ data: Data, status: Int = 200) -> DashboardResponse {
            DashboardResponse(status: status, contentType: "application/json; charset=utf-8", body: data)
        }

        static func html(_ text: String, status: Int = 200) -> DashboardResponse {
            DashboardResponse(status: status, contentType: "text/html; charset=utf-8", body: Data(text.utf8))
        }

        static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8")
            -> DashboardResponse
        {
            DashboardResponse(status: status, contentType: contentType, body: Data(text.utf8))
        }

        static func redirect(to location: String) -> DashboardResponse {
            DashboardResponse(
                status: 303, contentType: "text/plain; charset=utf-8", headers: [("Location", location)],
                body: Data("see \(location)\n".utf8))
        }

        /// A JSON error document `{"error": "…"}`.
        static func jsonError(_ message: String, status: Int) -> DashboardResponse {
            let data = (try? Output.jsonData(["error": message])) ?? Data()
            return .json(data, status: status)
        }
    }

    /// Percent-decoding of query strings and form bodies (`+` is a space).
    enum FormDecoding {
        static func fields(_ text: Substring) -> [String: String] {
            var result: [String: String] = [:]
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = decode(parts[0]) else { continue }
                let value = parts.count > 1 ? decode(parts[1]) : ""
                if result[name] == nil, let value { result[name] = value }
            }
            return result
        }

        static func decode(_ text: Substring) -> String? {
            text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }

        /// Percent-encodes a value for a query string.
        static func encode(_ text: String) -> String {
            let allowed = CharacterSet(
                charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        }
    }
#endif
