import Testing

@testable import JobRunner

extension BackendConformance {
    /// A definition comes back as it was added, from any instance; a declare changes it; `replace`
    /// takes away what the new definition leaves out. Covers the columns added after the first
    /// schema (a command's environment, a job's own failure alert command).
    static func definitionsRoundTrip(_ factory: BackendFactory) async throws {
        try await withHarness(factory) { h in
            let full = JobDefinition(
                name: "full",
                queue: "reports",
                action: .command(
                    ["/usr/bin/report", "--title", "a \"quoted\" title", "ünïcode", ""], workingDirectory: "/srv"),
                payload: #"{"b":1,"a":[true,null]}"#,
                schedule: .every(.seconds(90), fixedDelay: true),
                initialDelay: .seconds(5),
                timeout: .seconds(30),
                retry: RetryPolicy(maxRetries: 3, backoff: .seconds(2)),
                jitter: .seconds(1),
                misfire: .catchUp,
                environment: ["LANG": "C", "PATH": "/bin:/usr/bin"],
                onFailure: ["/usr/local/bin/notify", "--team", "data eng", "$HOME", ""])
            let plain = job("plain")
            try await h.add(full)
            try await h.add(plain)
            let other = try await h.open()
            #expect(try await other.job(named: "full")?.definition == full)
            #expect(try await other.job(named: "plain")?.definition == plain)
            #expect(try await other.job(named: "plain")?.definition.onFailure == nil)
            #expect(try await other.jobs(queue: "reports").map(\.definition) == [full])

            // Declaring the same definition changes nothing; a changed alert command is an update.
            #expect(try await other.declare(full) == .unchanged)
            var changed = full
            changed.onFailure = ["page"]
            #expect(try await other.declare(changed) == .updated)
            #expect(try await h.job("full").definition.onFailure == ["page"])

            // Replacing with a definition without one takes it away, and the environment with it.
            var bare = full
            bare.onFailure = nil
            bare.environment = [:]
            _ = try await h.backend.add(bare, replace: true)
            #expect(try await other.job(named: "full")?.definition == bare)

            // A handler job carries one as well.
            var handler = plain
            handler.onFailure = ["notify"]
            #expect(try await h.backend.declare(handler) == .updated)
            #expect(try await other.job(named: "plain")?.definition == handler)
        }
    }
}
