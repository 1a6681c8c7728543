import ArgumentParser
import JobRunner

struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a job. Its run history is kept.",
        discussion: "Example: jobctl remove rotate"
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's name.")
    var name: String

    func run() async throws {
        let store = try await global.openStore()
        try await store.remove(name)
        print("removed \(name)")
    }
}
