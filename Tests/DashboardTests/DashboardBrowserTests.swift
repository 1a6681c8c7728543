#if Dashboard
    import Foundation
    import TestSupport
    import Testing

    /// The pages in a real headless Chromium: the DOM it builds (after running the pages' script), a
    /// screenshot, and the figures on each page against the database.
    @Suite("jobctl serve: the pages in headless Chromium", .serialized, .timeLimit(.minutes(6)))
    struct DashboardBrowserTests {
        /// The DOM of `url` as Chromium built it, scripts run.
        private func dom(_ fixture: DashboardFixture, _ url: String) async throws -> String {
            let result = try await fixture.sandbox.run(
                executable: try DashboardFixture.chromium(),
                Self.chromiumFlags(fixture) + ["--virtual-time-budget=3000", "--dump-dom", url], timeout: .seconds(90))
            guard result.status == 0, result.stdout.contains("</html>") else {
                throw HarnessError("chromium --dump-dom \(url) failed: \(result)")
            }
            return result.stdout
        }

        static func chromiumFlags(_ fixture: DashboardFixture) -> [String] {
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--user-data-dir=\(fixture.sandbox.root)/chromium-\(UUID().uuidString)",
            ]
        }

        /// The text of the element whose `data-figure` is `name`.
        private func figure(_ dom: String, _ name: String) -> String? {
            guard let range = dom.range(of: "data-figure=\"\(name)\">") else { return nil }
            return String(dom[range.upperBound...].prefix { $0 != "<" })
        }

        @Test("each page loads with the database's figures, the hostile name as text, and no script of it runs")
        func pagesShowTheDatabase() async throws {
            let fixture = try await DashboardFixture()
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            let status = try await fixture.jsonObject(["status", "--json"])

            // Overview: every count equals status --json.
            let overview = try await dom(fixture, base + "/")
            #expect(overview.contains("<title>Overview · jobctl</title>"))
            for (state, count) in status["jobs"] as? [String: Int] ?? [:] {
                #expect(figure(overview, "jobs.\(state)") == "\(count)", "jobs \(state)")
            }
            for (outcome, count) in status["runs"] as? [String: Int] ?? [:] {
                #expect(figure(overview, "runs.\(outcome)") == "\(count)", "runs \(outcome)")
            }
            #expect(figure(overview, "inFlight") == "\(status["inFlight"] as? Int ?? -1)")
            #expect(figure(overview, "due") == "\(status["due"] as? Int ?? -1)")
            #expect(figure(overview, "failing") == "1", "failing-job is the one failing job")
            // JavaScript ran (the live refresh script says so): a script smuggled in would have run too.
            #expect(overview.contains("Live: "), "the page's own script did not run")

            // Jobs, filtered by state and by queue.
            let jobs = try await dom(fixture, base + "/jobs")
            #expect(figure(jobs, "jobs.count") == "3")
            let failing = try await dom(fixture, base + "/jobs?state=failing")
            #expect(figure(failing, "jobs.count") == "1")
            #expect(failing.contains("data-job=\"failing-job\""))
            let reports = try await dom(fixture, base + "/jobs?queue=reports&sort=runs&order=desc")
            #expect(figure(reports, "jobs.count") == "1")

            // One job: counters equal show --json; its output is text; the plots are SVG.
            let show = try await fixture.jsonObject(["show", "failing-job", "--json"])
            let jobPage = try await dom(fixture, base + "/job?name=failing-job")
            #expect(figure(jobPage, "runCount") == "\(show["runCount"] as? Int ?? -1)")
            #expect(figure(jobPage, "failedCount") == "\(show["failedCount"] as? Int ?? -1)")
            #expect(jobPage.contains("&lt;b&gt;boom&lt;/b&gt; &amp; \"quoted\""), "the output tail, escaped")
            #expect(!jobPage.contains("<b>boom</b>"))
            #expect(jobPage.components(separatedBy: "<svg class=\"plot\"").count == 3, "two plots")
            let failedOnly = try await dom(fixture, base + "/job?name=failing-job&outcome=ok")
            #expect(failedOnly.contains("No runs."), "failing-job never ended ok")

            // The hostile name: text in the title, the heading, the table, the plots' titles; never markup.
            let encoded = FormDecodingForTests.encode(DashboardFixture.hostileName)
            for url in [base + "/jobs", base + "/job?name=\(encoded)", base + "/"] {
                let page = try await dom(fixture, url)
                #expect(!page.contains(DashboardFixture.hostileName), "\(url): the name became markup")
                #expect(!page.contains("pwned</title>"), "\(url): the script ran")
                #expect(!page.contains("<img src=\"x\""), "\(url): the output became markup")
            }
            let hostile = try await dom(fixture, base + "/job?name=\(encoded)")
            #expect(hostile.contains("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;"), "shown as text")
            #expect(
                hostile.contains("<title>Job &lt;script&gt;document.title=\"pwned\"&lt;/script&gt; · jobctl</title>"))

            // Runners and queues.
            let runners = try await dom(fixture, base + "/runners")
            #expect(runners.contains("data-runner=\""), "the drained runner is listed")
            let queues = try await dom(fixture, base + "/queues")
            #expect(queues.contains("data-queue=\"reports\"") && queues.contains("data-queue=\"default\""))
        }

        @Test("a screenshot of the overview and of a job is not blank")
        func screenshotIsNotBlank() async throws {
            let fixture = try await DashboardFixture()
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            for (index, url) in [base + "/", base + "/job?name=failing-job"].enumerated() {
                let png = fixture.sandbox.root + "/shot-\(index).png"
                let shot = try await fixture.sandbox.run(
                    executable: try DashboardFixture.chromium(),
                    Self.chromiumFlags(fixture) + ["--window-size=1280,900", "--screenshot=\(png)", url],
                    timeout: .seconds(90))
                #expect(shot.status == 0, "\(shot)")
                let stats = try await fixture.sandbox.run(
                    executable: try DashboardFixture.python(), [DashboardFixture.helpers + "/png_stats.py", png])
                #expect(stats.status == 0, "\(stats)")
                let figures = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
                #expect(figures?["width"] as? Int == 1280)
                #expect((figures?["distinct"] as? Int ?? 0) > 20, "a blank or nearly blank screenshot: \(stats.stdout)")
                #expect((figures?["dominantShare"] as? Double ?? 1) < 0.98, "\(stats.stdout)")
            }
        }

        /// Job names that call alert() if they ever become markup: in element content, in a quoted
        /// attribute, in SVG (the plots' titles), and one that closes the plot's `<text>`.
        static let alertNames = [
            "<script>alert(1)</script>", #""><img src=x onerror=alert(2)>"#, "'><svg onload=alert(3)>",
            "</text></svg><svg onload=alert(4)>",
        ]

        @Test("no dialog opens on any page, seen over the DevTools protocol; the detector sees one that does")
        func noDialogOpens() async throws {
            let fixture = try await DashboardFixture(runs: 1, extraNames: Self.alertNames)
            let (server, base) = try await fixture.serve()
            defer { server.killAndReap() }
            let names = [DashboardFixture.hostileName, DashboardFixture.okName] + Self.alertNames
            var paths = [
                "/", "/jobs", "/jobs?sort=name&order=desc", "/jobs?state=active", "/runners", "/queues", "/login",
            ]
            for name in names {
                let encoded = FormDecodingForTests.encode(name)
                paths += ["/job?name=\(encoded)", "/job?name=\(encoded)&outcome=ok&limit=1"]
            }
            // The pages as served (with their Content-Security-Policy), once the page's own script ran;
            // one of them also after its live refresh replaced the page's content.
            let ran = "document.getElementById('live').textContent.indexOf('Live:') === 0"
            let refreshed = "document.getElementById('live').textContent.indexOf('Live: updated') === 0"
            var pages: [[String: String]] = paths.map { ["url": base + $0, "until": ran] }
            pages.append([
                "url": base + "/job?name=\(FormDecodingForTests.encode(Self.alertNames[0]))", "until": refreshed,
            ])
            // The same HTML from files: no Content-Security-Policy there, so escaping alone keeps
            // the names' scripts from running.
            var copies: [String] = []
            for (index, path) in paths.enumerated() {
                let answer = try await fixture.get(base + path)
                #expect(answer.status == 200, "\(path): \(answer.status)")
                let file = fixture.sandbox.root + "/copy-\(index).html"
                try Data(answer.body.utf8).write(to: URL(fileURLWithPath: file))
                copies.append("file://" + file)
                pages.append(["url": "file://" + file])
            }
            // Positive controls: a page that calls alert(), and a copy of the jobs page in which the
            // names were left unescaped (what a missing HTML.escape would serve): in its text and in
            // its data-job attributes.
            let control = "data:text/html,%3Cscript%3Ealert(%22control%22)%3C/script%3E"
            pages.append(["url": control])
            let jobPage = try await fixture.get(base + "/jobs?sort=name")
            var unescaped = jobPage.body
            for name in Self.alertNames {
                unescaped = unescaped.replacingOccurrences(of: HTMLForTests.escape(name), with: name)
            }
            #expect(unescaped != jobPage.body, "the jobs page shows the names escaped")
            let unescapedFile = fixture.sandbox.root + "/unescaped.html"
            try Data(unescaped.utf8).write(to: URL(fileURLWithPath: unescapedFile))
            pages.append(["url": "file://" + unescapedFile])

            let input = fixture.sandbox.root + "/pages.json"
            try JSONSerialization.data(withJSONObject: pages).write(to: URL(fileURLWithPath: input))
            let result = try await fixture.sandbox.run(
                executable: try DashboardFixture.python(),
                [
                    DashboardFixture.helpers + "/cdp_dialogs.py", try DashboardFixture.chromium(),
                    fixture.sandbox.root + "/cdp-profile", input,
                ],
                timeout: .seconds(240))
            #expect(result.status == 0, "\(result)")
            let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(report.count == pages.count, "every page was loaded: \(result.stdout)")
            func dialogs(_ url: String) -> [String]? {
                (report.first { $0["url"] as? String == url }?["dialogs"] as? [[String: Any]])?.compactMap {
                    $0["message"] as? String
                }
            }
            #expect(dialogs(control) == ["control"], "the detector missed a dialog: \(result.stdout)")
            let opened = Set(dialogs("file://" + unescapedFile) ?? [])
            #expect(opened.isSuperset(of: ["1", "2", "3", "4"]), "unescaped names must open dialogs: \(opened)")
            for page in pages.dropLast(2) {
                let url = page["url"] ?? ""
                #expect(dialogs(url) == [], "\(url): a dialog opened: \(String(describing: dialogs(url)))")
            }
        }
    }
#endif

#if Dashboard
    /// The escaping the pages promise (`&`, `<`, `>`, `"`, `'`), to find the names in a page's HTML.
    enum HTMLForTests {
        static func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
                .replacingOccurrences(of: "'", with: "&#39;")
        }
    }
#endif
