#if Dashboard
    import Foundation
    import JobRunner

    /// What `jobctl serve` answers: pages, the JSON API, actions and `/metrics`, from one store.
    struct DashboardRoutes: Sendable {
        let store: JobStore
        let auth: DashboardAuth

        /// A request's answer; errors become a status and a one-line message.
        func respond(to request: DashboardRequest) async -> DashboardResponse {
            let api = request.path.hasPrefix("/api/")
            do {
                return try await route(request)
            } catch let error as BadRequest {
                return api
                    ? .jsonError(error.message, status: error.status) : page(error: error.message, status: error.status)
            } catch let error as JobRunnerError {
                let status =
                    switch error.kind {
                    case .jobNotFound, .queueNotFound: 404
                    case .invalidDefinition: 400
                    case .invalidState: 409
                    default: 500
                    }
                return api ? .jsonError(error.message, status: status) : page(error: error.message, status: status)
            } catch let error as JobStoreError {
                let message = DatabaseErrorText.describe(error)
                return api ? .jsonError(message, status: 503) : page(error: message, status: 503)
            } catch {
                let message = "\(error)"
                return api ? .jsonError(message, status: 500) : page(error: message, status: 500)
            }
        }

        /// A refused or malformed request.
        struct BadRequest: Error {
            var status: Int
            var message: String
        }

        private func page(error message: String, status: Int) -> DashboardResponse {
            .html(
                HTML.page(title: "Error \(status)", active: "", signedIn: false) {
                    "<h1>Error \(status)</h1><p class=\"error\">\(HTML.escape(message))</p><p><a href=\"/\">Overview</a></p>"
                }, status: status)
        }

        private func route(_ request: DashboardRequest) async throws -> DashboardResponse {
            switch (request.method, request.path) {
            case ("GET", "/api/status"):
                let (document, jobs) = try await statusDocument(request)
                var response = DashboardResponse.json(try Output.jsonData(document))
                response.headers.append(("X-Total-Count", "\(jobs)"))
                return response
            case ("GET", "/api/jobs"):
                let (page, query) = try await jobs(request)
                var response = DashboardResponse.json(try Output.jsonData(page.jobs.map { JobJSON($0) }))
                response.headers.append(("X-Total-Count", "\(page.total)"))
                if let links = DashboardRoutes.links(request, query: query, shown: page.jobs.count, total: page.total) {
                    response.headers.append(("Link", links))
                }
                return response
            case ("GET", "/api/job"): return .json(try Output.jsonData(try await jobDocument(request)))
            case ("GET", "/api/history"):
                let (runs, more) = try await history(request)
                var response = DashboardResponse.json(try Output.jsonData(runs.map(RunJSON.init)))
                if more, let last = runs.last {
                    let parameters = HTML.query(
                        ["job", "status", "since", "limit"].map { ($0, request.parameter($0)) } + [
                            ("before", "\(last.id)")
                        ])
                    response.headers.append(("Link", "</api/history\(parameters)>; rel=\"next\""))
                }
                return response
            case ("GET", "/api/run"): return .json(try Output.jsonData(RunJSON(try await run(request))))
            case ("GET", "/api/queues"):
                return .json(try Output.jsonData(try await store.queues().map(Queue.ListQueues.QueueJSON.init)))
            case ("GET", "/api/runners"):
                let now = store.clock.now()
                return .json(try Output.jsonData(try await store.runners(limit: 100).map { RunnerJSON($0, now: now) }))
            case ("GET", "/api/csrf"):
                guard let csrf = auth.csrf(for: request) else {
                    throw BadRequest(
                        status: auth.readOnly ? 403 : 401,
                        message: auth.readOnly
                            ? "read-only: no actions, so no CSRF token" : "send Authorization: Bearer TOKEN")
                }
                return .json(try Output.jsonData(["csrf": csrf]))
            case ("GET", "/metrics"):
                return .text(
                    try await DashboardMetrics.scrape(store), contentType: "text/plain; version=0.0.4; charset=utf-8")
            case (_, "/api/job/trigger"), (_, "/api/job/pause"), (_, "/api/job/resume"), (_, "/api/job/stop"),
                (_, "/api/drain"):
                return try await action(request)
            case ("GET", "/login"): return loginPage(message: nil, status: 200)
            case ("POST", "/login"): return login(request)
            case ("POST", "/logout"):
                if auth.refusal(of: request) == nil, let id = request.sessionCookie { auth.endSession(id) }
                var response = DashboardResponse.redirect(to: "/")
                response.headers.append(("Set-Cookie", "jobctl_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"))
                return response
            case ("GET", "/static/live.js"):
                return .text(DashboardPages.liveScript, contentType: "text/javascript; charset=utf-8")
            case ("GET", "/static/style.css"):
                return .text(DashboardPages.styleSheet, contentType: "text/css; charset=utf-8")
            case ("GET", _):
                let pages = DashboardPages(routes: self, request: request, csrf: auth.csrf(for: request))
                guard let html = try await pages.render() else {
                    throw BadRequest(status: 404, message: "no page at \(request.path)")
                }
                return .html(html)
            default:
                throw BadRequest(status: 405, message: "\(request.method) \(request.path) is not allowed")
            }
        }

        // MARK: Documents, shared by the API and the pages

        /// Jobs in an answer of `/api/jobs` without `limit`, and the most that `limit` may ask for: a
        /// page of 500 jobs is about 350 kB of JSON, the whole list of a large database tens of MB.
        static let jobsPageDefault = 500
        static let jobsPageMaximum = 1000
        /// Jobs listed in `perJob` of `/api/status` without `perJobLimit`, and the most it may ask for.
        static let perJobDefault = 1000
        static let perJobMaximum = 10_000

        /// `status --json`, with `perJob` limited to the first `perJobLimit` jobs by name (1000 by
        /// default); and how many jobs there are in all (what `perJob` lists without a limit).
        func statusDocument(_ request: DashboardRequest) async throws -> (document: Status.StatusJSON, jobs: Int) {
            let limit = try count(
                request, "perJobLimit", default: DashboardRoutes.perJobDefault, in: 0...DashboardRoutes.perJobMaximum)
            await store.rescueIfPossible()
            let status = try await store.status(perJobLimit: limit)
            return (Status.StatusJSON(status, now: store.clock.now()), status.jobsByState.values.reduce(0, +))
        }

        /// A page of `list --json`: `queue` and `state` as `list --queue --state` take them; by name,
        /// as `list` reads them; `limit` (500 by default, at most 1000) jobs from `offset`. The
        /// database filters and counts (so a filter that keeps few of many jobs reads few).
        func jobs(_ request: DashboardRequest) async throws -> (page: JobsPage, query: JobsPageQuery) {
            var query = JobsPageQuery()
            query.sort = .name
            if let queue = request.parameter("queue") {
                do { try Queue.validate(queue) } catch { throw BadRequest(status: 400, message: "queue: \(error)") }
                query.queue = queue
            }
            if let state = request.parameter("state") {
                guard List.stateFilters.contains(state) else {
                    throw BadRequest(
                        status: 400,
                        message:
                            "state must be one of \(List.stateFilters.joined(separator: ", ")), not \(JobRunnerErrorText.quoted(state))"
                    )
                }
                query.failing = state == "failing"
                query.state = JobState(rawValue: state)
            }
            query.limit = try count(
                request, "limit", default: DashboardRoutes.jobsPageDefault, in: 1...DashboardRoutes.jobsPageMaximum)
            query.offset = try count(request, "offset", default: 0, in: 0...1_000_000_000)
            return (try await store.jobsPage(query), query)
        }

        /// The RFC 8288 `Link` header of a page of `/api/jobs`: `next` while jobs remain after it,
        /// `prev` and `first` after the first page; nil when there is one page only.
        static func links(_ request: DashboardRequest, query: JobsPageQuery, shown: Int, total: Int) -> String? {
            func link(_ offset: Int, _ relation: String) -> String {
                let parameters = HTML.query([
                    ("queue", request.parameter("queue")), ("state", request.parameter("state")),
                    ("limit", "\(query.limit)"), ("offset", "\(offset)"),
                ])
                return "<\(request.path)\(parameters)>; rel=\"\(relation)\""
            }
            var links: [String] = []
            if query.offset + shown < total { links.append(link(query.offset + shown, "next")) }
            if query.offset > 0 {
                links.append(link(max(0, query.offset - query.limit), "prev"))
                links.append(link(0, "first"))
            }
            return links.isEmpty ? nil : links.joined(separator: ", ")
        }

        /// A job by `name`, or 404.
        func job(_ request: DashboardRequest) async throws -> JobRecord {
            guard let name = request.parameter("name") else {
                throw BadRequest(status: 400, message: "name is missing")
            }
            guard let job = try await store.job(named: name) else {
                throw BadRequest(status: 404, message: "no job named \(JobRunnerErrorText.quoted(name))")
            }
            return job
        }

        /// `show NAME --json --runs N` (N from `runs`, default 10).
        func jobDocument(_ request: DashboardRequest) async throws -> JobJSON {
            let job = try await job(request)
            let runs = try count(request, "runs", default: 10, in: 0...10_000)
            return JobJSON(job, recentRuns: try await store.history(HistoryQuery(jobID: job.id, limit: runs)))
        }

        /// `history --json` with `job`, `status`, `since`, `limit` as the command takes them, and
        /// `before=RUN` for the runs older than that one (the next page); and whether older runs remain.
        func history(_ request: DashboardRequest) async throws -> (runs: [RunRecord], more: Bool) {
            var query = HistoryQuery(job: request.parameter("job"))
            let limit = try count(request, "limit", default: 50, in: 1...1_000_000)
            query.limit = limit + 1
            query.before = try runID(request, "before")
            if let status = request.parameter("status") {
                guard let outcome = RunOutcome(rawValue: status) else {
                    throw BadRequest(
                        status: 400,
                        message:
                            "status must be one of \(RunOutcome.allCases.map(\.rawValue).joined(separator: ", ")), not \(JobRunnerErrorText.quoted(status))"
                    )
                }
                query.outcome = outcome
            }
            if let since = request.parameter("since") {
                do {
                    query.since = try Parse.since(since, flag: "since", now: store.clock.now())
                } catch {
                    throw BadRequest(status: 400, message: "\(error)")
                }
            }
            let runs = try await store.history(query)
            return (Array(runs.prefix(limit)), runs.count > limit)
        }

        /// A run id parameter (`before`, `after`), nil when absent.
        func runID(_ request: DashboardRequest, _ name: String) throws -> Int64? {
            try request.parameter(name).map { text in
                guard let id = Int64(text), id > 0 else {
                    throw BadRequest(
                        status: 400, message: "\(name) must be a run id, not \(JobRunnerErrorText.quoted(text))")
                }
                return id
            }
        }

        /// `logs RUN --json`.
        func run(_ request: DashboardRequest) async throws -> RunRecord {
            guard let text = request.parameter("id"), let id = Int64(text) else {
                throw BadRequest(status: 400, message: "id must be a run id")
            }
            guard let run = try await store.run(id: id) else {
                throw BadRequest(status: 404, message: "no run \(id)")
            }
            return run
        }

        /// A whole-number parameter within `range`.
        func count(_ request: DashboardRequest, _ name: String, default value: Int, in range: ClosedRange<Int>) throws
            -> Int
        {
            guard let text = request.parameter(name) else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw BadRequest(
                    status: 400, message: "\(name) must be a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }

        // MARK: Actions

        /// trigger, pause, resume, stop a job, or drain every runner: only with the token and the CSRF
        /// token. A form with a `return` field is sent back to that page; others get a JSON document.
        private func action(_ request: DashboardRequest) async throws -> DashboardResponse {
            if let refusal = auth.refusal(of: request) {
                throw BadRequest(status: refusal.status, message: refusal.message)
            }
            let document: Data
            switch request.path {
            case "/api/drain":
                let drain = try await store.requestDrain()
                let now = store.clock.now()
                document = try Output.jsonData(["runners": drain.runners.map { RunnerJSON($0, now: now) }])
            default:
                guard let name = request.parameter("name") ?? request.form["name"] else {
                    throw BadRequest(status: 400, message: "name is missing")
                }
                let job: JobRecord
                switch request.path {
                case "/api/job/trigger": job = try await store.trigger(name)
                case "/api/job/pause": job = try await store.pause(name)
                case "/api/job/resume": job = try await store.resume(name)
                default: job = try await store.stop(name)
                }
                document = try Output.jsonData(JobJSON(job))
            }
            if let back = request.form["return"], back.hasPrefix("/"), !back.hasPrefix("//"), !back.contains("\\") {
                return .redirect(to: back)
            }
            return .json(document)
        }

        /// The sign-in form, with a new pre-session CSRF token: in a cookie (HttpOnly, SameSite=Strict,
        /// for /login only) and in a hidden field, which a sign-in must send back alike. A page of
        /// another site can post to /login but can neither read the field nor set the cookie, so it
        /// cannot sign a browser in with the attacker's token (login CSRF).
        private func loginPage(message: String?, status: Int) -> DashboardResponse {
            guard !auth.readOnly else {
                return .html(DashboardPages.login(message: message, readOnly: true, csrf: nil), status: status)
            }
            let csrf = DashboardAuth.randomToken()
            var response = DashboardResponse.html(
                DashboardPages.login(message: message, readOnly: false, csrf: csrf), status: status)
            response.headers.append(
                ("Set-Cookie", "\(DashboardRoutes.loginCSRFCookie)=\(csrf); Path=/login; HttpOnly; SameSite=Strict"))
            return response
        }

        /// The cookie of the sign-in form's CSRF token.
        static let loginCSRFCookie = "jobctl_login_csrf"

        private func login(_ request: DashboardRequest) -> DashboardResponse {
            guard !auth.readOnly else { return loginPage(message: "This server is read-only.", status: 403) }
            if let origin = request.origin, let host = request.host, origin != "http://" + host {
                return loginPage(message: "Refused: another site.", status: 403)
            }
            guard let cookie = request.loginCSRFCookie, !cookie.isEmpty, let field = request.form["login_csrf"] else {
                return loginPage(
                    message:
                        "Refused: the sign-in form's CSRF token is missing (sign in from this form, with cookies on).",
                    status: 403)
            }
            guard DashboardAuth.same(field, cookie) else {
                return loginPage(
                    message: "Refused: the sign-in form's CSRF token does not match its cookie; sign in again.",
                    status: 403)
            }
            guard let given = request.form["token"], auth.isToken(given) else {
                return loginPage(message: "Wrong token.", status: 401)
            }
            let session = auth.newSession()
            var response = DashboardResponse.redirect(to: "/")
            response.headers.append(
                ("Set-Cookie", "\(DashboardRoutes.loginCSRFCookie)=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict")
            )
            response.headers.append(("Set-Cookie", "jobctl_session=\(session.id); Path=/; HttpOnly; SameSite=Strict"))
            return response
        }
    }
#endif
