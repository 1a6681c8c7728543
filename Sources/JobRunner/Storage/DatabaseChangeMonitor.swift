import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Tells when another process may have written to the database, without polling: Linux inotify
/// on the database's directory, filtered to the database file and its `-wal` and `-shm` companions.
///
/// A dedicated thread blocks in `poll(2)` on the inotify descriptor (and on a pipe used to stop it),
/// so an idle runner costs no CPU and no cooperative thread. Notifications are coalesced: a burst of
/// writes wakes the consumer once. The consumer confirms a real change with `PRAGMA data_version`.
final class DatabaseChangeMonitor: Sendable {
    /// The notifications; one element per burst of changes.
    let changes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let inotifyFD: Int32
    private let stopPipe: (read: Int32, write: Int32)

    /// Starts watching, or returns nil where inotify is not available (the caller then polls).
    init?(databasePath: String) {
        #if os(Linux)
            let url = URL(fileURLWithPath: databasePath)
            let directory = url.deletingLastPathComponent().path
            let prefix = url.lastPathComponent
            let fd = inotify_init1(Int32(IN_CLOEXEC))
            guard fd >= 0 else { return nil }
            let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
            guard inotify_add_watch(fd, directory, mask) >= 0 else {
                close(fd)
                return nil
            }
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else {
                close(fd)
                return nil
            }
            // Children never see these: command jobs are spawned with every descriptor above 2 closed.
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            inotifyFD = fd
            stopPipe = (fds[0], fds[1])
            (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let thread = Thread { [inotifyFD, stopPipe, continuation] in
                DatabaseChangeMonitor.watch(
                    fd: inotifyFD, stop: stopPipe.read, prefix: prefix, continuation: continuation)
            }
            thread.name = "JobRunner change monitor"
            thread.start()
        #else
            return nil
        #endif
    }

    /// Stops the thread and ends the stream.
    func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
    }

    #if os(Linux)
        private static func watch(
            fd: Int32,
            stop: Int32,
            prefix: String,
            continuation: AsyncStream<Void>.Continuation
        ) {
            defer {
                close(fd)
                close(stop)
                continuation.finish()
            }
            let prefixBytes = Array(prefix.utf8)
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var descriptors = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0),
            ]
            while true {
                descriptors[0].revents = 0
                descriptors[1].revents = 0
                let ready = poll(&descriptors, 2, -1)
                if ready < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if descriptors[1].revents != 0 { return }
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0 && errno == EINTR { continue }
                    return
                }
                if Self.mentions(prefixBytes, in: buffer, count: count) { continuation.yield(()) }
            }
        }

        /// True if any event in the buffer names a file starting with the database's file name.
        private static func mentions(_ prefix: [UInt8], in buffer: [UInt8], count: Int) -> Bool {
            let header = MemoryLayout<inotify_event>.size
            var offset = 0
            while offset + header <= count {
                let length = buffer.withUnsafeBytes {
                    Int($0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                }
                let nameStart = offset + header
                if length == 0 { return true }  // an event on the directory itself: be safe
                if nameStart + prefix.count <= count,
                    buffer[nameStart..<(nameStart + prefix.count)].elementsEqual(prefix)
                {
                    return true
                }
                offset = nameStart + length
            }
            return false
        }
    #endif

    deinit {
        close(stopPipe.write)
    }
}
