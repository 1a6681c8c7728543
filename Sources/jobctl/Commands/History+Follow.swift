import Foundation
import JobRunner
import UnixSignals

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension History {
    /// How often `--follow` looks at the database's change counter.
    static let followInterval: Duration = .milliseconds(200)

    /// `history --follow`: the last runs, then each run as it finishes, until SIGINT or SIGTERM.
    func followRuns(_ store: JobStore) async throws {
        let outcome = status.flatMap(RunOutcome.init(rawValue:))
        // Trap the signals before printing anything: whoever sees the first line may send one.
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        // The cursor first: whatever finishes after it is reported by the loop, never by the backlog.
        let start = try await store.runCursor(job: name)
        let backlog = try await store.history(
            HistoryQuery(
                job: name,
                since: try since.map { try Parse.since($0, flag: "--since", now: store.clock.now()) },
                outcome: outcome,
                limit: limit
            )
        ).filter {
            // Not a run the cursor waits for (in flight, or on PostgreSQL not yet visible when it was taken).
            $0.finishedAt != nil && $0.id <= start.lastID && !start.pending.contains($0.id)
                && start.unsettled[$0.id] == nil
        }
        let printer = FollowPrinter(json: json)
        printer.header()
        printer.print(backlog.reversed())

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in signals { return }
            }
            tasks.addTask {
                var cursor = start
                while !Task.isCancelled {
                    // Read until caught up (a burst may be more than one read's worth). A read
                    // that finds nothing new is two index lookups.
                    while true {
                        let (runs, next) = try await store.finishedRuns(after: cursor)
                        let grew = next.lastID != cursor.lastID
                        cursor = next
                        printer.print(runs.filter { outcome == nil || $0.outcome == outcome })
                        if !grew { break }
                    }
                    try await Task.sleep(for: History.followInterval)
                }
            }
            try await tasks.next()
            tasks.cancelAll()
            do {
                try await tasks.waitForAll()
            } catch is CancellationError {
                // The poller was cancelled mid-sleep: the normal end.
            }
        }
    }
}

/// Prints runs one line each with fixed columns (the table cannot be laid out in advance), or one
/// compact JSON object a line, flushing after each batch so that a pipe sees them at once.
struct FollowPrinter: Sendable {
    var json: Bool

    static let columns: [(String, Int)] = [
        ("RUN", 8), ("JOB", 24), ("TRY", 3), ("FINISHED", 23), ("DURATION", 12), ("OUTCOME", 11), ("DETAIL", 0),
    ]

    func header() {
        guard !json else { return }
        write([FollowPrinter.line(FollowPrinter.columns.map(\.0))])
    }

    func print(_ runs: [RunRecord]) {
        guard !runs.isEmpty else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            write(runs.compactMap { (try? encoder.encode(RunJSON($0))).map { String(decoding: $0, as: UTF8.self) } })
        } else {
            write(runs.map { FollowPrinter.line(FollowPrinter.cells($0)) })
        }
    }

    static func cells(_ run: RunRecord) -> [String] {
        var detail = run.error ?? ""
        if let code = run.exitCode, detail.isEmpty, run.outcome != .ok { detail = "exit \(code)" }
        if run.triggered { detail = detail.isEmpty ? "triggered" : "triggered; " + detail }
        return [
            "\(run.id)", Output.cell(run.jobName, limit: 24), "\(run.attempt)",
            run.finishedAt.map { Output.localTime($0, milliseconds: true) } ?? "-",
            run.finishedAt.map { Output.millis($0 - run.startedAt) } ?? "-", run.outcome.rawValue,
            Output.cell(detail, limit: 80),
        ]
    }

    static func line(_ cells: [String]) -> String {
        var out = ""
        for (index, cell) in cells.enumerated() {
            let width = index < columns.count ? columns[index].1 : 0
            out +=
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(0, width - cell.count) + 2)
        }
        return out
    }

    private func write(_ lines: [String]) {
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
