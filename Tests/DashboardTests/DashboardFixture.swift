#if Dashboard
    import Foundation
    import TestSupport
    import Testing

    /// A sandbox whose database holds known contents (a job that succeeds, one that fails with output,
    /// one named with HTML, runs of each, recorded by a real runner that was then drained), and helpers
    /// to run `jobctl`, start `jobctl serve` and speak HTTP to it with curl.
    final class DashboardFixture: Sendable {
        let sandbox: Sandbox

        /// A job name that is markup: it must show as text everywhere, and its script never run.
        static let hostileName = #"<script>document.title="pwned"</script>"#
        static let okName = "ok-job"
        static let failingName = "failing-job"

        /// The `--db` of every command: the sandbox's file, or a PostgreSQL URL.
        let database: String

        /// Creates the database and fills it: each job runs at least `runs` times, then the runner drains.
        /// `database` is a PostgreSQL URL to use instead of the sandbox's SQLite file. `extraNames`
        /// are more jobs, each a command that prints markup (an SVG whose onload calls alert).
        init(runs: Int = 3, database: String? = nil, extraNames: [String] = []) async throws {
            sandbox = try Sandbox("dashboard", exportsDatabase: false)
            self.database = database ?? sandbox.db
            do {
                try await succeed(["add", DashboardFixture.okName, "--every", "150ms", "--delay", "0s", "--", "true"])
                try await succeed([
                    "add", DashboardFixture.failingName, "--every", "150ms", "--delay", "0s", "--queue", "reports",
                    "--",
                    "sh", "-c", "echo '<b>boom</b> & \"quoted\"'; exit 3",
                ])
                try await succeed([
                    "add", DashboardFixture.hostileName, "--every", "150ms", "--delay", "0s", "--", "echo",
                    "<img src=x onerror=alert(1)>",
                ])
                for name in extraNames {
                    try await succeed([
                        "add", name, "--every", "150ms", "--delay", "0s", "--", "echo", "<svg onload=alert('output')>",
                    ])
                }
                let jobs = 3 + extraNames.count
                let runner = try sandbox.launch(
                    executable: sandbox.jobctlPath, ["run", "--db", self.database, "--concurrency", "4"])
                try await waitUntil(
                    "each job has run \(runs) times", timeout: .seconds(60), interval: .milliseconds(50)
                ) {
                    let status = try await self.jsonObject(["status", "--json"])
                    let perJob = status["perJob"] as? [[String: Any]] ?? []
                    return perJob.count == jobs && perJob.allSatisfy { ($0["runCount"] as? Int ?? 0) >= runs }
                }
                try await succeed(["drain", "--timeout", "30s"])
                guard await runner.waitForExit(timeout: .seconds(30)) else {
                    throw HarnessError("the runner did not exit after the drain: \(runner.transcript())")
                }
                // With no runner, every job falls due within one interval and stays so: from then on
                // the database holds still, and any two readings of it agree.
                try await waitUntil("all \(jobs) jobs are due", timeout: .seconds(30), interval: .milliseconds(50)) {
                    try await self.jsonObject(["status", "--json"])["due"] as? Int == jobs
                }
            } catch {
                sandbox.cleanup()
                throw error
            }
        }

        deinit { sandbox.cleanup() }

        // MARK: jobctl

        /// `arguments` with `--db` (before a `--` that starts a command's argv).
        func withDatabase(_ arguments: [String]) -> [String] {
            guard let index = arguments.firstIndex(of: "--") else { return arguments + ["--db", database] }
            return Array(arguments[..<index]) + ["--db", database] + Array(arguments[index...])
        }

        func jobctl(_ arguments: [String]) async throws -> ProcessResult {
            try await sandbox.run(executable: sandbox.jobctlPath, withDatabase(arguments))
        }

        @discardableResult
        func succeed(_ arguments: [String]) async throws -> ProcessResult {
            let result = try await jobctl(arguments)
            guard result.status == 0 else { throw HarnessError("jobctl failed: \(result)") }
            return result
        }

        /// `jobctl ARGS --json`'s output, byte for byte.
        func jsonOutput(_ arguments: [String]) async throws -> String {
            let result = try await jobctl(arguments)
            guard result.status == 0 else { throw HarnessError("jobctl failed: \(result)") }
            return result.stdout
        }

        func jsonObject(_ arguments: [String]) async throws -> [String: Any] {
            let text = try await jsonOutput(arguments)
            guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw HarnessError("not a JSON object: \(text)")
            }
            return object
        }

        // MARK: serve

        /// Starts `jobctl serve` on a free loopback port (with a token file holding `token`, if given)
        /// and returns it with its base URL, once it listens.
        func serve(token: String? = nil) async throws -> (process: ChildProcess, base: String) {
            var arguments = ["serve", "--db", database, "--listen", "127.0.0.1:0"]
            if let token {
                let path = sandbox.root + "/token-\(UUID().uuidString)"
                try DashboardFixture.writeTokenFile(path, token + "\n")
                arguments += ["--token-file", path]
            }
            let process = try sandbox.launch(executable: sandbox.jobctlPath, arguments)
            let base = try await waitFor("serve prints where it listens", timeout: .seconds(30)) { () -> String? in
                if let status = process.poll() {
                    throw HarnessError("serve exited (\(status)): \(process.transcript())")
                }
                guard let range = process.stdout.range(of: "listening on http://") else { return nil }
                let rest = process.stdout[range.upperBound...]
                guard let slash = rest.firstIndex(of: "/") else { return nil }
                return "http://" + rest[..<slash]
            }
            return (process, base)
        }

        /// Writes a token file as an operator should: mode 0600.
        static func writeTokenFile(_ path: String, _ text: String, mode: Int = 0o600) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        }

        // MARK: HTTP

        struct HTTPResult {
            var status: Int
            var headers: [String: String]
            var body: String
            /// Every `Set-Cookie` header, in order (`headers` has only the last).
            var setCookies: [String] = []

            /// The value of the cookie `name` that the answer sets, if it does.
            func cookie(_ name: String) -> String? {
                setCookies.compactMap { header -> String? in
                    let pair = header.prefix { $0 != ";" }
                    guard pair.hasPrefix(name + "=") else { return nil }
                    return String(pair.dropFirst(name.count + 1))
                }.last
            }
        }

        /// One request with curl (no redirects followed), returning the status, headers (lower-cased
        /// names; the last of a repeated one) and body.
        func http(
            _ method: String, _ url: String, headers: [String: String] = [:], form: [String: String]? = nil
        ) async throws -> HTTPResult {
            let id = UUID().uuidString
            let headerFile = sandbox.root + "/h-\(id)"
            let bodyFile = sandbox.root + "/b-\(id)"
            var arguments = ["-sS", "-X", method, "-D", headerFile, "-o", bodyFile, "--max-time", "20"]
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) { arguments += ["-H", "\(name): \(value)"] }
            if let form {
                for (name, value) in form.sorted(by: { $0.key < $1.key }) {
                    arguments += ["--data-urlencode", "\(name)=\(value)"]
                }
            }
            let result = try await sandbox.run(executable: "/usr/bin/curl", arguments + [url])
            guard result.status == 0 else { throw HarnessError("curl failed: \(result)") }
            let headerText = try String(contentsOfFile: headerFile, encoding: .utf8)
            var status = 0
            var fields: [String: String] = [:]
            var cookies: [String] = []
            for line in headerText.split(whereSeparator: \.isNewline) {
                if line.hasPrefix("HTTP/") {
                    status = Int(line.split(separator: " ")[1]) ?? 0
                } else if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    fields[name] = value
                    if name == "set-cookie" { cookies.append(value) }
                }
            }
            let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
            return HTTPResult(status: status, headers: fields, body: body, setCookies: cookies)
        }

        func get(_ url: String, headers: [String: String] = [:]) async throws -> HTTPResult {
            try await http("GET", url, headers: headers)
        }

        /// The sign-in form's CSRF token: its cookie (`name=value`) and its hidden field, from GET /login.
        func loginForm(_ base: String) async throws -> (cookie: String, field: String) {
            let page = try await get(base + "/login")
            guard let value = page.cookie("jobctl_login_csrf"),
                let start = page.body.range(of: "name=\"login_csrf\" value=\"")?.upperBound
            else { throw HarnessError("GET /login gave no CSRF cookie or field: \(page)") }
            return ("jobctl_login_csrf=" + value, String(page.body[start...].prefix { $0 != "\"" }))
        }

        /// Signs in with `token` as a browser does (the form's CSRF token included); the answer.
        func signIn(_ base: String, token: String) async throws -> HTTPResult {
            let form = try await loginForm(base)
            return try await http(
                "POST", base + "/login", headers: ["Cookie": form.cookie],
                form: ["token": token, "login_csrf": form.field])
        }

        /// The python of the test venv (scripts/dashboard-test/setup-venv), with prometheus_client.
        static func python() throws -> String {
            guard let python = ProcessInfo.processInfo.environment["JOBRUNNER_TEST_PYTHON"], !python.isEmpty else {
                throw HarnessError(
                    "JOBRUNNER_TEST_PYTHON is not set: scripts/test sets it to a venv with prometheus_client "
                        + "(scripts/dashboard-test/setup-venv DIR prints one)")
            }
            return python
        }

        /// Chromium, as Debian installs it (.ci/run installs it when missing).
        static func chromium() throws -> String {
            for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            where FileManager.default.isExecutableFile(atPath: path) {
                return path
            }
            throw HarnessError("chromium is not installed: apt-get install chromium (.ci/run does)")
        }

        static let helpers = PackageLayout.root + "/scripts/dashboard-test"
    }
#endif
