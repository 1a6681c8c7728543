import ArgumentParser
import JobRunner

struct Trigger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a job now, without moving its schedule.",
        discussion: "A runner picks it up within its change-detection interval. Example: jobctl trigger rotate"
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's name.")
    var name: String

    func run() async throws {
        let store = try await global.openStore()
        let job = try await store.trigger(name)
        print("triggered \(job.definition.name)")
    }
}
