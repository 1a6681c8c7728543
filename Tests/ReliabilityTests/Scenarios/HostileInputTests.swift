import Foundation
import TestSupport
import Testing

extension Reliability {
    /// Scenario 10 (guarantees 7 and 8): hostile names, payloads and commands.
    @Suite("10. hostile input")
    struct HostileInput {
        static let names: [String] = [
            #"it's "quoted""#, "'); DROP TABLE jobs;--", "\"; DELETE FROM runs; --", "%", "_", "a%b_c", "a_c",
            #"back\slash\\ and \"#, "עברית right-to-left", "emoji 🧨 and 日本語",
            "$(id)", "`id`", "; rm -rf / ;", "name with  inner spaces", "*", "?[a-z]",
            String(repeating: "é", count: 100),  // 200 bytes: exactly the limit
        ]

        static let payloads: [String] = [
            #""'); DROP TABLE jobs;--""#,
            #"{"a":"%_\\","b":"\u001b[31mred\u001b[0m","c":"\u202e"}"#,
            "{\n  \"spread\":\n  [1, 2,\n   3]\n}\n",
            #"["$(id)", "`id`", "; rm -rf /", "*"]"#,
            "\"" + String(repeating: #"x'\"%_\\ é🧨"#, count: 800) + "\"",  // about 10 KB of JSON
            "null", "0", #""\u0000 nul escaped""#,
        ]

        @Test(
            "hostile names and payloads are stored and shown exactly, and run nothing",
            .timeLimit(ChaosMode.timeLimit(short: 3))
        )
        func namesAndPayloadsRoundTrip() async throws { try await Self.namesAndPayloadsRoundTrip(on: .sqlite) }

        static func namesAndPayloadsRoundTrip(on store: StoreKind) async throws {
            try await Sandbox.with("hostile-round-trip", store: store) { sandbox in try await roundTrip(in: sandbox) }
        }

        private static func roundTrip(in sandbox: Sandbox) async throws {
            for (index, name) in Self.names.enumerated() {
                let payload = Self.payloads[index % Self.payloads.count]
                try await sandbox.jobctlOK(["add", name, "--in", "0s", "--handler", "tick", "--payload", payload])
                let show = try await sandbox.jobctlOK(["show", name, "--json"])
                let shown = try #require(
                    JSONText.strings(show.stdout, ["name", "payload"]), "show --json prints one object: \(show)")
                #expect(shown["name"] == name, "name round-trip: \(shown["name"] ?? "nil") vs \(name)")
                #expect(shown["payload"] == payload, "payload round-trip for \(name)")
            }
            let list = try await sandbox.jobctlOK(["list", "--json"])
            let listed = try #require(JSONText.column(list.stdout, "name"), "list --json: \(list)")
            #expect(Set(listed) == Set(Self.names))

            // Run them all once; then LIKE-style characters in a name select only that job's history.
            let runner = try await sandbox.startRegisteredRunner()
            try await waitUntil("every hostile job ran", timeout: .seconds(30)) {
                try sandbox.probe().jobCount(state: "done") == Self.names.count
            }
            try await sandbox.drainAll([runner])
            for name in ["%", "_", "a_c", "*"] {
                let history = try await sandbox.jobctlOK(["history", name, "--json"])
                let jobs = try #require(JSONText.column(history.stdout, "job"), "history --json: \(history)")
                #expect(jobs == [name], "history \(name) shows only its own runs: \(jobs)")
            }
            let tables = try sandbox.probe().tableCount(named: ["jobs", "runs", "runners"])
            #expect(tables == 3)
            #expect(try sandbox.probe().runCount(outcome: "ok") == Self.names.count)
            #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/id"), "something was run")
            for name in Self.names { try await sandbox.jobctlOK(["remove", name]) }
            #expect(try sandbox.probe().jobCount() == 0)
            let invariants = try sandbox.expectInvariants()
            Figures.report(
                sandbox.store.figures("10a hostile names and payloads"),
                ["names": Self.names.count, "payloads": Self.payloads.count, "violations": invariants.violations.count])
        }

        @Test(
            "bad names, payloads and commands are refused by the documented limits, in one line, changing nothing",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func refusedInput() async throws { try await Self.refusedInput(on: .sqlite) }

        static func refusedInput(on store: StoreKind) async throws {
            try await Sandbox.with("hostile-refused", store: store) { sandbox in
                let tick = ["--every", "1h", "--handler", "tick"]
                let cases: [(what: String, arguments: [String])] = [
                    ("a newline in a name", ["add", "two\nlines"] + tick),
                    ("a tab in a name", ["add", "tab\there"] + tick),
                    ("an escape sequence in a name", ["add", "\u{1B}[2J\u{1B}[31mred"] + tick),
                    ("DEL in a name", ["add", "del\u{7F}"] + tick),
                    ("a C1 control in a name", ["add", "c1\u{85}"] + tick),
                    ("an empty name", ["add", ""] + tick),
                    ("a name starting with -", ["add", "--", "-dash"] + tick),
                    ("spaces around a name", ["add", " padded "] + tick),
                    ("a 201-byte name", ["add", String(repeating: "n", count: 201)] + tick),
                    ("a 10 KB name", ["add", String(repeating: "'); DROP TABLE jobs;-- ", count: 440)] + tick),
                    ("a payload that is not JSON", ["add", "p1", "--payload", "{'single': quotes}"] + tick),
                    ("a payload with a raw escape", ["add", "p2", "--payload", "\"\u{1B}[2J\""] + tick),
                    (
                        "a payload over 64 KiB",
                        ["add", "p3", "--payload", "\"" + String(repeating: "x", count: 65_535) + "\""] + tick
                    ),
                    (
                        "1025 arguments",
                        ["add", "c1", "--every", "1h", "--", "/bin/true"] + Array(repeating: "a", count: 1024)
                    ),
                    (
                        "a command over 128 KiB",
                        ["add", "c2", "--every", "1h", "--", "/bin/true"]
                            + Array(repeating: String(repeating: "b", count: 70_000), count: 2)
                    ),
                    ("an empty command", ["add", "c3", "--every", "1h", "--", ""]),
                    (
                        "a relative working directory",
                        ["add", "c4", "--every", "1h", "--cwd", "relative/dir", "--", "/bin/true"]
                    ),
                    ("a newline in a queue name", ["add", "q1", "--queue", "bad\nqueue"] + tick),
                ]
                for (what, arguments) in cases {
                    let result = try await sandbox.jobctl(arguments)
                    #expect(result.status == .exited(64), "\(what): \(result)")
                    let stderr = Array(result.stderr.utf8)
                    #expect(
                        result.stderrLines.count == 1 && result.stderrLines[0].hasPrefix("jobctl: error: "),
                        "\(what): one line: \(result)")
                    #expect(!stderr.contains(0x1B), "\(what): the error echoes a raw escape character")
                }
                if try sandbox.storeExists() {
                    #expect(try sandbox.probe().jobCount() == 0, "a refused add wrote a job")
                }
                Figures.report(store.figures("10b refused input"), ["cases": cases.count])
            }
        }

        @Test(
            "invalid UTF-8 in a name, a payload or a command is refused clearly or kept byte for byte",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func invalidUTF8() async throws { try await Self.invalidUTF8(on: .sqlite) }

        static func invalidUTF8(on store: StoreKind) async throws {
            try await Sandbox.with("hostile-utf8", store: store) { sandbox in
                let bad: [UInt8] = Array("bad".utf8) + [0xFF, 0xFE] + Array("name".utf8)
                let cases: [(what: String, arguments: [[UInt8]])] = [
                    (
                        "a name",
                        [Array("add".utf8), bad] + ["--every", "1h", "--handler", "tick"].map { Array($0.utf8) }
                    ),
                    (
                        "a payload",
                        ["add", "utf8-payload", "--every", "1h", "--handler", "tick", "--payload"].map {
                            Array($0.utf8)
                        }
                            + [[0x22] + [0xC3, 0x28] + [0x22]]
                    ),
                    (
                        "a command argument",
                        ["add", "utf8-command", "--in", "0s", "--", "/usr/bin/printf", "%s"].map { Array($0.utf8) } + [
                            bad
                        ]
                    ),
                ]
                for (what, arguments) in cases {
                    let result = try await sandbox.jobctl(bytes: arguments)
                    if result.status == .exited(0) {
                        Issue.record(
                            "invalid UTF-8 in \(what) was accepted and silently replaced (U+FFFD), not kept byte for byte nor refused: \(result)"
                        )
                    } else {
                        #expect(result.status == .exited(64), "\(what): \(result)")
                        #expect(
                            result.stderrLines.count == 1 && result.stderrLines[0].contains("UTF-8"),
                            "\(what): one line that names the problem: \(result)")
                    }
                }
                // A refusal before anything is opened leaves no database (no schema) at all, which is fine too.
                if try sandbox.storeExists() {
                    let stored = try sandbox.probe().jobs()
                    #expect(stored.isEmpty, "jobs stored from invalid UTF-8: \(stored)")
                }
            }
        }

        @Test(
            "a command's argv and payload are passed literally: no shell, no globbing, no substitution",
            .timeLimit(ChaosMode.timeLimit(short: 2))
        )
        func literalArguments() async throws { try await Self.literalArguments(on: .sqlite) }

        static func literalArguments(on store: StoreKind) async throws {
            try await Sandbox.with("hostile-argv", store: store) { sandbox in
                let arguments = [
                    "$(id)", "`id`", ";", "*", "|", "&&", "$HOME", "a'b", "c\"d", #"back\slash"#, "; touch canary", ">",
                    "redirected", "\u{202E}rtl", "two\nlines", "", "  spaced  ", "%s %n", "~",
                ]
                let payload = #"{"cmd":"$(touch canary2)","glob":"*"}"#
                try await sandbox.jobctlOK(
                    ["add", "argv", "--in", "0s", "--", "/usr/bin/printf", "[%s]\n"] + arguments)
                try await sandbox.jobctlOK(
                    ["add", "payload", "--in", "0s", "--payload", payload, "--", "/usr/bin/printenv", "JOB_PAYLOAD"])
                let runner = try await sandbox.startRegisteredRunner()
                try await waitUntil("both commands ran", timeout: .seconds(30)) {
                    try sandbox.probe().runs().filter { $0.outcome != "running" }.count == 2
                }
                try await sandbox.drainAll([runner])
                let byName = Dictionary(uniqueKeysWithValues: try sandbox.probe().runs().map { ($0.job, $0) })
                #expect(byName["argv"]?.outcome == "ok")
                #expect(
                    byName["argv"]?.output == arguments.map { "[\($0)]\n" }.joined(),
                    "argv passed literally: \(String(describing: byName["argv"]?.output))")
                #expect(byName["payload"]?.output == payload + "\n", "payload passed literally")
                for file in ["canary", "canary2", "redirected"] {
                    #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/" + file), "\(file) was created")
                }
                let invariants = try sandbox.expectInvariants()
                Figures.report(
                    store.figures("10c literal argv"),
                    ["arguments": arguments.count, "violations": invariants.violations.count])
            }
        }

        @Test(
            "a command that writes gigabytes keeps the runner's memory bounded and its history to the tail",
            .timeLimit(ChaosMode.timeLimit(short: 3))
        )
        func gigabytesOfOutput() async throws { try await Self.gigabytesOfOutput(on: .sqlite) }

        static func gigabytesOfOutput(on store: StoreKind) async throws {
            let bytes = ChaosMode.count(short: 1 << 30, long: 4 << 30)
            try await Sandbox.with("hostile-output", store: store) { sandbox in
                let runner = try await sandbox.startRegisteredRunner()
                let baseline = try #require(ProcessTable.memoryKiB(of: runner.pid, field: "VmHWM"))
                try await sandbox.jobctlOK(
                    [
                        "add", "firehose", "--in", "0s", "--", "/bin/sh", "-c",
                        "yes 'hostile output that never ends' | head -c \(bytes); echo; echo END-OF-OUTPUT",
                    ])
                let started = ContinuousClock.now
                try await waitUntil("the firehose ran", timeout: .seconds(600), interval: .milliseconds(50)) {
                    try sandbox.probe().runs().filter { $0.outcome != "running" }.count == 1
                }
                let took = ContinuousClock.now - started
                let peak = try #require(ProcessTable.memoryKiB(of: runner.pid, field: "VmHWM"))
                try await sandbox.drainAll([runner])
                let run = try #require(try sandbox.probe().runs().first)
                #expect(run.outcome == "ok")
                let output = run.output ?? ""
                // The last 4 KiB, after a one-line marker saying how much was dropped.
                let marker = output.prefix { $0 != "\n" }
                #expect(
                    marker.contains("\(bytes + 15 - 4096) bytes truncated"),
                    "the marker says what was dropped: \(marker)")
                #expect(output.utf8.count - marker.utf8.count - 1 == 4096, "the history keeps the last 4 KiB")
                #expect(output.hasSuffix("END-OF-OUTPUT\n"), "the history keeps the tail")
                let growth = peak - baseline
                #expect(
                    growth < 64 * 1024, "the runner's peak memory grew by \(growth) KiB for \(bytes) bytes of output")
                Figures.report(
                    store.figures("10d gigabytes of output"),
                    [
                        "output_bytes": bytes, "seconds": took.seconds, "runner_peak_growth_kib": growth,
                        "history_bytes": output.utf8.count,
                    ])
            }
        }
    }
}
