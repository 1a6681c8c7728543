import CSQLite
import Dispatch
import Foundation
import Synchronization

/// Runs WAL checkpoints on a second connection, off the writer's path.
///
/// SQLite's automatic checkpoint runs inside the `COMMIT` that pushes the write-ahead log past
/// 1,000 pages: it copies the log into the database file and syncs both, a few milliseconds during
/// which the writer (the runner's claim or finish) waits. Here the writer's connection has a WAL hook
/// instead; when the log passes ``threshold`` pages, the hook hands a `PASSIVE` checkpoint to a
/// dedicated queue with its own connection. A `PASSIVE` checkpoint takes no write lock and waits for
/// nobody, so claims and finishes go on while it copies.
///
/// Should the background checkpoint fall behind (the log reaches ``fallbackFactor`` times the
/// threshold, or half the size limit if that is less, for example while the disk stalls in the
/// checkpoint's sync), the writer waits for the checkpoint in progress and then checkpoints inline,
/// as SQLite's own automatic checkpoint would: that commit's caller waits for the disk, and the log
/// stays under the size limit. (A checkpoint run by another process on the same file is not waited
/// for: the writer's inline checkpoint is then skipped, as SQLite's would be.)
///
/// A reader that holds a snapshot (an analyst's `sqlite3` session) keeps every checkpoint from copying
/// what was committed after its snapshot, so the log grows for as long as it holds on. Once the log is
/// over the size limit (``Connection/Options/walSizeLimit``), the writer no longer checkpoints inline
/// (copying a long backlog inside a commit would stall claims for as long); the checkpointer instead
/// tries to shrink the log (`shrink(retryAfter:)`) until it is back under the limit: `PASSIVE`
/// checkpoints to copy the backlog without locks, then, once nothing older than the log is read any
/// more, a `TRUNCATE` checkpoint that empties the file. Its connection has no busy timeout, so that
/// attempt never waits for a lock: while a reader still holds on it fails at once and is retried later.
/// Once the backlog is copied, the writer checkpoints inline again (only what was committed since),
/// starts the log over at its next commit and, through `journal_size_limit`, cuts the file back to
/// the limit: whichever comes first. Either way, cutting a large file back takes the write lock for
/// as long as the file system needs to free its blocks, once.
///
/// Related SQLite documentation: <https://www.sqlite.org/wal.html#automatic_checkpoint>,
/// <https://www.sqlite.org/c3ref/wal_hook.html>, <https://www.sqlite.org/wal.html#avoiding_excessively_large_wal_files>.
final class BackgroundCheckpointer: Sendable {
    /// Set on the queues background checkpoints run on: `DispatchQueue.getSpecific(key:)` tells
    /// code that SQLite calls back (a VFS in tests) whether it runs in one.
    static let queueKey = DispatchSpecificKey<Bool>()
    /// Log pages that start a background checkpoint: SQLite's own automatic checkpoint threshold.
    static let threshold: Int32 = 1000
    /// Log pages, as a multiple of the threshold, at which the writer checkpoints inline.
    static let fallbackFactor: Int32 = 8
    /// The first wait before a failed attempt to shrink the log is repeated; it doubles up to ``maximumShrinkRetry``.
    static let firstShrinkRetry: Duration = .milliseconds(100)
    /// The longest wait between attempts to shrink the log while a reader holds on to it.
    static let maximumShrinkRetry: Duration = .seconds(2)

    private enum State: ~Copyable {
        case open(Connection?)
        case closed
    }

    private let path: String
    private let options: Connection.Options
    private let queue: DispatchQueue
    /// True from the moment a checkpoint is queued until it begins, so that commits in between
    /// queue no second one.
    private let queued = Atomic<Bool>(false)
    /// The log's size in pages when the last checkpoint was queued. The log keeps its size after a
    /// checkpoint until a writer starts it over (which needs a moment with no reader in it), so the
    /// size alone would queue a checkpoint at every commit; its growth since the last one does not.
    private let queuedAtPages = Atomic<Int32>(0)
    private let state = Mutex<State>(.open(nil))
    private let completed = Atomic<Int>(0)
    private let shrinks = Atomic<Int>(0)
    private let inlined = Atomic<Int>(0)
    /// True while an attempt to shrink the log is queued or waiting to be retried.
    private let shrinking = Atomic<Bool>(false)
    /// False from the moment the log is found over the size limit until the checkpointer has copied
    /// its backlog (no reader holds it any more): meanwhile the writer does not checkpoint inline.
    private let backlogCopied = Atomic<Bool>(true)
    /// Log pages that start a background checkpoint, and at which the writer checkpoints inline.
    private let threshold: Int32
    private let fallback: Int32
    /// Log pages past which the log is over the size limit.
    private let limitPages: Int32

    /// A checkpointer for the database at `path` whose pages are `pageSize` bytes.
    ///
    /// The thresholds are SQLite's (1,000 pages, 8 × that inline) unless the size limit is so small
    /// that they would not keep the log under it; then they are an eighth and a half of the limit.
    init(path: String, options: Connection.Options, pageSize: Int) {
        self.path = path
        self.options = options
        queue = DispatchQueue(label: "JobRunner checkpointer \(path)", qos: .utility)
        queue.setSpecific(key: Self.queueKey, value: true)
        // Each frame of the log is a page and a 24-byte header.
        let frames = max(Int64(16), options.walSizeLimit / Int64(max(512, pageSize) + 24))
        limitPages = Int32(clamping: frames)
        threshold = min(Self.threshold, max(1, limitPages / 8))
        fallback = min(Self.threshold * Self.fallbackFactor, max(threshold, limitPages / 2))
    }

    /// Checkpoints finished in the background (for tests and diagnostics).
    var completedCheckpoints: Int { completed.load(ordering: .relaxed) }

    /// Times the log was emptied after it had grown over the size limit (for tests and diagnostics).
    var completedShrinks: Int { shrinks.load(ordering: .relaxed) }

    /// Commits that checkpointed inline because the background checkpoint had fallen behind (for
    /// tests and diagnostics).
    var inlineCheckpoints: Int { inlined.load(ordering: .relaxed) }

    /// Installs the WAL hook on `connection` (the writer), replacing SQLite's automatic checkpoint.
    /// The connection keeps this object alive for as long as the hook can fire.
    func install(on connection: Connection) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_wal_hook(
            connection.handle,
            { context, db, _, pages in
                guard let context else { return SQLITE_OK }
                Unmanaged<BackgroundCheckpointer>.fromOpaque(context).takeUnretainedValue()
                    .logGrew(to: pages, writer: db)
                return SQLITE_OK
            },
            context
        )
    }

    /// Called by SQLite after each commit on the writer, with the log's size in pages.
    private func logGrew(to pages: Int32, writer: OpaquePointer?) {
        if pages > limitPages {
            // Only a reader holding an old snapshot (or one huge commit) gets the log here. Copying
            // it inline would hold this commit's caller for the whole backlog: shrink it in the
            // background, and checkpoint inline again only once the backlog has been copied there.
            requestShrink()
            guard backlogCopied.load(ordering: .acquiring) else { return }
        }
        if pages >= fallback, let writer {
            // The background checkpoint has not kept up (its sync stalls, or this writer outpaces
            // it): wait for the one in progress, then copy the rest here, as SQLite's own automatic
            // checkpoint would. Holding the checkpointer's lock keeps the next background checkpoint
            // from taking SQLite's checkpoint lock in between, which would make this one busy.
            inlined.add(1, ordering: .relaxed)
            state.withLock { _ in
                _ = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            return
        }
        let last = queuedAtPages.load(ordering: .relaxed)
        let grown = pages < last ? pages : pages - last  // smaller than before: the log started over
        guard grown >= threshold,
            queued.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        queuedAtPages.store(pages, ordering: .relaxed)
        queue.async { self.checkpoint() }
    }

    private func checkpoint() {
        queued.store(false, ordering: .releasing)
        passiveCheckpoint()
    }

    private func passiveCheckpoint() {
        withConnection { handle in
            // Copies what no reader still needs; never waits for a lock (busy is not an error here).
            let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            if rc == SQLITE_OK { completed.add(1, ordering: .relaxed) }
        }
    }

    /// Checkpoints on the checkpointer's connection and returns when done: a `PASSIVE` checkpoint,
    /// which also truncates the database file to its size once every frame is copied (after an
    /// incremental vacuum, this is when the file actually shrinks).
    func checkpointNow() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.passiveCheckpoint()
                continuation.resume()
            }
        }
    }

    /// Runs `body` with the handle of the checkpointer's connection, opening it on first use; nil once
    /// closed, or if the connection cannot be opened (the writer's fallback bounds the log; the next
    /// request retries).
    private func withConnection<T: Sendable>(_ body: @Sendable (OpaquePointer) -> T) -> T? {
        state.withLock { state -> T? in
            guard case .open(let existing) = consume state else {
                state = .closed
                return nil
            }
            let connection: Connection
            if let existing {
                connection = existing
            } else {
                do {
                    connection = try Connection(path: path, options: options)
                } catch {
                    state = .open(nil)
                    return nil
                }
                // Checkpoints here must never wait for a lock: an attempt that would is simply retried.
                sqlite3_busy_timeout(connection.handle, 0)
            }
            let result = body(connection.handle)
            state = .open(connection)
            return result
        }
    }

    // MARK: Shrinking the log

    /// Starts shrinking the log unless an attempt is already queued or waiting to be retried.
    private func requestShrink() {
        guard shrinking.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        backlogCopied.store(false, ordering: .releasing)
        queue.async { self.shrink(retryAfter: Self.firstShrinkRetry) }
    }

    /// Brings the log back under the size limit, or tries again after `retryAfter` (doubling up to
    /// ``maximumShrinkRetry``) while a reader still holds an old snapshot. Never waits for a lock.
    private func shrink(retryAfter: Duration) {
        let done =
            withConnection { handle -> Bool in
                // Copy what can be copied without any lock, again and again while that makes
                // progress: each pass leaves only what the writer committed during it. No progress
                // means a reader holds an old snapshot: try again later.
                var lastCopied: Int32 = -1
                for _ in 0..<100 where walFileSize() > options.walSizeLimit {
                    var logFrames: Int32 = 0
                    var copiedFrames: Int32 = 0
                    let passive = sqlite3_wal_checkpoint_v2(
                        handle, nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copiedFrames)
                    guard passive == SQLITE_OK, copiedFrames != lastCopied else { return false }
                    lastCopied = copiedFrames
                    guard logFrames - copiedFrames <= threshold else { continue }
                    // What is left is about what was committed since: the writer may checkpoint inline
                    // again, which lets it start the log over (and truncate it to the limit) at its next commit.
                    backlogCopied.store(true, ordering: .releasing)
                    // Empty the file now if possible: this takes the write lock (without waiting for
                    // it) to copy the few frames committed since, and succeeds only if no reader is
                    // inside the log. Busy otherwise; the writer's next restart then does it.
                    let truncate = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
                    if truncate == SQLITE_OK {
                        completed.add(1, ordering: .relaxed)
                        shrinks.add(1, ordering: .relaxed)
                        return true
                    }
                    return walFileSize() <= options.walSizeLimit
                }
                return walFileSize() <= options.walSizeLimit  // else the writer outpaced 100 passes: later
            } ?? true  // closed (or cannot open): nothing to retry
        if done {
            backlogCopied.store(true, ordering: .releasing)
            shrinking.store(false, ordering: .releasing)
            return
        }
        let next = min(retryAfter * 2, Self.maximumShrinkRetry)
        let delay = Int(clamping: retryAfter.microseconds)
        queue.asyncAfter(deadline: .now() + .microseconds(delay)) { self.shrink(retryAfter: next) }
    }

    /// The size of the `-wal` file in bytes (0 when it does not exist).
    private func walFileSize() -> Int64 {
        var info = stat()
        guard stat(path + "-wal", &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }

    /// Closes the checkpointer's connection, waiting for a checkpoint in progress; later requests do nothing.
    func close() {
        state.withLock { state in state = .closed }
    }
}
