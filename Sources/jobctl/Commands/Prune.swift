import ArgumentParser
import JobRunner

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete run history older than a duration. Counters are kept.",
        discussion: "Example: jobctl prune --older-than 30d"
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
        let deleted = try await store.prune(finishedBefore: store.clock.now() - age.microseconds)
        print("deleted \(deleted) runs")
    }
}
