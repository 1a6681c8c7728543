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
    }
#endif
