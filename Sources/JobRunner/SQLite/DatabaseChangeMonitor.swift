import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Tells when another process may have written to the database, without polling: Linux inotify
/// on the database's directory, filtered to the database file and its `-wal` and `-shm` companions.
///
/// A dedicated thread blocks in `poll(2)` on the inotify descriptor (and on pipes used to arm and to
/// stop it), so an idle runner costs no CPU and no cooperative thread. Notifications are coalesced: a
/// burst of writes wakes the consumer once, and once more when it is over (see below). The consumer
/// confirms a real change with `PRAGMA data_version`.
///
/// The runner's own writes change the same files, one event per page written. So the monitor
/// reports only while it is *armed*, which the runner does just before it waits, and disarms when
/// it wakes: while the runner claims and records, events stay queued in the kernel (identical ones
/// merged) and are read at the next arming. Nothing is lost: a change made while disarmed is
/// either seen by the runner's next claim or still queued when it arms again.
///
/// A notification can come before the commit that caused it can be read: a writer appends its pages
/// to the `-wal` file, which inotify reports, and only then publishes the commit in the `-shm` index,
/// through shared memory, which inotify never reports. So once a burst has been quiet for the
/// recheck delay, the monitor notifies once more: a commit not yet readable at the first
/// notification is readable by then.
final class DatabaseChangeMonitor: Sendable {
    /// The notifications; one element per burst of changes.
    let changes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let inotifyFD: Int32
    private let stopPipe: (read: Int32, write: Int32)
    private let armPipe: (read: Int32, write: Int32)
    private let armed = Atomic<Bool>(false)
    /// How long a burst must have been quiet before its second notification, in milliseconds.
    private let recheckMilliseconds: Int32

    /// Starts watching, or returns nil where inotify is not available (the caller then polls).
    init?(databasePath: String, recheckAfter recheck: Duration) {
        recheckMilliseconds = Int32(clamping: max(1, recheck.microseconds / 1000))
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
            // Children never see these: command jobs are spawned with every descriptor above 2 closed.
            var fds: [Int32] = [0, 0]
            var armFDs: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else {
                close(fd)
                return nil
            }
            guard pipe(&armFDs) == 0 else {
                close(fd)
                close(fds[0])
                close(fds[1])
                return nil
            }
            for descriptor in fds + armFDs { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            // Arming never blocks, and the thread drains the arm pipe without blocking.
            for descriptor in armFDs { _ = fcntl(descriptor, F_SETFL, O_NONBLOCK) }
            inotifyFD = fd
            stopPipe = (fds[0], fds[1])
            armPipe = (armFDs[0], armFDs[1])
            (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let thread = Thread { [self] in
                self.watch(prefix: prefix)
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

    /// Reports changes from now on, including those already queued, until ``disarm()``.
    func arm() {
        guard !armed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(armPipe.write, &byte, 1)
    }

    /// Stops reporting (events stay queued until the next ``arm()``).
    func disarm() {
        armed.store(false, ordering: .releasing)
    }

    #if os(Linux)
        private func watch(prefix: String) {
            defer {
                close(inotifyFD)
                close(stopPipe.read)
                close(armPipe.read)
                continuation.finish()
            }
            let prefixBytes = Array(prefix.utf8)
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var descriptors = [
                pollfd(fd: inotifyFD, events: 0, revents: 0),
                pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: armPipe.read, events: Int16(POLLIN), revents: 0),
            ]
            // A burst was reported: report it again once it has been quiet for the recheck delay.
            var recheckOwed = false
            while true {
                // Disarmed, the inotify descriptor is not polled: events wait in the kernel's queue.
                descriptors[0].events = armed.load(ordering: .acquiring) ? Int16(POLLIN) : 0
                for index in descriptors.indices { descriptors[index].revents = 0 }
                let ready = poll(&descriptors, nfds_t(descriptors.count), recheckOwed ? recheckMilliseconds : -1)
                if ready < 0 {
                    if errno == EINTR { continue }
                    return
                }
                if ready == 0 {
                    recheckOwed = false
                    if armed.load(ordering: .acquiring) { continuation.yield(()) }
                    continue
                }
                if descriptors[1].revents != 0 { return }
                if descriptors[2].revents != 0 {
                    _ = buffer.withUnsafeMutableBytes { read(armPipe.read, $0.baseAddress, $0.count) }
                }
                guard descriptors[0].revents != 0, armed.load(ordering: .acquiring) else { continue }
                let count = buffer.withUnsafeMutableBytes { read(inotifyFD, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0 && errno == EINTR { continue }
                    return
                }
                if Self.mentions(prefixBytes, in: buffer, count: count) {
                    continuation.yield(())
                    recheckOwed = true
                }
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
        close(armPipe.write)
    }
}
