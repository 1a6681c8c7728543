#if Dashboard
    import Foundation
    import TestSupport
    import Testing

    /// `run --metrics-listen`, and `serve` on PostgreSQL.
    @Suite("jobctl run --metrics-listen, and serve on every store", .serialized, .timeLimit(.minutes(5)))
    struct DashboardStoreTests {
        @Test("run --metrics-listen serves the runner's own instruments in Prometheus text format")
        func runnerMetrics() async throws {
            let sandbox = try Sandbox("dashboard", exportsDatabase: false)
            defer { sandbox.cleanup() }
            let add = try await sandbox.run(
                executable: sandbox.jobctlPath,
                ["add", "tick", "--every", "100ms", "--delay", "0s", "--handler", "tick", "--db", sandbox.db])
            #expect(add.status == 0, "\(add)")
            let runner = try sandbox.launch(
                executable: sandbox.jobctlPath, ["run", "--db", sandbox.db, "--metrics-listen", "127.0.0.1:0"])
            let base = try await waitFor("the runner logs where its metrics are", timeout: .seconds(30)) {
                () -> String? in
                if let status = runner.poll() { throw HarnessError("run exited (\(status)): \(runner.transcript())") }
                guard let range = runner.stderr.range(of: "metrics at http://") else { return nil }
                return "http://" + runner.stderr[range.upperBound...].prefix { $0 != "/" }
            }
            let python = try DashboardFixture.python()
            let file = sandbox.root + "/metrics.txt"
            // The runner counts its runs as they finish: wait for a few, read through the parser.
            let samples = try await waitFor("the runner's metrics count 3 ok runs", timeout: .seconds(30)) {
                () -> [[String: Any]]? in
                let curl = try await sandbox.run(executable: "/usr/bin/curl", ["-sS", "-o", file, base + "/metrics"])
                guard curl.status == 0 else { return nil }
                let parsed = try await sandbox.run(
                    executable: python, [DashboardFixture.helpers + "/parse_metrics.py", file])
                guard parsed.status == 0 else { throw HarnessError("not Prometheus text format: \(parsed)") }
                let document = try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [String: Any]
                let samples = document?["samples"] as? [[String: Any]] ?? []
                let ok = samples.first {
                    $0["name"] as? String == "jobrunner_runs_total"
                        && ($0["labels"] as? [String: String]) == ["outcome": "ok"]
                }
                return (ok?["value"] as? Double ?? 0) >= 3 ? samples : nil
            }
            let names = Set(samples.compactMap { $0["name"] as? String })
            for name in [
                "jobrunner_run_duration_seconds_bucket", "jobrunner_run_duration_seconds_count",
                "jobrunner_run_lateness_seconds_bucket", "jobrunner_due_waiting",
            ] {
                #expect(names.contains(name), "\(name) missing from \(names.sorted())")
            }
            let count = samples.first { $0["name"] as? String == "jobrunner_run_duration_seconds_count" }
            #expect((count?["value"] as? Double ?? 0) >= 3)
            let drain = try await sandbox.run(executable: sandbox.jobctlPath, ["drain", "--db", sandbox.db])
            #expect(drain.status == 0, "\(drain)")
            #expect(
                await runner.waitForExit(timeout: .seconds(30)),
                "the runner (and its metrics server) exits after a drain")
            #expect(runner.poll() == 0, "\(runner.transcript())")
        }

        #if PostgreSQL
            @Test("serve on PostgreSQL: the API equals --json, /metrics equals status, the pages load")
            func serveOnPostgres() async throws {
                try await PostgresDatabase.with { url in
                    let fixture = try await DashboardFixture(database: url)
                    let (server, base) = try await fixture.serve()
                    defer { server.killAndReap() }
                    for (api, command) in [
                        ("/api/status", ["status", "--json"]), ("/api/jobs", ["list", "--json"]),
                        ("/api/job?name=failing-job", ["show", "failing-job", "--json"]),
                        ("/api/history?limit=30", ["history", "--limit", "30", "--json"]),
                        ("/api/queues", ["queue", "list", "--json"]),
                    ] {
                        let answer = try await fixture.get(base + api)
                        #expect(answer.status == 200, "\(api): \(answer.body)")
                        #expect(answer.body == (try await fixture.jsonOutput(command)), "\(api) differs from --json")
                    }
                    // History by keyset on PostgreSQL: the next links walk to history --json; a page
                    // after a run lists the runs right after it.
                    let walked = try await DashboardAPITests.walkPages(fixture, base, "/api/history?limit=2")
                    let whole = try JSONSerialization.jsonObject(
                        with: Data(try await fixture.jsonOutput(["history", "--limit", "1000", "--json"]).utf8))
                    #expect(NSArray(array: walked.elements).isEqual(to: whole as? [Any] ?? []))
                    #expect(walked.pages > 2)
                    let ids = (whole as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
                    let jobIDs = try await {
                        let text = try await fixture.jsonOutput(["history", "failing-job", "--limit", "1000", "--json"])
                        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? [])
                            .compactMap { $0["id"] as? Int }
                    }()
                    #expect(ids.count > 4 && jobIDs.count >= 3)
                    let after = try await fixture.get(base + "/job?name=failing-job&limit=1&after=\(jobIDs[2])")
                    let shown = after.body.components(separatedBy: "<tr data-run=\"").dropFirst().compactMap {
                        Int($0.prefix { $0 != "\"" })
                    }
                    #expect(shown == [jobIDs[1]], "the run right after \(jobIDs[2])")
                    let metrics = try await fixture.get(base + "/metrics")
                    let status = try await fixture.jsonObject(["status", "--json"])
                    for (outcome, count) in status["runs"] as? [String: Int] ?? [:] where outcome != "total" {
                        #expect(
                            metrics.body.contains("jobrunner_runs_total{outcome=\"\(outcome)\"} \(count)\n"),
                            "\(outcome)")
                    }
                    for page in ["/", "/jobs", "/job?name=failing-job", "/runners", "/queues"] {
                        let answer = try await fixture.get(base + page)
                        #expect(answer.status == 200, "\(page): \(answer.body)")
                        #expect(answer.body.contains("</html>"))
                    }
                }
            }
        #endif
    }

    #if PostgreSQL
        /// A database of its own on the test server (JOBRUNNER_TEST_POSTGRES_URL; scripts/start-postgres
        /// prints one), made and dropped with psql. Without the variable the test fails, never skips.
        enum PostgresDatabase {
            static func create() throws -> String {
                guard let server = ProcessInfo.processInfo.environment["JOBRUNNER_TEST_POSTGRES_URL"], !server.isEmpty
                else { throw HarnessError("JOBRUNNER_TEST_POSTGRES_URL is not set (run scripts/start-postgres)") }
                // The name is ours, made of [a-z0-9_]: an identifier cannot be a bound parameter.
                let name = "jrtest_dash_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
                try psql(server, "CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0")
                guard let range = server.range(of: #"/[^/?]*(\?|$)"#, options: .regularExpression) else {
                    throw HarnessError("cannot find the database name in \(server)")
                }
                let query = server[range].hasSuffix("?") ? "?" : ""
                return server.replacingCharacters(in: range, with: "/" + name + query)
            }

            /// Runs `body` with a database of its own, dropped afterwards whatever happens. The psql
            /// calls wait for a process: they run off the cooperative pool.
            static func with(_ body: (String) async throws -> Void) async throws {
                let url = try await offThePool { try create() }
                do {
                    try await body(url)
                } catch {
                    await offThePool { drop(url) }
                    throw error
                }
                await offThePool { drop(url) }
            }

            static func drop(_ url: String) {
                guard let range = url.range(of: #"jrtest_dash_[0-9a-f]+"#, options: .regularExpression) else { return }
                try? psql(url, "DROP DATABASE IF EXISTS \(url[range]) WITH (FORCE)", maintenance: true)
            }

            /// Runs one statement with psql on `url`'s server (on the `postgres` database with `maintenance`).
            private static func psql(_ url: String, _ statement: String, maintenance: Bool = false) throws {
                var target = url
                if maintenance, let range = target.range(of: #"jrtest_dash_[0-9a-f]+"#, options: .regularExpression) {
                    target.replaceSubrange(range, with: "postgres")
                }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
                process.arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", target, "-c", statement]
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    throw HarnessError("psql failed (\(process.terminationStatus)): \(statement)")
                }
            }
        }
    #endif
#endif
