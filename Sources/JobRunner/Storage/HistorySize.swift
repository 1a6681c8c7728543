/// The size of the database file, in pages, and how many of them are free.
package struct StorageSize: Sendable, Hashable {
    /// Bytes per page.
    package var pageSize: Int
    /// Pages the database takes.
    package var pages: Int
    /// Pages that hold nothing: space the database could give back to the file system.
    package var freePages: Int

    package init(pageSize: Int, pages: Int, freePages: Int) {
        self.pageSize = pageSize
        self.pages = pages
        self.freePages = freePages
    }

    /// The size of the database file in bytes (the `-wal` file not included).
    package var bytes: Int64 { Int64(pageSize) * Int64(pages) }
    /// The bytes of free pages.
    package var freeBytes: Int64 { Int64(pageSize) * Int64(freePages) }
}

/// What a prune did.
public struct PruneResult: Sendable, Hashable {
    /// Runs deleted.
    public var deletedRuns: Int
    /// Bytes the database file shrank by.
    public var freedBytes: Int64

    /// Creates a result.
    public init(deletedRuns: Int, freedBytes: Int64) {
        self.deletedRuns = deletedRuns
        self.freedBytes = freedBytes
    }
}
