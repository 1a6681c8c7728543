import Foundation
import TestSupport
import Testing

@testable import jobctl

@Suite("jobctl keeps passwords out of its command line")
struct ProcessTitleTests {
    /// `argument` with what ``ProcessTitle/passwordRanges(in:)`` finds replaced by `*`.
    func hidden(_ argument: String) -> String {
        var bytes = Array(argument.utf8)
        for range in ProcessTitle.passwordRanges(in: bytes) {
            for offset in range { bytes[offset] = UInt8(ascii: "*") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("the password of a URL's user information, and a password= parameter, are hidden; nothing else")
    func ranges() {
        #expect(hidden("postgres://app:s3cret@db:5432/jobs") == "postgres://app:******@db:5432/jobs")
        #expect(
            hidden("--db=postgresql://app:p@ss@db/jobs?sslmode=require")
                == "--db=postgresql://app:****@db/jobs?sslmode=require")
        #expect(
            hidden("postgres://app@db/jobs?sslmode=require&password=hunter2&schema=x")
                == "postgres://app@db/jobs?sslmode=require&password=*******&schema=x")
        #expect(hidden("postgres://app@db/jobs?password=hunter2") == "postgres://app@db/jobs?password=*******")
        #expect(hidden("postgres://app:a@db/x postgres://b:cc@db/y") == "postgres://app:*@db/x postgres://b:**@db/y")
        for untouched in [
            "postgres://app@db/jobs", "postgres://db/jobs", "/var/lib/jobs.sqlite", "user:pass@host", "postgres://",
            "postgres://app:@db/jobs", "mysql://app:secret@db/jobs",
        ] {
            #expect(hidden(untouched) == untouched)
        }
    }

}

#if PostgreSQL
    @Suite("jobctl on PostgreSQL keeps the password out of its command line")
    struct PostgresProcessTitleTests {
        @Test("a running jobctl shows no password in /proc/PID/cmdline")
        func commandLine() async throws {
            let server = try #require(
                ProcessInfo.processInfo.environment["JOBRUNNER_TEST_POSTGRES_URL"],
                "JOBRUNNER_TEST_POSTGRES_URL names the test server")
            // The test server trusts local connections: any password is accepted, and none may show.
            let schema = "jrtitle_" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            let url =
                server.replacingOccurrences(of: "postgresql://postgres@", with: "postgresql://postgres:hunter2@")
                + "&schema=\(schema)"
            #expect(url.contains("hunter2"))
            let sandbox = try Sandbox()
            defer { sandbox.cleanup() }
            let runner = try sandbox.launchJobctl(["run", "--db", url], db: .omitted)
            defer { runner.killAndReap() }
            try await waitUntil("the runner started: \(runner.transcript())") {
                runner.stderr.contains("runner started")
            }
            let data = try #require(FileManager.default.contents(atPath: "/proc/\(runner.pid)/cmdline"))
            let line = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
            #expect(!line.contains("hunter2"), "\(line)")
            #expect(line.contains("postgresql://postgres:*******@"), "\(line)")
        }
    }
#endif
