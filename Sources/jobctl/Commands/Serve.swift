import ArgumentParser
import Foundation
import JobRunner

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the dashboard, the JSON API and /metrics over HTTP.",
        discussion: """
            Pages: / (overview), /jobs (filter by queue and state, sorted, paginated), /job?name=NAME \
            (definition, counters, next runs, history with output paged by run id, lateness and duration plots), \
            /runners, /queues. They work without JavaScript and refresh themselves every 5 seconds \
            with it.

            JSON API, with the documents of the --json outputs, in bounded pages: /api/status \
            (status --json; perJob lists the first 1000 jobs by name, perJobLimit=N up to 10000 \
            asks for another number; X-Total-Count says how many jobs there are), \
            /api/jobs?queue=Q&state=S (list --json, 500 jobs a page by name; limit=N up to 1000 and \
            offset=M; X-Total-Count and an RFC 8288 Link header with rel="next" while more remain), \
            /api/job?name=NAME&runs=N (show --json), \
            /api/history?job=NAME&status=S&limit=N&since=T (history --json; before=RUN for the runs \
            older than that one, with a Link header to the next page), /api/run?id=RUN \
            (logs --json), /api/queues (queue list --json), /api/runners.

            /metrics: Prometheus text format, read from the database at each scrape: runs by \
            outcome, jobs by state, due and waiting, in flight, runners alive, per queue in flight.

            Read-only unless --token-file names a file holding a secret token (at least 16 \
            characters). Then actions (trigger, pause, resume, stop a job; drain every runner) are \
            allowed as POST with the token and a CSRF token: in the browser after signing in at \
            /login; from scripts with `Authorization: Bearer TOKEN` and `X-CSRF-Token` from \
            GET /api/csrf. Listening on anything but loopback requires --token-file.

            Needs a jobctl built with the Dashboard trait: swift build --traits Dashboard.

            Examples:
              jobctl serve
              jobctl serve --listen 0.0.0.0:8080 --token-file /etc/jobrunner/token
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Address to listen on (default 127.0.0.1:8080).", valueName: "host:port"))
    var listen: String = "127.0.0.1:8080"

    @Option(
        help: ArgumentHelp(
            "A file holding the token that allows actions; required to listen beyond loopback.", valueName: "file"))
    var tokenFile: String?

    /// The shortest token accepted.
    static let minimumTokenLength = 16

    /// The message given when this jobctl was built without the Dashboard trait.
    static let notBuiltMessage =
        "this jobctl was built without the dashboard; build it with `swift build --traits Dashboard`"

    func validate() throws {
        let address = try ListenAddress(parsing: listen, flag: "--listen")
        if !address.isLoopback && tokenFile == nil {
            throw ValidationError(
                "--listen \(address) is not a loopback address: anyone who can reach it could see the dashboard; give --token-file, or listen on 127.0.0.1"
            )
        }
    }

    /// The token in `--token-file`, trimmed of surrounding white space; nil without the flag.
    static func readToken(_ path: String?) throws -> String? {
        guard let path else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(message: "--token-file: cannot read \(JobRunnerErrorText.quoted(path))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuntimeError(message: "--token-file: \(JobRunnerErrorText.quoted(path)) is not UTF-8 text")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= minimumTokenLength, !token.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw RuntimeError(
                message:
                    "--token-file: the token must be one word of at least \(minimumTokenLength) characters (e.g. openssl rand -hex 32)"
            )
        }
        return token
    }

    func run() async throws {
        #if Dashboard
            let address = try ListenAddress(parsing: listen, flag: "--listen")
            let token = try Serve.readToken(tokenFile)
            let store = try await global.openStore()
            try await DashboardServer(store: store, address: address, token: token).run()
        #else
            throw RuntimeError(message: Serve.notBuiltMessage)
        #endif
    }
}
