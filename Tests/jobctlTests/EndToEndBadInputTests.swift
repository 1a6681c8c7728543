import Foundation
import TestSupport
import Testing

/// One bad command line and what jobctl must say about it.
struct BadInput: Sendable, CustomTestStringConvertible {
    var label: String
    var arguments: [String]
    var status: Int32
    var mentioning: String
    /// False for a command line that takes no `--db`.
    var withDatabase = true
    var testDescription: String { label }

    static let usage: Int32 = 64
    static let runtime: Int32 = 1

    static let oversizedPayload = "\"" + String(repeating: "x", count: 64 * 1024 - 1) + "\""

    static let all: [BadInput] = [
        BadInput(
            label: "--every banana", arguments: ["add", "new", "--every", "banana", "--handler", "tick"],
            status: usage, mentioning: "banana"),
        BadInput(
            label: "--every -5s", arguments: ["add", "new", "--every", "-5s", "--handler", "tick"], status: usage,
            mentioning: "--every"),
        BadInput(
            label: "--every=-5s", arguments: ["add", "new", "--every=-5s", "--handler", "tick"], status: usage,
            mentioning: "-5s"),
        BadInput(
            label: "--every 0s", arguments: ["add", "new", "--every", "0s", "--handler", "tick"], status: usage,
            mentioning: "0s"),
        BadInput(
            label: "cron minute 61", arguments: ["add", "new", "--cron", "61 * * * *", "--handler", "tick"],
            status: usage, mentioning: "61"),
        BadInput(
            label: "cron that never fires (30 Feb)",
            arguments: ["add", "new", "--cron", "0 0 30 2 *", "--handler", "tick"], status: usage,
            mentioning: "0 0 30 2 *"),
        BadInput(
            label: "cron with too few fields", arguments: ["add", "new", "--cron", "* * *", "--handler", "tick"],
            status: usage, mentioning: "cron"),
        BadInput(
            label: "unknown time zone",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--tz", "Mars/Olympus", "--handler", "tick"],
            status: usage, mentioning: "Mars/Olympus"),
        BadInput(
            label: "duplicate name without --replace",
            arguments: ["add", "existing", "--every", "5s", "--handler", "tick"], status: runtime,
            mentioning: "existing"),
        BadInput(
            label: "conflicting schedules --every and --in",
            arguments: ["add", "new", "--every", "1s", "--in", "5s", "--handler", "tick"], status: usage,
            mentioning: "--in"),
        BadInput(
            label: "invalid JSON payload",
            arguments: ["add", "new", "--every", "1s", "--payload", "{\"a\":", "--handler", "tick"], status: usage,
            mentioning: "payload"),
        BadInput(
            label: "payload over 64 KiB",
            arguments: ["add", "new", "--every", "1s", "--payload", oversizedPayload, "--handler", "tick"],
            status: usage, mentioning: "payload"),
        BadInput(
            label: "bad --at instant", arguments: ["add", "new", "--at", "next tuesday", "--handler", "tick"],
            status: usage, mentioning: "next tuesday"),
        BadInput(
            label: "name with a control character",
            arguments: ["add", "bad\u{7}name", "--every", "1s", "--handler", "tick"],
            status: usage, mentioning: "name"),
        BadInput(
            label: "empty command", arguments: ["add", "new", "--every", "1s", "--", ""], status: usage,
            mentioning: "command"),
        BadInput(label: "show unknown job", arguments: ["show", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "pause unknown job", arguments: ["pause", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "resume unknown job", arguments: ["resume", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "stop unknown job", arguments: ["stop", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "remove unknown job", arguments: ["remove", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "trigger unknown job", arguments: ["trigger", "nope"], status: runtime, mentioning: "nope"),
        BadInput(label: "history of unknown job", arguments: ["history", "nope"], status: runtime, mentioning: "nope"),
        BadInput(
            label: "history --status unknown", arguments: ["history", "--status", "great"], status: usage,
            mentioning: "great"),
        BadInput(
            label: "prune --older-than banana", arguments: ["prune", "--older-than", "banana"], status: usage,
            mentioning: "banana"),
        BadInput(
            label: "queue set-concurrency 0", arguments: ["queue", "set-concurrency", "default", "0"], status: usage,
            mentioning: "concurrency"),
        BadInput(
            label: "unknown command", arguments: ["frobnicate"], status: usage, mentioning: "frobnicate",
            withDatabase: false),
        BadInput(
            label: "unknown option", arguments: ["list", "--colour"], status: usage, mentioning: "--colour"),
        // Names that look like another, or turn a printed line around.
        BadInput(
            label: "name with a zero-width space",
            arguments: ["add", "exist\u{200B}ing", "--every", "1s", "--handler", "tick"],
            status: usage, mentioning: "invisible"),
        BadInput(
            label: "name with a right-to-left override",
            arguments: ["add", "\u{202E}gnitsixe", "--every", "1s", "--handler", "tick"], status: usage,
            mentioning: "U+202E"),
        BadInput(
            label: "queue with a right-to-left mark",
            arguments: ["add", "new", "--queue", "q\u{200F}", "--every", "1s", "--handler", "tick"], status: usage,
            mentioning: "queue name"),
        BadInput(
            label: "name with a Hangul filler (renders blank)",
            arguments: ["add", "\u{3164}", "--every", "1s", "--handler", "tick"], status: usage, mentioning: "U+3164"),
        BadInput(
            label: "name not in NFC (e + combining acute)",
            arguments: ["add", "caf\u{65}\u{301}", "--every", "1s", "--handler", "tick"], status: usage,
            mentioning: "NFC"),
        BadInput(
            label: "--tz UTC+3 (an offset that POSIX reads the other way)",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--tz", "UTC+3", "--handler", "tick"], status: usage,
            mentioning: "--tz"),
        BadInput(label: "run --queue ''", arguments: ["run", "--queue", ""], status: usage, mentioning: "queue name"),
        BadInput(
            label: "list --queue ''", arguments: ["list", "--queue", ""], status: usage, mentioning: "queue name"),
        // Durations and instants out of range never trap: one line, exit 64.
        BadInput(
            label: "--every 106751991d", arguments: ["add", "new", "--every", "106751991d", "--handler", "tick"],
            status: usage, mentioning: "--every"),
        BadInput(
            label: "--in 106751990d", arguments: ["add", "new", "--in", "106751990d", "--handler", "tick"],
            status: usage, mentioning: "--in"),
        BadInput(
            label: "--delay 106751991d",
            arguments: ["add", "new", "--every", "1s", "--delay", "106751991d", "--handler", "tick"], status: usage,
            mentioning: "--delay"),
        BadInput(
            label: "--timeout 36501d",
            arguments: ["add", "new", "--every", "1s", "--timeout", "36501d", "--handler", "tick"],
            status: usage, mentioning: "--timeout"),
        BadInput(
            label: "--backoff 99999999d",
            arguments: ["add", "new", "--every", "1s", "--backoff", "99999999d", "--handler", "tick"], status: usage,
            mentioning: "--backoff"),
        BadInput(
            label: "--at 9999-12-31 plus --delay",
            arguments: ["add", "new", "--at", "9999-12-31T23:59:59Z", "--delay", "1d", "--handler", "tick"],
            status: usage, mentioning: "--delay"),
        BadInput(
            label: "run --grace 106751991d", arguments: ["run", "--grace", "106751991d"], status: usage,
            mentioning: "--grace"),
        BadInput(
            label: "drain --grace 106751991d", arguments: ["drain", "--grace", "106751991d"], status: usage,
            mentioning: "--grace"),
        // Options that need another one.
        BadInput(
            label: "--delay with --cron",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--delay", "1h", "--handler", "tick"], status: usage,
            mentioning: "--delay"),
        BadInput(
            label: "--delay with --at",
            arguments: ["add", "new", "--at", "2099-01-01T00:00:00Z", "--delay", "1h", "--handler", "tick"],
            status: usage, mentioning: "--delay"),
        BadInput(
            label: "--at in the past", arguments: ["add", "new", "--at", "2020-01-01T00:00:00Z", "--handler", "tick"],
            status: usage, mentioning: "--in 0s"),
        BadInput(
            label: "--jitter as long as --every",
            arguments: ["add", "new", "--every", "10s", "--jitter", "10s", "--handler", "tick"], status: usage,
            mentioning: "jitter"),
        BadInput(
            label: "--cwd that does not exist",
            arguments: ["add", "new", "--every", "1s", "--cwd", "/no/such/dir", "--", "true"], status: usage,
            mentioning: "/no/such/dir"),
        BadInput(
            label: "prune-history with a payload it cannot use",
            arguments: [
                "add", "new", "--every", "1h", "--handler", "prune-history", "--payload", #"{"olderThan":"banana"}"#,
            ],
            status: usage, mentioning: "banana"),
        BadInput(
            label: "--tz error names --tz",
            arguments: ["add", "new", "--cron", "0 3 * * *", "--tz", "Mars/Olympus", "--handler", "tick"],
            status: usage, mentioning: "--tz:"),
        BadInput(
            label: "stop --timeout without --wait", arguments: ["stop", "existing", "--timeout", "1s"], status: usage,
            mentioning: "--wait"),
        BadInput(
            label: "show --runs=-5", arguments: ["show", "existing", "--runs=-5"], status: usage, mentioning: "--runs"),
        BadInput(
            label: "history --limit -1", arguments: ["history", "--limit", "-1"], status: usage, mentioning: "--limit"),
        // Negative numbers say what is wrong, not "Missing value".
        BadInput(
            label: "--every -5s says negative", arguments: ["add", "new", "--every", "-5s", "--handler", "tick"],
            status: usage, mentioning: "negative"),
        BadInput(
            label: "--retries -1 says the range",
            arguments: ["add", "new", "--every", "1s", "--retries", "-1", "--handler", "tick"],
            status: usage, mentioning: "between 0 and 1000"),
        BadInput(
            label: "run --concurrency -2", arguments: ["run", "--concurrency", "-2"], status: usage,
            mentioning: "between 1 and 10000"),
        // Queues.
        BadInput(
            label: "queue set-concurrency -1", arguments: ["queue", "set-concurrency", "default", "-1"], status: usage,
            mentioning: "\"-1\""),
        BadInput(
            label: "queue pause of an empty name", arguments: ["queue", "pause", ""], status: usage,
            mentioning: "queue name"),
        BadInput(
            label: "queue set-concurrency of an unknown queue", arguments: ["queue", "set-concurrency", "nope", "2"],
            status: runtime, mentioning: "nope"),
        BadInput(
            label: "queue remove of a queue in use", arguments: ["queue", "remove", "default"], status: runtime,
            mentioning: "used by 1 job"),
        BadInput(
            label: "queue remove of an unknown queue", arguments: ["queue", "remove", "nope"], status: runtime,
            mentioning: "nope"),
        BadInput(
            label: "--db with an empty path", arguments: ["list", "--db", ""], status: usage, mentioning: "--db",
            withDatabase: false),
    ]
}

/// Bad input: a non-zero exit (64 usage, 1 runtime), one line on stderr, and an unchanged database.
@Suite("jobctl bad input end to end", .timeLimit(.minutes(2)))
struct EndToEndBadInputTests {
    /// A sandbox whose database holds one job, `existing`.
    func seeded() async throws -> Sandbox {
        let s = try Sandbox()
        do {
            try await s.succeed(["add", "existing", "--every", "1h", "--handler", "tick"])
        } catch {
            s.cleanup()
            throw error
        }
        return s
    }

    @Test("bad input is refused with one line and changes nothing", arguments: BadInput.all)
    func refused(_ input: BadInput) async throws {
        let s = try await seeded()
        defer { s.cleanup() }
        let before = try await s.dump()
        let result = try await s.jobctl(input.arguments, db: input.withDatabase ? .sandbox : .omitted)
        expectOneLineError(result, status: input.status, mentioning: input.mentioning)
        let after = try await s.dump()
        #expect(before == after, "the database changed")
    }

    @Test("a usage error does not create the database file")
    func usageErrorCreatesNothing() async throws {
        let s = try Sandbox()
        defer { s.cleanup() }
        let result = try await s.jobctl(["add", "x", "--every", "banana", "--handler", "tick"])
        expectOneLineError(result, status: 64, mentioning: "banana")
        #expect(!FileManager.default.fileExists(atPath: s.db))
        #expect(!FileManager.default.fileExists(atPath: s.defaultDatabasePath))
    }
}
