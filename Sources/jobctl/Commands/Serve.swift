import ArgumentParser
import Foundation
import JobRunner

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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

            Read-only unless --token-file names a file holding a secret token: one line of at least \
            16 characters, in a regular file that only its owner may read or write (chmod 600). Then actions (trigger, pause, resume, stop a job; drain every runner) are \
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

    /// The largest token file read: a token is one short line.
    static let maximumTokenFileSize = 4096

    /// The token in `--token-file`, without the one trailing newline that `echo` or an editor adds;
    /// nil without the flag. The file must be a regular file that only its owner may read or write
    /// (as ssh requires of a private key), and hold one word of at least ``minimumTokenLength``
    /// characters; anything else is refused with a one-line error before anything starts.
    static func readToken(_ path: String?) throws -> String? {
        guard let path else { return nil }
        let shown = JobRunnerErrorText.quoted(path)
        func refused(_ problem: String) -> RuntimeError { RuntimeError(message: "--token-file: \(shown) \(problem)") }
        // Opened first and examined through the descriptor, so that what is checked is what is read;
        // without blocking, so that a FIFO cannot hang the open.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { throw refused("cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw refused("cannot be examined: \(String(cString: strerror(errno)))")
        }
        // S_IFMT and S_IFREG: the file type bits, and a regular file's.
        guard info.st_mode & 0o170_000 == 0o100_000 else {
            throw refused("is not a regular file")
        }
        let permissions = info.st_mode & 0o7777
        guard permissions & 0o077 == 0 else {
            throw refused(
                "may be read or written by others (mode \(String(format: "%04o", permissions))): the token is a secret; chmod 600 \(shown)"
            )
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while bytes.count <= maximumTokenFileSize {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw refused("cannot be read: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        guard bytes.count <= maximumTokenFileSize else {
            throw refused("is larger than \(maximumTokenFileSize) bytes: a token file holds one short line")
        }
        guard var token = String(validating: bytes, as: UTF8.self) else { throw refused("is not UTF-8 text") }
        // One trailing newline; "\r\n" is one Character, which `hasSuffix("\n")` does not match.
        if token.hasSuffix("\n") || token.hasSuffix("\r\n") { token.removeLast() }
        guard !token.isEmpty else { throw refused("is empty: put a token in it (e.g. openssl rand -hex 32)") }
        guard !token.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw refused("must hold the token alone, on one line, without spaces")
        }
        guard token.count >= minimumTokenLength else {
            throw refused(
                "holds a token of \(token.count) characters; it must be at least \(minimumTokenLength) (e.g. openssl rand -hex 32)"
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
