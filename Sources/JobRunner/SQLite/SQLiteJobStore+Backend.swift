import Foundation

extension SQLiteJobStore {
    package nonisolated func publicError(_ error: any Error) -> any Error {
        Self.publicError(error)
    }

    /// A ``JobStoreError`` for an ``SQLiteError``, keeping its extended code and one-line description.
    static func publicError(_ error: any Error) -> any Error {
        guard let error = error as? SQLiteError else { return error }
        let kind: JobStoreError.Kind
        switch error.code.primary {
        case ResultCode.busy, ResultCode.locked: kind = .busy
        case ResultCode.readOnly, ResultCode.permission: kind = .readOnly
        case ResultCode.full: kind = .full
        case ResultCode.notADatabase: kind = .notADatabase
        case ResultCode.corrupt: kind = .corrupt
        case ResultCode.cantOpen: kind = .unavailable
        default: kind = .other
        }
        return JobStoreError(
            kind: kind, backend: "SQLite", code: Int(error.code.rawValue), message: error.message,
            description: error.description)
    }

    /// `wal-checkpoint` (``checkpoint()``) and `optimize` (``optimize()``).
    package nonisolated func maintenanceHandlers() -> [String: JobRegistry.Handler] {
        [
            "wal-checkpoint": { _ in try await self.checkpoint() },
            "optimize": { _ in try await self.optimize() },
        ]
    }

    package nonisolated func changeFeed(pollInterval: Duration, clock: any JobClock) -> any StoreChangeFeed {
        SQLiteChangeFeed(
            store: self, monitor: DatabaseChangeMonitor(databasePath: path, recheckAfter: pollInterval),
            interval: pollInterval, clock: clock)
    }
}

/// Changes by other processes to one SQLite file: file notifications (inotify) where the platform
/// has them, so an idle runner costs no CPU, else a poll every `interval`; either way confirmed by
/// `PRAGMA data_version`, which this connection's own commits do not change. (A notification can
/// come a moment before its commit can be read; the monitor notifies again `interval` later.)
struct SQLiteChangeFeed: StoreChangeFeed {
    let store: SQLiteJobStore
    let monitor: DatabaseChangeMonitor?
    let interval: Duration
    let clock: any JobClock

    func run(onChange: @escaping @Sendable () async -> Void) async {
        var last = (try? await store.dataVersion()) ?? 0
        func check() async {
            guard let version = try? await store.dataVersion(), version != last else { return }
            last = version
            await onChange()
        }
        if let monitor {
            defer { monitor.stop() }
            for await _ in monitor.changes { await check() }
            return
        }
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: clock.now() + interval.microseconds)
            } catch {
                return
            }
            await check()
        }
    }

    func arm() { monitor?.arm() }

    func disarm() { monitor?.disarm() }
}
