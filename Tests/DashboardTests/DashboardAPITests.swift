#if Dashboard
    import Foundation
    import JobRunner
    import TestSupport
    import Testing

    @Suite("jobctl serve: JSON API, actions, /metrics", .serialized, .timeLimit(.minutes(5)))
    struct DashboardAPITests {
        @Test("every API document is byte for byte the --json output of the matching command")
        func apiMatchesJSONOutputs() async throws {
            let fixture = try await DashboardFixture()
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            let history = try await fixture.jobctl(["history", "--limit", "1", "--json"])
            let runID = try #require(
                (try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])?.first?["id"]
                    as? Int)
            let name = FormDecodingForTests.encode(DashboardFixture.hostileName)
            let pairs: [(api: String, command: [String])] = [
                ("/api/status", ["status", "--json"]),
                ("/api/jobs", ["list", "--json"]),
                ("/api/jobs?state=failing", ["list", "--state", "failing", "--json"]),
                ("/api/jobs?queue=reports", ["list", "--queue", "reports", "--json"]),
                ("/api/job?name=\(name)", ["show", DashboardFixture.hostileName, "--json"]),
                ("/api/job?name=failing-job&runs=3", ["show", "failing-job", "--runs", "3", "--json"]),
                ("/api/history?limit=20", ["history", "--limit", "20", "--json"]),
                (
                    "/api/history?job=failing-job&status=failed",
                    ["history", "failing-job", "--status", "failed", "--json"]
                ),
                ("/api/history?since=1h", ["history", "--since", "1h", "--json"]),
                ("/api/run?id=\(runID)", ["logs", "\(runID)", "--json"]),
                ("/api/queues", ["queue", "list", "--json"]),
            ]
            for (api, command) in pairs {
                let answer = try await fixture.get(base + api)
                #expect(answer.status == 200, "\(api): \(answer.body)")
                #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true, "\(api)")
                let expected = try await fixture.jsonOutput(command)
                #expect(answer.body == expected, "\(api) differs from jobctl \(command.joined(separator: " "))")
            }
            // Pages of the big documents: the same elements, fewer of them.
            let list = try JSONSerialization.jsonObject(
                with: Data(try await fixture.jsonOutput(["list", "--json"]).utf8))
            let names = (list as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            let page = try await fixture.get(base + "/api/jobs?limit=2&offset=1")
            let paged = try JSONSerialization.jsonObject(with: Data(page.body.utf8)) as? [[String: Any]]
            #expect(paged?.compactMap { $0["name"] as? String } == Array(names[1...2]))
            #expect(page.headers["x-total-count"] == "3")
            #expect(
                page.headers["link"]
                    == #"</api/jobs?limit=2&offset=0>; rel="prev", </api/jobs?limit=2&offset=0>; rel="first""#,
                "the page ends the list: no next")
            let second = try await fixture.get(base + "/api/jobs?limit=1&offset=1")
            #expect(
                second.headers["link"]
                    == #"</api/jobs?limit=1&offset=2>; rel="next", </api/jobs?limit=1&offset=0>; rel="prev", </api/jobs?limit=1&offset=0>; rel="first""#
            )
            let short = try await fixture.get(base + "/api/status?perJobLimit=1")
            let shortStatus = try JSONSerialization.jsonObject(with: Data(short.body.utf8)) as? [String: Any]
            #expect((shortStatus?["perJob"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == [names[0]])
            #expect(short.headers["x-total-count"] == "3", "how many jobs perJob would list in all")
            // One page holds the whole list: no Link; the Link pages of one job each walk to list --json.
            let whole = try await fixture.get(base + "/api/jobs")
            #expect(whole.headers["x-total-count"] == "3")
            #expect(whole.headers["link"] == nil)
            let walked = try await Self.walkPages(fixture, base, "/api/jobs?limit=1")
            #expect(walked.pages == 3)
            #expect(
                NSArray(array: walked.elements).isEqual(to: list as? [Any] ?? []), "the pages differ from list --json")
            let failingWalk = try await Self.walkPages(fixture, base, "/api/jobs?state=failing&limit=1")
            let failingList = try JSONSerialization.jsonObject(
                with: Data(try await fixture.jsonOutput(["list", "--state", "failing", "--json"]).utf8))
            #expect(NSArray(array: failingWalk.elements).isEqual(to: failingList as? [Any] ?? []))
            for bad in [
                "/api/jobs?limit=0", "/api/jobs?limit=1001", "/api/jobs?offset=-1", "/api/status?perJobLimit=10001",
            ] {
                let answer = try await fixture.get(base + bad)
                #expect(answer.status == 400, "\(bad): \(answer.body)")
            }
            // The hostile name is a JSON string, not markup that a page could pick up.
            let job = try await fixture.get(base + "/api/job?name=\(name)")
            let object = try JSONSerialization.jsonObject(with: Data(job.body.utf8)) as? [String: Any]
            #expect(object?["name"] as? String == DashboardFixture.hostileName)
            // The jobs page: sorted and paginated by the database, in the order asked for.
            func jobsOnPage(_ query: String) async throws -> [String] {
                let page = try await fixture.get(base + "/jobs" + query)
                #expect(page.status == 200, "\(query): \(page.body)")
                return page.body.components(separatedBy: "<tr data-job=\"").dropFirst().map {
                    String($0.prefix { $0 != "\"" })
                }
            }
            let hostileAttribute = "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;"
            #expect(try await jobsOnPage("?sort=name") == [hostileAttribute, "failing-job", "ok-job"])
            #expect(try await jobsOnPage("?sort=name&order=desc") == ["ok-job", "failing-job", hostileAttribute])
            #expect(try await jobsOnPage("?state=failing") == ["failing-job"])
            #expect(try await jobsOnPage("?queue=reports&state=active") == ["failing-job"])
            #expect(try await jobsOnPage("?state=paused") == [])
            #expect(try await jobsOnPage("?page=2") == [], "50 a page: three jobs fit on the first")
            #expect(try await fixture.get(base + "/jobs?sort=color").status == 400)
            // Bad input: one error document, a 4xx status.
            for bad in ["/api/jobs?state=sleeping", "/api/history?limit=0", "/api/job?name=nope", "/api/run?id=x"] {
                let answer = try await fixture.get(base + bad)
                #expect((400...404).contains(answer.status), "\(bad): \(answer.status)")
                #expect(answer.body.contains("\"error\""), "\(bad): \(answer.body)")
            }
        }

        @Test("/api/jobs and /api/status answer a bounded page by default; the Link pages walk to --json")
        func defaultPagesAreBounded() async throws {
            let fixture = try await DashboardFixture(runs: 1)
            // 1,200 more jobs, added through the library: more than a default page of either document.
            let store = try await JobStore.open(path: fixture.database)
            for index in 0..<1200 {
                _ = try await store.add(
                    JobDefinition(
                        name: "bulk-\(String(format: "%04d", index))", action: .handler("tick"),
                        schedule: .every(.seconds(3600))))
            }
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            let list =
                try JSONSerialization.jsonObject(
                    with: Data(try await fixture.jsonOutput(["list", "--json"]).utf8)) as? [Any] ?? []
            #expect(list.count == 1203)

            let first = try await fixture.get(base + "/api/jobs")
            #expect(first.status == 200)
            let firstPage = try JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [Any] ?? []
            #expect(firstPage.count == 500, "the default page")
            #expect(NSArray(array: firstPage).isEqual(to: Array(list.prefix(500))), "the first 500 of list --json")
            #expect(first.headers["x-total-count"] == "1203")
            #expect(first.headers["link"] == #"</api/jobs?limit=500&offset=500>; rel="next""#)
            let walked = try await Self.walkPages(fixture, base, "/api/jobs")
            #expect(walked.pages == 3)
            #expect(NSArray(array: walked.elements).isEqual(to: list), "the Link pages differ from list --json")
            let biggest = try await fixture.get(base + "/api/jobs?limit=1000&offset=1000")
            #expect((try JSONSerialization.jsonObject(with: Data(biggest.body.utf8)) as? [Any])?.count == 203)

            // status: perJob holds the first 1000 jobs by name; everything else is status --json's.
            let status = try await fixture.jsonObject(["status", "--json"])
            let answer = try await fixture.get(base + "/api/status")
            #expect(answer.headers["x-total-count"] == "1203")
            var document = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] ?? [:]
            let perJob = document.removeValue(forKey: "perJob") as? [Any] ?? []
            var whole = status
            let wholePerJob = whole.removeValue(forKey: "perJob") as? [Any] ?? []
            #expect(wholePerJob.count == 1203)
            #expect(NSArray(array: perJob).isEqual(to: Array(wholePerJob.prefix(1000))))
            #expect(NSDictionary(dictionary: document).isEqual(to: whole))
            let all = try await fixture.get(base + "/api/status?perJobLimit=10000")
            #expect(all.body == (try await fixture.jsonOutput(["status", "--json"])), "perJobLimit asks for more")
        }

        /// Follows the `Link: <…>; rel="next"` headers from `path`, collecting every page's elements.
        static func walkPages(_ fixture: DashboardFixture, _ base: String, _ path: String) async throws -> (
            elements: [Any], pages: Int
        ) {
            var elements: [Any] = []
            var next: String? = path
            var pages = 0
            while let path = next {
                pages += 1
                guard pages <= 100 else { throw HarnessError("more than 100 pages: the Link headers loop") }
                let answer = try await fixture.get(base + path)
                guard answer.status == 200 else { throw HarnessError("\(path): \(answer.status) \(answer.body)") }
                elements += try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [Any] ?? []
                next = answer.headers["link"].flatMap { header in
                    header.components(separatedBy: ", ").first { $0.hasSuffix(#"; rel="next""#) }.map {
                        String($0.dropFirst().prefix { $0 != ">" })
                    }
                }
            }
            return (elements, pages)
        }

        @Test("actions are refused without the token, with a wrong one, and without or with a bad CSRF token")
        func actionsNeedTokenAndCSRF() async throws {
            let fixture = try await DashboardFixture(runs: 1)
            let name = DashboardFixture.okName
            func state() async throws -> String? {
                try await fixture.jsonObject(["show", name, "--json"])["state"] as? String
            }
            // Read-only: no token file.
            do {
                let (server, base) = try await fixture.serve()
                defer { server.killAndReap() }
                let refused = try await fixture.http("POST", base + "/api/job/pause?name=\(name)")
                #expect(refused.status == 403)
                #expect(refused.body.contains("read-only"))
                #expect(try await state() == "active")
            }
            let token = "t0ken-for-the-dashboard-tests-0123456789"
            let (server, base) = try await fixture.serve(token: token)
            defer { server.killAndReap() }
            let url = base + "/api/job/pause?name=\(name)"
            let bearer = ["Authorization": "Bearer \(token)"]
            // No token at all; a wrong one; GET instead of POST.
            #expect(try await fixture.http("POST", url).status == 401)
            #expect(
                try await fixture.http("POST", url, headers: ["Authorization": "Bearer wrong-token-0123456789"]).status
                    == 401)
            #expect(try await fixture.http("GET", url, headers: bearer).status == 405)
            // The token without a CSRF token, then with a bad one.
            let missing = try await fixture.http("POST", url, headers: bearer)
            #expect(missing.status == 403)
            #expect(missing.body.contains("missing CSRF"))
            let bad = try await fixture.http("POST", url, headers: bearer.merging(["X-CSRF-Token": "0000"]) { $1 })
            #expect(bad.status == 403)
            #expect(bad.body.contains("bad CSRF"))
            #expect(try await state() == "active")
            // The CSRF token, but from another site.
            let csrfAnswer = try await fixture.get(base + "/api/csrf", headers: bearer)
            let csrf = try #require(
                (try JSONSerialization.jsonObject(with: Data(csrfAnswer.body.utf8)) as? [String: String])?["csrf"])
            #expect(try await fixture.get(base + "/api/csrf").status == 401)
            let crossSite = try await fixture.http(
                "POST", url, headers: bearer.merging(["X-CSRF-Token": csrf, "Origin": "http://evil.example"]) { $1 })
            #expect(crossSite.status == 403)
            #expect(try await state() == "active")
            // Token and CSRF token: done.
            let allowed = try await fixture.http("POST", url, headers: bearer.merging(["X-CSRF-Token": csrf]) { $1 })
            #expect(allowed.status == 200, "\(allowed.body)")
            #expect(try await state() == "paused")

            // The browser's way: sign in, then a form with the session's CSRF token.
            #expect(try await fixture.signIn(base, token: "wrong").status == 401)
            let login = try await fixture.signIn(base, token: token)
            #expect(login.status == 303)
            let cookie = "jobctl_session=" + (try #require(login.cookie("jobctl_session")))
            let sessionHeader = try #require(login.setCookies.first { $0.hasPrefix("jobctl_session=") })
            #expect(sessionHeader.contains("HttpOnly"))
            #expect(sessionHeader.contains("SameSite=Strict"))
            let resume = base + "/api/job/resume"
            let noCSRF = try await fixture.http("POST", resume, headers: ["Cookie": cookie], form: ["name": name])
            #expect(noCSRF.status == 403)
            let wrongCSRF = try await fixture.http(
                "POST", resume, headers: ["Cookie": cookie], form: ["name": name, "csrf": csrf])
            #expect(wrongCSRF.status == 403, "the bearer clients' CSRF token is not this session's")
            #expect(try await state() == "paused")
            let page = try await fixture.get(base + "/job?name=\(name)", headers: ["Cookie": cookie])
            let marker = "name=\"csrf\" value=\""
            let start = try #require(page.body.range(of: marker)?.upperBound)
            let sessionCSRF = String(page.body[start...].prefix { $0 != "\"" })
            let done = try await fixture.http(
                "POST", resume, headers: ["Cookie": cookie],
                form: ["name": name, "csrf": sessionCSRF, "return": "/job?name=\(name)"])
            #expect(done.status == 303)
            #expect(done.headers["location"] == "/job?name=\(name)")
            #expect(try await state() == "active")
            // Without a session the page offers no action.
            #expect(!(try await fixture.get(base + "/job?name=\(name)").body.contains("name=\"csrf\"")))
        }

        @Test("signing in needs the sign-in form's CSRF token: its cookie and its field, alike")
        func signInNeedsLoginCSRF() async throws {
            let fixture = try await DashboardFixture(runs: 1)
            let token = "t0ken-for-the-dashboard-tests-0123456789"
            let (server, base) = try await fixture.serve(token: token)
            defer { server.killAndReap() }
            // The form: a random token in an HttpOnly, SameSite=Strict cookie for /login, and the same
            // in a hidden field; a new one each time.
            let page = try await fixture.get(base + "/login")
            let header = try #require(page.setCookies.first { $0.hasPrefix("jobctl_login_csrf=") })
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/login"] {
                #expect(header.contains(attribute), "\(header)")
            }
            let value = try #require(page.cookie("jobctl_login_csrf"))
            #expect(value.count == 64)
            #expect(page.body.contains("name=\"login_csrf\" value=\"\(value)\""))
            let (cookie, field) = try await fixture.loginForm(base)
            let (otherCookie, otherField) = try await fixture.loginForm(base)
            #expect(field != otherField)
            func post(_ headers: [String: String], _ form: [String: String]) async throws
                -> DashboardFixture.HTTPResult
            {
                try await fixture.http("POST", base + "/login", headers: headers, form: form)
            }
            // Missing (no cookie, no field, neither) and bad (another form's field; an empty pair).
            let refusals: [(String, [String: String], [String: String], String)] = [
                ("neither", [:], ["token": token], "is missing"),
                ("no cookie", [:], ["token": token, "login_csrf": field], "is missing"),
                ("no field", ["Cookie": cookie], ["token": token], "is missing"),
                (
                    "another form's field", ["Cookie": cookie], ["token": token, "login_csrf": otherField],
                    "does not match"
                ),
                (
                    "another form's cookie", ["Cookie": otherCookie], ["token": token, "login_csrf": field],
                    "does not match"
                ),
                ("empty", ["Cookie": "jobctl_login_csrf="], ["token": token, "login_csrf": ""], "is missing"),
            ]
            for (label, headers, form, message) in refusals {
                let answer = try await post(headers, form)
                #expect(answer.status == 403, "\(label): \(answer.status)")
                #expect(answer.body.contains("CSRF token \(message)"), "\(label): \(answer.body)")
                #expect(answer.cookie("jobctl_session") == nil, "\(label): signed in")
            }
            // Good: the cookie and its field. A wrong token with them is still a wrong token.
            #expect(try await post(["Cookie": cookie], ["token": "wrong", "login_csrf": field]).status == 401)
            let good = try await post(["Cookie": cookie], ["token": token, "login_csrf": field])
            #expect(good.status == 303)
            let session = try #require(good.cookie("jobctl_session"))
            #expect(good.cookie("jobctl_login_csrf") == "", "the form's cookie is cleared")
            let signedIn = try await fixture.get(base + "/runners", headers: ["Cookie": "jobctl_session=" + session])
            #expect(signedIn.body.contains("drain every runner"), "the session works")
        }

        @Test("serve refuses to listen beyond loopback without a token, and a bad --listen")
        func refusesNonLoopbackWithoutToken() async throws {
            let sandbox = try Sandbox("dashboard", exportsDatabase: false)
            defer { sandbox.cleanup() }
            for listen in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8080", "example.com:80"] {
                let result = try await sandbox.run(
                    executable: sandbox.jobctlPath, ["serve", "--db", sandbox.db, "--listen", listen])
                #expect(result.status == 64, "\(listen): \(result)")
                #expect(result.stderrLines.count == 1)
                #expect(result.stderr.contains("not a loopback address"), "\(result.stderr)")
            }
            for listen in ["8080", "127.0.0.1:99999", "127.0.0.1:", "::1:80"] {
                let result = try await sandbox.run(
                    executable: sandbox.jobctlPath, ["serve", "--db", sandbox.db, "--listen", listen])
                #expect(result.status == 64, "\(listen): \(result)")
                #expect(result.stderrLines.count == 1)
            }
            // A token too short is refused before anything listens; no database is created.
            let short = sandbox.root + "/short"
            try DashboardFixture.writeTokenFile(short, "abc\n")
            let result = try await sandbox.run(
                executable: sandbox.jobctlPath,
                ["serve", "--db", sandbox.db, "--listen", "0.0.0.0:0", "--token-file", short])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("at least 16"))
            #expect(!FileManager.default.fileExists(atPath: sandbox.db))
        }

        @Test("--token-file is refused unless a regular file of its owner's alone holding a token of 16 characters")
        func tokenFileIsChecked() async throws {
            let sandbox = try Sandbox("dashboard", exportsDatabase: false)
            defer { sandbox.cleanup() }
            let token = "0123456789abcdef0123"
            let good = sandbox.root + "/good"
            try DashboardFixture.writeTokenFile(good, token + "\n")
            let directory = sandbox.root + "/a-directory"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
            let fifo = sandbox.root + "/a-fifo"
            let made = try await sandbox.run(executable: "/usr/bin/mkfifo", ["-m", "600", fifo])
            #expect(made.status == 0, "\(made)")
            var cases: [(label: String, path: String, message: String)] = [
                ("missing", sandbox.root + "/nope", "cannot be opened"),
                ("a directory", directory, "is not a regular file"),
                ("a FIFO", fifo, "is not a regular file"),
            ]
            for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o610] {
                let path = sandbox.root + "/mode-\(String(mode, radix: 8))"
                try DashboardFixture.writeTokenFile(path, token + "\n", mode: mode)
                cases.append(("mode \(String(mode, radix: 8))", path, "chmod 600"))
            }
            for (label, text, message) in [
                ("empty", "", "is empty"), ("a newline only", "\n", "is empty"),
                ("15 characters", String(token.prefix(15)) + "\n", "at least 16"),
                ("two newlines", token + "\n\n", "one line"), ("two words", "0123456789 abcdef0123", "one line"),
                ("a leading space", " " + token, "one line"),
                ("too large", String(repeating: "a", count: 5000), "larger than 4096 bytes"),
            ] {
                let path = sandbox.root + "/content-\(UUID().uuidString)"
                try DashboardFixture.writeTokenFile(path, text)
                cases.append((label, path, message))
            }
            for (label, path, message) in cases {
                let result = try await sandbox.run(
                    executable: sandbox.jobctlPath,
                    ["serve", "--db", sandbox.db, "--listen", "127.0.0.1:0", "--token-file", path],
                    timeout: .seconds(30))
                #expect(result.status == 1, "\(label): \(result)")
                #expect(result.stderrLines.count == 1, "\(label): \(result.stderr)")
                #expect(result.stderr.contains("--token-file: "), "\(label): \(result.stderr)")
                #expect(result.stderr.contains(message), "\(label): \(result.stderr)")
                #expect(!result.stdout.contains("listening"), "\(label): it started")
                #expect(!FileManager.default.fileExists(atPath: sandbox.db), "\(label): a database was created")
            }
            // The good file (mode 0600, one trailing newline; also with CRLF): serve starts, and
            // signing in takes the token without its newline.
            let add = try await sandbox.run(
                executable: sandbox.jobctlPath,
                ["add", "tick", "--every", "1h", "--handler", "tick", "--db", sandbox.db])
            #expect(add.status == 0, "\(add)")
            let crlf = sandbox.root + "/crlf"
            try DashboardFixture.writeTokenFile(crlf, token + "\r\n")
            for path in [good, crlf] {
                let server = try sandbox.launch(
                    executable: sandbox.jobctlPath,
                    ["serve", "--db", sandbox.db, "--listen", "127.0.0.1:0", "--token-file", path])
                defer { server.killAndReap() }
                let base = try await waitFor("serve listens", timeout: .seconds(30)) { () -> String? in
                    if let status = server.poll() {
                        throw HarnessError("serve exited (\(status)): \(server.transcript())")
                    }
                    guard let range = server.stdout.range(of: "listening on http://") else { return nil }
                    return "http://" + server.stdout[range.upperBound...].prefix { $0 != "/" }
                }
                let csrf = try await sandbox.run(
                    executable: "/usr/bin/curl",
                    ["-sS", "-H", "Authorization: Bearer \(token)", base + "/api/csrf"])
                #expect(csrf.stdout.contains("\"csrf\""), "\(path): the token is not the file's line: \(csrf)")
            }
        }

        @Test("/metrics parses with prometheus_client and its figures equal status --json")
        func metricsEqualStatus() async throws {
            let fixture = try await DashboardFixture()
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            let metrics = try await fixture.get(base + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = sandboxWrite(fixture, metrics.body)
            let parsed = try await fixture.sandbox.run(
                executable: try DashboardFixture.python(),
                [DashboardFixture.helpers + "/parse_metrics.py", text], timeout: .seconds(60))
            #expect(parsed.status == 0, "\(parsed)")
            let document = try #require(
                try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any])
            let samples = document["samples"] as? [[String: Any]] ?? []
            let types = document["types"] as? [String: String] ?? [:]
            func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
                samples.first {
                    ($0["name"] as? String) == name && ($0["labels"] as? [String: String] ?? [:]) == labels
                }?[
                    "value"] as? Double
            }
            let status = try await fixture.jsonObject(["status", "--json"])
            let runs = status["runs"] as? [String: Int] ?? [:]
            #expect(types["jobrunner_runs"] == "counter")
            for (outcome, count) in runs where outcome != "total" {
                #expect(value("jobrunner_runs_total", ["outcome": outcome]) == Double(count), "runs \(outcome)")
            }
            #expect((runs["ok"] ?? 0) > 0 && (runs["failed"] ?? 0) > 0, "the fixture ran ok and failed runs")
            for (state, count) in status["jobs"] as? [String: Int] ?? [:] {
                #expect(value("jobrunner_jobs", ["state": state]) == Double(count), "jobs \(state)")
            }
            #expect(value("jobrunner_due_waiting") == Double(status["due"] as? Int ?? -1))
            #expect(value("jobrunner_in_flight") == Double(status["inFlight"] as? Int ?? -1))
            #expect(value("jobrunner_runners_alive") == Double((status["runners"] as? [Any])?.count ?? -1))
            #expect(value("jobrunner_queue_in_flight", ["queue": "reports"]) == 0)
            #expect(value("jobrunner_queue_in_flight", ["queue": "default"]) == 0)
            // No label names a job or a run.
            for sample in samples {
                let labels = sample["labels"] as? [String: String] ?? [:]
                #expect(Set(labels.keys).isSubset(of: ["outcome", "state", "queue"]), "\(sample)")
            }
        }

        /// Writes `text` to a file of the sandbox and returns its path.
        private func sandboxWrite(_ fixture: DashboardFixture, _ text: String) -> String {
            let path = fixture.sandbox.root + "/metrics-\(UUID().uuidString).txt"
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            return path
        }
    }

    /// Percent-encoding for URLs built by the tests.
    enum FormDecodingForTests {
        static func encode(_ text: String) -> String {
            let allowed = CharacterSet(
                charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        }
    }
#endif
