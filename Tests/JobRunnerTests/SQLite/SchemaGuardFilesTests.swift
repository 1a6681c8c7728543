import Foundation
import TestSupport
import Testing

@testable import JobRunner

/// The schema guard reads a file that is not JobRunner's without leaving anything beside it.
@Suite("The schema guard on damaged files")
struct SchemaGuardFilesTests {
    /// A SQLite header whose read version (byte 19) says WAL, then garbage: SQLite's read-only open
    /// of it would create `-wal` and `-shm` files (1 garbage file in 256 has this byte).
    @Test("garbage after a header that says WAL is refused, and no -wal or -shm file appears")
    func walHeaderGarbage() async throws {
        try await withTemporaryDirectory { directory in
            for (index, version): (Int, UInt8) in [(0, 2), (1, 1)] {
                let path = directory + "/garbage-\(index).sqlite"
                var bytes = Array("SQLite format 3\0".utf8) + [0x10, 0x00, version, version]
                var random = SeededRandom(seed: 19 + UInt64(index))
                bytes += (0..<8192).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                #expect(throws: (any Error).self, "read version \(version)") {
                    try SchemaGuard.inspect(path: path, busyTimeout: .seconds(1))
                }
                for suffix in ["-wal", "-shm", "-journal"] {
                    #expect(!FileManager.default.fileExists(atPath: path + suffix), "\(path)\(suffix) was created")
                }
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes), "the file was changed")
            }
        }
    }
}
