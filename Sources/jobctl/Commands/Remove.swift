import ArgumentParser
import JobRunner

struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a job. Its run history is kept; a run in flight goes on to its end.",
        discussion: "Example: jobctl remove rotate"
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's name.")
    var name: String

    func run() async throws {
        let store = try await global.openStore()
        let inFlight = try await store.remove(name)
        print("removed \(Output.cell(name, limit: 80))")
        if let inFlight {
            print(
                "its run \(inFlight) in flight was not stopped: it goes on to its end, is recorded in the history, and holds its queue slot until then (a run claimed ahead of its due time that has not begun is recalled instead)"
            )
        }
    }
}
