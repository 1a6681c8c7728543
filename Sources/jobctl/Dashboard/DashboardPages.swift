#if Dashboard
    import Foundation
    import JobRunner

    /// The dashboard's HTML pages, rendered on the server; every string from the database goes through
    /// ``HTML/escape(_:)``. Figures carry `data-figure` attributes so that tests can read them.
    struct DashboardPages {
        let routes: DashboardRoutes
        let request: DashboardRequest
        /// The CSRF token when signed in: action buttons are shown only then.
        let csrf: String?

        var store: JobStore { routes.store }

        /// Jobs per page of `/jobs`.
        static let pageSize = 50

        /// The page at the request's path; nil when there is none.
        func render() async throws -> String? {
            switch request.path {
            case "/": return try await overview()
            case "/jobs": return try await jobs()
            case "/job": return try await job()
            case "/runners": return try await runners()
            case "/queues": return try await queues()
            default: return nil
            }
        }

        private func page(_ title: String, _ active: String, _ body: String) -> String {
            HTML.page(title: title, active: active, signedIn: csrf != nil) { body }
        }

        private func figure(_ name: String, _ value: some CustomStringConvertible) -> String {
            "<span class=\"figure\" data-figure=\"\(HTML.escape(name))\">\(HTML.escape(value.description))</span>"
        }

        private func jobLink(_ name: String) -> String {
            "<a href=\"/job\(HTML.escape(HTML.query([("name", name)])))\">\(HTML.escape(name))</a>"
        }

        private func when(_ instant: UnixMicros?, now: UnixMicros) -> String {
            guard let instant else { return "-" }
            return
                "<time datetime=\"\(Timestamp.formatRFC3339UTC(instant))\">\(HTML.escape(Output.time(instant, now: now)))</time>"
        }

        // MARK: Overview

        private func overview() async throws -> String {
            await store.rescueIfPossible()
            let status = try await store.status(perJobLimit: 0)
            let now = store.clock.now()
            var html = "<h1>Overview</h1><div class=\"cards\">"
            html += "<section><h2>Jobs by state</h2><table>"
            for state in JobState.allCases {
                html +=
                    "<tr><th>\(state.rawValue)</th><td>\(figure("jobs." + state.rawValue, status.jobsByState[state] ?? 0))</td></tr>"
            }
            html += "</table></section><section><h2>Runs by outcome</h2><table>"
            html += "<tr><th>total</th><td>\(figure("runs.total", status.totalRuns))</td></tr>"
            for outcome in RunOutcome.final {
                html +=
                    "<tr><th>\(outcome.rawValue)</th><td>\(figure("runs." + outcome.rawValue, status.runsByOutcome[outcome] ?? 0))</td></tr>"
            }
            html += "</table></section><section><h2>Now</h2><table>"
            html += "<tr><th>in flight</th><td>\(figure("inFlight", status.inFlight))</td></tr>"
            html += "<tr><th>due and waiting</th><td>\(figure("due", status.due))</td></tr>"
            html += "<tr><th>runners alive</th><td>\(figure("runners", status.liveRunners.count))</td></tr>"
            html += "</table></section></div>"
            html += try await runnerTable(status.liveRunners, now: now, title: "Runners alive")
            // Failing jobs first: those whose last run failed, timed out or was abandoned, latest first.
            var failing = JobsPageQuery()
            failing.failing = true
            failing.sort = .last
            failing.descending = true
            failing.limit = 20
            let failingPage = try await store.jobsPage(failing)
            html += "<h2>Failing jobs (\(figure("failing", failingPage.total)))</h2>"
            if failingPage.jobs.isEmpty {
                html += "<p>None: no job's last run failed, timed out or was abandoned.</p>"
            } else {
                html += jobTable(failingPage.jobs, now: now)
                if failingPage.total > failingPage.jobs.count {
                    html +=
                        "<p><a href=\"/jobs?state=failing&amp;sort=last&amp;order=desc\">All \(failingPage.total) failing jobs</a></p>"
                }
            }
            return page("Overview", "/", html)
        }

        private func runnerTable(_ runners: [RunnerRecord], now: UnixMicros, title: String) async throws -> String {
            let perRunner = try await store.inFlightByRunner()
            var html = "<h2>\(HTML.escape(title))</h2>"
            guard !runners.isEmpty else { return html + "<p>No runner.</p>" }
            html +=
                "<table class=\"list\"><thead><tr><th>id</th><th>host</th><th>pid</th><th>state</th><th>slots</th><th>in flight</th><th>heartbeat</th><th>started</th></tr></thead><tbody>"
            for runner in runners {
                html += "<tr data-runner=\"\(runner.id)\"><td>#\(runner.id)</td><td>\(HTML.escape(runner.host))</td>"
                html += "<td>\(runner.pid)</td><td>\(HTML.escape(RunnerJSON.state(of: runner, now: now)))</td>"
                html += "<td>\(runner.concurrency)</td><td>\(perRunner[runner.id] ?? 0)</td>"
                html += "<td>\(HTML.escape(Output.relative(runner.heartbeatAt, now: now)))</td>"
                html += "<td>\(when(runner.startedAt, now: now))</td></tr>"
            }
            return html + "</tbody></table>"
        }

        // MARK: Jobs

        private func jobTable(_ jobs: [JobRecord], now: UnixMicros) -> String {
            var html =
                "<table class=\"list jobs\"><thead><tr><th>name</th><th>state</th><th>queue</th><th>schedule</th><th>next run</th><th>last run</th><th>outcome</th><th>runs</th></tr></thead><tbody>"
            for job in jobs {
                let state = job.runningRunID != nil ? job.state.rawValue + "+running" : job.state.rawValue
                html += "<tr data-job=\"\(HTML.escape(job.definition.name))\"><td>\(jobLink(job.definition.name))</td>"
                html += "<td>\(HTML.escape(state))</td><td>\(HTML.escape(job.definition.queue))</td>"
                html += "<td>\(HTML.escape(job.definition.schedule.description))</td>"
                html += "<td>\(when(job.nextRunAt, now: now))</td><td>\(when(job.lastStartedAt, now: now))</td>"
                let outcome = job.lastOutcome?.rawValue ?? "-"
                html += "<td class=\"outcome-\(outcome)\">\(outcome)</td><td data-runs>\(job.runCount)</td></tr>"
            }
            return html + "</tbody></table>"
        }

        /// Sort orders of `/jobs`.
        static let sorts = JobsPageQuery.Sort.allCases.map(\.rawValue)

        private func jobs() async throws -> String {
            let queue = request.parameter("queue")
            let state = request.parameter("state")
            var query = JobsPageQuery()
            if let queue {
                do { try Queue.validate(queue) } catch {
                    throw DashboardRoutes.BadRequest(status: 400, message: "queue: \(error)")
                }
                query.queue = queue
            }
            if let state {
                guard List.stateFilters.contains(state) else {
                    throw DashboardRoutes.BadRequest(
                        status: 400, message: "state must be one of \(List.stateFilters.joined(separator: ", "))")
                }
                query.failing = state == "failing"
                query.state = JobState(rawValue: state)
            }
            let sort = request.parameter("sort") ?? "next"
            guard let order = JobsPageQuery.Sort(rawValue: sort) else {
                throw DashboardRoutes.BadRequest(
                    status: 400, message: "sort must be one of \(DashboardPages.sorts.joined(separator: ", "))")
            }
            query.sort = order
            let descending = request.parameter("order") == "desc"
            query.descending = descending
            let pageNumber = try routes.count(request, "page", default: 1, in: 1...1_000_000)
            query.limit = DashboardPages.pageSize
            query.offset = (pageNumber - 1) * DashboardPages.pageSize
            let result = try await store.jobsPage(query)
            let pages = max(1, (result.total + DashboardPages.pageSize - 1) / DashboardPages.pageSize)
            let shown = result.jobs

            var html = "<h1>Jobs</h1><form class=\"filters\" method=\"get\" action=\"/jobs\">"
            html += "<label>Queue <input name=\"queue\" value=\"\(HTML.escape(queue ?? ""))\"></label>"
            html += "<label>State <select name=\"state\"><option value=\"\">any</option>"
            for option in List.stateFilters {
                html += "<option\(option == state ? " selected" : "")>\(option)</option>"
            }
            html += "</select></label><label>Sort <select name=\"sort\">"
            for option in DashboardPages.sorts {
                html += "<option\(option == sort ? " selected" : "")>\(option)</option>"
            }
            html += "</select></label><label>Order <select name=\"order\"><option value=\"asc\">ascending</option>"
            html += "<option value=\"desc\"\(descending ? " selected" : "")>descending</option></select></label>"
            html += "<button type=\"submit\">Show</button></form>"
            html += "<p>\(figure("jobs.count", result.total)) jobs; page \(pageNumber) of \(pages).</p>"
            html += jobTable(Array(shown), now: store.clock.now())
            func link(_ page: Int, _ label: String) -> String {
                let query = HTML.query([
                    ("queue", queue), ("state", state), ("sort", sort), ("order", descending ? "desc" : nil),
                    ("page", "\(page)"),
                ])
                return "<a href=\"/jobs\(HTML.escape(query))\">\(label)</a>"
            }
            html += "<nav class=\"pages\">"
            if pageNumber > 1 { html += link(min(pageNumber - 1, pages), "← previous") + " " }
            if pageNumber < pages { html += link(pageNumber + 1, "next →") }
            html += "</nav>"
            return page("Jobs", "/jobs", html)
        }

        // MARK: One job

        private func job() async throws -> String {
            let job = try await routes.job(request)
            let now = store.clock.now()
            let d = job.definition
            let outcome = try request.parameter("outcome").map { text in
                guard let outcome = RunOutcome(rawValue: text) else {
                    throw DashboardRoutes.BadRequest(
                        status: 400,
                        message: "outcome must be one of \(RunOutcome.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return outcome
            }
            let limit = try routes.count(request, "limit", default: 50, in: 1...1000)
            let history = try await historyPage(job, outcome: outcome, limit: limit)
            let runs = history.runs
            let plotted = try await store.history(HistoryQuery(jobID: job.id, limit: 300)).filter {
                $0.finishedAt != nil
            }
            var html = "<h1>Job \(HTML.escape(d.name))</h1>"
            html +=
                "<p class=\"counter\">\(HTML.escape(d.name)): called \(figure("runCount", job.runCount)) times so far "
            html += "(ok \(figure("okCount", job.okCount)), failed \(figure("failedCount", job.failedCount)))</p>"
            if let csrf {
                html += "<div class=\"actions\">"
                for action in ["trigger", "pause", "resume", "stop"] {
                    html +=
                        "<form method=\"post\" action=\"/api/job/\(action)\"><input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(csrf))\">"
                    html += "<input type=\"hidden\" name=\"name\" value=\"\(HTML.escape(d.name))\">"
                    html +=
                        "<input type=\"hidden\" name=\"return\" value=\"\(HTML.escape("/job" + HTML.query([("name", d.name)])))\">"
                    html += "<button type=\"submit\">\(action)</button></form>"
                }
                html += "</div>"
            }
            html += "<h2>Definition</h2><dl class=\"definition\">"
            func row(_ key: String, _ value: String) { html += "<dt>\(key)</dt><dd>\(HTML.escape(value))</dd>" }
            row("queue", d.queue)
            row("schedule", d.schedule.description)
            row("state", job.state.rawValue + (job.stateReason.map { ": " + $0 } ?? ""))
            switch d.action {
            case .handler(let handler): row("handler", handler)
            case .command(let argv, let directory):
                row("command", Output.shellWords(argv))
                row("directory", directory ?? "-")
                for (key, value) in d.environment.sorted(by: { $0.key < $1.key }) { row("env", key + "=" + value) }
            }
            if let payload = d.payload { row("payload", payload) }
            row("timeout", d.timeout.map(DurationFormat.format) ?? "none")
            row("retries", "\(d.retry.maxRetries) (backoff \(DurationFormat.format(d.retry.backoff)))")
            row("jitter", DurationFormat.format(d.jitter))
            row("misfire", d.misfire.rawValue)
            row("running", job.runningRunID.map { "yes (run \($0))" } ?? "no")
            row("last outcome", job.lastOutcome?.rawValue ?? "-")
            html += "<dt>last finished</dt><dd>\(when(job.lastFinishedAt, now: now))</dd>"
            html += "<dt>created</dt><dd>\(when(job.createdAt, now: now))</dd></dl>"
            html += "<h2>Next runs</h2>"
            let next = job.upcomingOccurrences(count: 5)
            if next.isEmpty {
                html += "<p>None scheduled.</p>"
            } else {
                html += "<ol class=\"next\">" + next.map { "<li>\(when($0, now: now))</li>" }.joined() + "</ol>"
            }
            html += "<h2>Lateness and duration</h2><div class=\"plots\">"
            html += SVGPlot(
                title: "lateness of \(d.name)", points: plotted.map { .init(at: $0.startedAt, value: $0.lateness) }
            ).render()
            html += SVGPlot(
                title: "duration of \(d.name)",
                points: plotted.compactMap { run in
                    run.finishedAt.map { .init(at: run.startedAt, value: $0 - run.startedAt) }
                }
            ).render()
            html += "</div><h2>History</h2><nav class=\"filters\">Outcome: "
            let base: [(String, String?)] = [("name", d.name)]
            html +=
                "<a href=\"/job\(HTML.escape(HTML.query(base)))\"\(outcome == nil ? " class=\"active\"" : "")>all</a>"
            for option in RunOutcome.allCases {
                let query = HTML.query(base + [("outcome", option.rawValue)])
                html +=
                    " <a href=\"/job\(HTML.escape(query))\"\(outcome == option ? " class=\"active\"" : "")>\(option.rawValue)</a>"
            }
            html += "</nav>"
            if runs.isEmpty {
                html += "<p>No runs.</p>"
            } else {
                html +=
                    "<table class=\"list runs\"><thead><tr><th>run</th><th>try</th><th>started</th><th>late</th><th>duration</th><th>outcome</th><th>detail</th></tr></thead><tbody>"
                for run in runs {
                    var detail = run.error ?? ""
                    if let code = run.exitCode, detail.isEmpty { detail = "exit \(code)" }
                    if run.triggered { detail = detail.isEmpty ? "triggered" : "triggered; " + detail }
                    html += "<tr data-run=\"\(run.id)\"><td>\(run.id)</td><td>\(run.attempt)</td>"
                    html += "<td>\(HTML.escape(Output.localTime(run.startedAt, milliseconds: true)))</td>"
                    html += "<td>\(HTML.escape(Output.preciseSpan(run.lateness)))</td>"
                    html +=
                        "<td>\(HTML.escape(run.finishedAt.map { Output.preciseSpan($0 - run.startedAt) } ?? "-"))</td>"
                    html +=
                        "<td class=\"outcome-\(run.outcome.rawValue)\">\(run.outcome.rawValue)</td><td>\(HTML.escape(detail))"
                    if let output = run.output, !output.isEmpty {
                        let tail = Output.lastLines(output, lines: 20).joined(separator: "\n")
                        html += "<details><summary>output</summary><pre>\(HTML.escape(tail))</pre></details>"
                    }
                    html += "</td></tr>"
                }
                html += "</tbody></table>"
            }
            html += history.navigation
            return page("Job \(d.name)", "/jobs", html)
        }

        /// A page of a job's history, newest first, by keyset: `before=RUN` shows the `limit` runs
        /// older than that run, `after=RUN` the `limit` runs right after it, neither the newest. Each
        /// page is one bounded query on runs_job (job id, run id), however deep it is, plus one of a
        /// single row for each link that depends on whether runs remain on that side. The links keep
        /// the outcome filter and the limit.
        private func historyPage(_ job: JobRecord, outcome: RunOutcome?, limit: Int) async throws -> (
            runs: [RunRecord], navigation: String
        ) {
            let before = try routes.runID(request, "before")
            let after = before == nil ? try routes.runID(request, "after") : nil
            var query = HistoryQuery(jobID: job.id, outcome: outcome, limit: limit + 1, before: before, after: after)
            var runs = try await store.history(query)
            var newer: Bool
            var older: Bool
            if after != nil {
                newer = runs.count > limit
                runs = Array(runs.suffix(limit))
                older = false
            } else {
                older = runs.count > limit
                runs = Array(runs.prefix(limit))
                newer = false
            }
            // The other side: whether a run lies beyond this page's newest (or oldest) one. An empty
            // page has no run to link from: it offers the newest runs only.
            query.limit = 1
            if before != nil, let first = runs.first {
                query.before = nil
                query.after = first.id
                newer = !(try await store.history(query)).isEmpty
            } else if after != nil, let last = runs.last {
                query.after = nil
                query.before = last.id
                older = !(try await store.history(query)).isEmpty
            }
            func link(_ label: String, _ rel: String, _ key: (String, Int64)?) -> String {
                var pairs: [(String, String?)] = [("name", job.definition.name), ("outcome", outcome?.rawValue)]
                if request.parameter("limit") != nil { pairs.append(("limit", "\(limit)")) }
                if let key { pairs.append((key.0, "\(key.1)")) }
                return "<a href=\"/job\(HTML.escape(HTML.query(pairs)))\" rel=\"\(rel)\">\(label)</a>"
            }
            var links: [String] = []
            if before != nil || after != nil { links.append(link("Newest runs", "first", nil)) }
            if newer, let first = runs.first { links.append(link("← Newer runs", "prev", ("after", first.id))) }
            if older, let last = runs.last { links.append(link("Older runs →", "next", ("before", last.id))) }
            let navigation =
                links.isEmpty ? "" : "<nav class=\"pages history-pages\">" + links.joined(separator: " ") + "</nav>"
            return (runs, navigation)
        }

        // MARK: Runners and queues

        private func runners() async throws -> String {
            let now = store.clock.now()
            let runners = try await store.runners(limit: 100)
            var html = "<h1>Runners</h1>"
            if let csrf {
                html +=
                    "<form class=\"actions\" method=\"post\" action=\"/api/drain\"><input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(csrf))\">"
                html +=
                    "<input type=\"hidden\" name=\"return\" value=\"/runners\"><button type=\"submit\">drain every runner</button></form>"
            }
            html += try await runnerTable(runners, now: now, title: "The last 100 runners")
            return page("Runners", "/runners", html)
        }

        private func queues() async throws -> String {
            let queues = try await store.queues()
            var html = "<h1>Queues</h1>"
            html +=
                "<table class=\"list queues\"><thead><tr><th>queue</th><th>concurrency</th><th>state</th><th>in flight</th><th>jobs</th></tr></thead><tbody>"
            for queue in queues {
                let query = HTML.query([("queue", queue.name)])
                html +=
                    "<tr data-queue=\"\(HTML.escape(queue.name))\"><td>\(HTML.escape(queue.name))</td><td>\(queue.concurrency)</td>"
                html += "<td>\(queue.paused ? "paused" : "active")</td><td>\(queue.inFlight)</td>"
                html += "<td><a href=\"/jobs\(HTML.escape(query))\">jobs</a></td></tr>"
            }
            html += "</tbody></table>"
            return page("Queues", "/queues", html)
        }

        // MARK: Sign-in, script and style

        /// The sign-in page; `csrf` goes in the form's hidden `login_csrf` field (its cookie is set
        /// by the route).
        static func login(message: String?, readOnly: Bool, csrf: String?) -> String {
            HTML.page(title: "Sign in", active: "", signedIn: false) {
                var html = "<h1>Sign in</h1>"
                if let message { html += "<p class=\"error\">\(HTML.escape(message))</p>" }
                if readOnly {
                    return html + "<p>This server is read-only: it was started without --token-file.</p>"
                }
                html += "<form method=\"post\" action=\"/login\">"
                if let csrf {
                    html += "<input type=\"hidden\" name=\"login_csrf\" value=\"\(HTML.escape(csrf))\">"
                }
                html +=
                    "<label>Token <input type=\"password\" name=\"token\" autocomplete=\"current-password\"></label>"
                return html + "<button type=\"submit\">Sign in</button></form>"
            }
        }

        /// Live refresh: every 5 s, fetch the page again and replace `<main>` (not while an output is
        /// open or a form field has focus). The page works without it.
        static let liveScript = """
            "use strict";
            (function () {
              var footer = document.getElementById("live");
              var main = document.getElementById("main");
              if (!main) { return; }
              if (footer) { footer.textContent = "Live: refreshes every 5 s."; }
              function busy() {
                var active = document.activeElement;
                return document.querySelector("details[open]") !== null ||
                  (active && (active.tagName === "INPUT" || active.tagName === "SELECT"));
              }
              function refresh() {
                if (document.hidden || busy()) { return; }
                fetch(window.location.href, { credentials: "same-origin" }).then(function (response) {
                  if (!response.ok) { throw new Error("HTTP " + response.status); }
                  return response.text();
                }).then(function (text) {
                  var next = new DOMParser().parseFromString(text, "text/html").getElementById("main");
                  if (next) { main.replaceChildren.apply(main, Array.prototype.slice.call(next.childNodes)); }
                  if (footer) { footer.textContent = "Live: updated " + new Date().toLocaleTimeString(); }
                }).catch(function (error) {
                  if (footer) { footer.textContent = "Live: " + error.message; }
                });
              }
              window.setInterval(refresh, 5000);
            })();

            """

        static let styleSheet = """
            body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fff; }
            header { background: #1d3557; color: #fff; padding: 8px 16px; }
            header a, header span { color: #fff; margin-right: 16px; text-decoration: none; }
            header a.active { font-weight: bold; text-decoration: underline; }
            header .brand { font-weight: bold; }
            header .who { float: right; }
            main { padding: 8px 16px; }
            footer { padding: 8px 16px; color: #666; font-size: 12px; }
            h1 { font-size: 20px; word-break: break-all; }
            h2 { font-size: 16px; margin-top: 20px; }
            table { border-collapse: collapse; }
            th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
            table.list th { border-bottom: 1px solid #999; }
            table.list td { border-bottom: 1px solid #eee; }
            .cards { display: flex; flex-wrap: wrap; gap: 24px; }
            .cards section { border: 1px solid #ddd; padding: 4px 12px; border-radius: 4px; }
            .figure { font-weight: bold; }
            .outcome-failed, .outcome-timeout, .outcome-abandoned { color: #b00020; font-weight: bold; }
            .outcome-ok { color: #1b7f3b; }
            .error { color: #b00020; }
            dl.definition { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
            dl.definition dd { margin: 0; word-break: break-all; }
            .actions form { display: inline-block; margin-right: 8px; }
            .filters label { margin-right: 12px; }
            .filters a.active { font-weight: bold; }
            .plots svg { margin: 0 16px 16px 0; }
            pre { background: #f4f4f4; padding: 6px; max-width: 80em; overflow-x: auto; }

            """
    }
#endif
