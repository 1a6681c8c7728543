import CSQLite
import Dispatch
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
/// threshold, for example while the checkpointer's file system stalls), the writer checkpoints inline
/// as SQLite would, so the log stays bounded.
///
/// Related SQLite documentation: <https://www.sqlite.org/wal.html#automatic_checkpoint>,
/// <https://www.sqlite.org/c3ref/wal_hook.html>.
final class BackgroundCheckpointer: Sendable {
    /// Log pages that start a background checkpoint: SQLite's own automatic checkpoint threshold.
    static let threshold: Int32 = 1000
    /// Log pages, as a multiple of the threshold, at which the writer checkpoints inline.
    static let fallbackFactor: Int32 = 8

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

    init(path: String, options: Connection.Options) {
        self.path = path
        self.options = options
        queue = DispatchQueue(label: "JobRunner checkpointer \(path)", qos: .utility)
    }

    /// Checkpoints finished in the background (for tests and diagnostics).
    var completedCheckpoints: Int { completed.load(ordering: .relaxed) }

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
        if pages >= Self.threshold * Self.fallbackFactor, let writer {
            // The background checkpoint has not kept up: bound the log as SQLite itself would.
            // Busy (the background one is running) is fine: the log is being copied already.
            sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        let last = queuedAtPages.load(ordering: .relaxed)
        let grown = pages < last ? pages : pages - last  // smaller than before: the log started over
        guard grown >= Self.threshold,
            queued.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        queuedAtPages.store(pages, ordering: .relaxed)
        queue.async { self.checkpoint() }
    }

    private func checkpoint() {
        queued.store(false, ordering: .releasing)
        state.withLock { state in
            guard case .open(let existing) = consume state else {
                state = .closed
                return
            }
            let connection: Connection
            if let existing {
                connection = existing
            } else {
                do {
                    connection = try Connection(path: path, options: options)
                } catch {
                    // The writer's fallback bounds the log; the next commit past the threshold retries.
                    state = .open(nil)
                    return
                }
            }
            // Copies what no reader still needs; never waits for a lock (busy is not an error here).
            let rc = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            if rc == SQLITE_OK { completed.add(1, ordering: .relaxed) }
            state = .open(connection)
        }
    }

    /// Closes the checkpointer's connection, waiting for a checkpoint in progress; later requests do nothing.
    func close() {
        state.withLock { state in state = .closed }
    }
}
