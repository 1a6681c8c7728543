import ArgumentParser
import JobRunner

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete run history older than a duration and free the disk space it took. Counters are kept.",
        discussion: """
            Runs still in flight are never deleted; each job's counters (runs, ok, failed) and the totals \
            by outcome stay as they were. The pages the deleted runs took are returned to the file system \
            in small steps, each about as short as a runner's claim, and the command says how much the \
            database file shrank. (A database created before JobRunner freed space this way is rebuilt \
            once by its first prune, with VACUUM.) A runner also prunes on its own: see `jobctl run \
            --help` (--keep-history, --keep-runs).

            Example: jobctl prune --older-than 30d
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Delete runs that finished longer ago than this.", valueName: "duration"))
    var olderThan: String

    func validate() throws {
        _ = try Parse.duration(olderThan, flag: "--older-than")
    }

    func run() async throws {
        let store = try await global.openStore()
        let age = try Parse.duration(olderThan, flag: "--older-than")
        let before = try await store.storageSize()
        let deleted = try await store.prune(finishedBefore: store.clock.now() - age.microseconds)
        let after = try await store.storageSize()
        let freed = max(0, before.bytes - after.bytes)
        print(
            "deleted \(Output.count(deleted, "run")); the database file went from \(Self.size(before.bytes)) to "
                + "\(Self.size(after.bytes)) (\(Self.size(freed)) returned to the file system)"
        )
    }

    /// Bytes for people: `0 B`, `812 KiB`, `28.7 MiB`, `1.2 GiB`.
    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let rounded = value >= 100 ? "\(Int(value.rounded()))" : "\((value * 10).rounded() / 10)"
        return "\(rounded) \(units[unit])"
    }
}
