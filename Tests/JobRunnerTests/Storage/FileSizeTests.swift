import CSQLite
import Foundation
import Testing

@testable import JobRunner

/// A second connection that holds a read snapshot, as an analyst's `sqlite3` session left in a
/// transaction does, until ``release()``.
final class SnapshotReader {
    private var handle: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw HarnessError("cannot open \(path)")
        }
        try run("BEGIN")
        try run("SELECT count(*) FROM jobs")  // the snapshot is taken at the first read
    }

    private func run(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw HarnessError("\(sql): \(String(cString: sqlite3_errmsg(handle)))")
        }
    }

    func release() {
        sqlite3_exec(handle, "COMMIT", nil, nil, nil)
        sqlite3_close_v2(handle)
        handle = nil
    }

    deinit { if handle != nil { release() } }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The size of a file in bytes, 0 if it does not exist.
func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? 0
}

/// Waits until `condition` holds, checking every 10 ms; false once `timeout` has passed.
func eventually(within timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(10))  // hang guard: polling interval of a deadline-bounded wait
    }
}

@Suite("The write-ahead log stays bounded", .timeLimit(.minutes(1)))
struct WALSizeTests {
    /// A small limit, so that the tests write little.
    static let limit = 2 << 20

    @Test(
        "after a reader that held a snapshot lets go, the log is back under the limit within 10 s, while a runner writes"
    )
    func logShrinksAfterTheReaderLetsGo() async throws {
        let configuration = JobStore.Configuration(walSizeLimit: Self.limit)
        try await withTemporaryDatabase(configuration: configuration) { store, path in
            try await store.add(
                JobDefinition(name: "fast", action: .handler("tick"), schedule: .every(.milliseconds(5))))
            try await store.rawExecute("CREATE TABLE ballast (b BLOB)")
            let runner = JobRunner(
                store: store,
                configuration: JobRunnerConfiguration(concurrency: 2, changePollInterval: nil, host: "test-host"),
                logger: quietLogger
            )
            try await withRunner(runner) { events in
                let reader = try SnapshotReader(path: path)
                // Four times the limit, in commits of 256 KiB: no checkpoint can copy it past the reader.
                for _ in 0..<32 {
                    try await store.rawExecute("INSERT INTO ballast VALUES (zeroblob(262144))")
                }
                _ = await events.finished(3)  // the runner goes on meanwhile
                let held = fileSize(path + "-wal")
                #expect(held > Int64(3 * Self.limit), "the log should have grown under the reader: \(held) bytes")

                reader.release()
                let shrunk = await eventually(within: .seconds(10)) { fileSize(path + "-wal") <= Int64(Self.limit) }
                #expect(shrunk, "the log is still \(fileSize(path + "-wal")) bytes 10 s after the reader let go")
                _ = await events.finished(3)  // and the runner still runs
            }
        }
    }

    @Test("with no reader, many commits leave the log under the limit")
    func steadyStateStaysUnderTheLimit() async throws {
        // A limit large enough that the writer's inline checkpoint, at half of it, has room to wait
        // for a background checkpoint that is busy syncing, as the default 64 MiB has.
        let limit = 8 << 20
        try await withTemporaryDatabase(configuration: JobStore.Configuration(walSizeLimit: limit)) { store, path in
            try await store.rawExecute("CREATE TABLE ballast (b BLOB)")
            var largest: Int64 = 0
            // Five times the limit in all, in commits of three pages, as fast as they go.
            for _ in 0..<3500 {
                try await store.rawExecute("INSERT INTO ballast VALUES (zeroblob(10000))")
                largest = max(largest, fileSize(path + "-wal"))
            }
            #expect(largest <= Int64(limit), "the log reached \(largest) bytes")
        }
    }
}
