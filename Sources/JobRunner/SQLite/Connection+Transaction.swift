import CSQLite

extension Connection {
    /// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT`.
    ///
    /// On error the transaction is rolled back (if SQLite has not already done so) and the first
    /// error is rethrown. A nested call uses a savepoint instead.
    ///
    /// - Important: never DEFERRED: a deferred transaction that later upgrades to a write lock fails
    ///   with `SQLITE_BUSY` without waiting, which no busy timeout can fix.
    func write<T>(_ body: () throws -> T) throws -> T {
        if inTransaction {
            try execute("SAVEPOINT nested")
            do {
                let result = try body()
                try execute("RELEASE nested")
                return result
            } catch {
                try? execute("ROLLBACK TO nested")
                try? execute("RELEASE nested")
                throw error
            }
        }
        return try transaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` inside a read transaction, so that its queries see one snapshot.
    func read<T>(_ body: () throws -> T) throws -> T {
        if inTransaction { return try body() }
        return try transaction("BEGIN DEFERRED", body)
    }

    /// `begin` … `COMMIT`; on error, `ROLLBACK` if SQLite has not already rolled back, and rethrow the first error.
    private func transaction<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if inTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }
}
