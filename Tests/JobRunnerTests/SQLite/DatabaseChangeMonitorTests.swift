import Foundation
import Testing

@testable import JobRunner

#if os(Linux)
    @Suite("Database change monitor")
    struct DatabaseChangeMonitorTests {
        /// A writer appends to the `-wal` file (the event) before it publishes the commit in the
        /// `-shm` index (no event): a reader woken by the event can look too early, and no event
        /// follows to wake it again. The monitor reports each burst a second time once it is quiet.
        @Test("one write is reported twice: at once, and again once quiet, for a commit not yet readable")
        func burstIsReportedAgainOnceQuiet() async throws {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("jobrunner-monitor-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/jobs.sqlite"
            // Created and opened before the watch begins, and kept open: one write is one event.
            #expect(FileManager.default.createFile(atPath: path + "-wal", contents: nil))
            let wal = try #require(FileHandle(forWritingAtPath: path + "-wal"))
            defer { try? wal.close() }
            let monitor = try #require(DatabaseChangeMonitor(databasePath: path, recheckAfter: .milliseconds(100)))
            defer { monitor.stop() }
            monitor.arm()

            let (listening, listener) = AsyncStream.makeStream(of: Void.self)
            let reports = await withTaskGroup(of: Int.self) { group in
                group.addTask {
                    var count = 0
                    listener.yield(())
                    for await _ in monitor.changes {
                        count += 1
                        if count == 2 { break }
                    }
                    return count
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(10))  // the deadline; the monitor ends it sooner
                    return -1
                }
                for await _ in listening { break }
                wal.write(Data("frame".utf8))
                var results: [Int] = []
                if let first = await group.next() { results.append(first) }
                group.cancelAll()
                for await result in group { results.append(result) }
                return results.max() ?? 0
            }
            #expect(reports == 2, "one write, reported \(reports) times within 10 s")
        }
    }
#endif
