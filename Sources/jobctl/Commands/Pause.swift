import ArgumentParser
import JobRunner

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause a job: it keeps its schedule but does not run until resumed.",
        discussion: """
            A run in flight is left to finish; a run claimed ahead of its due time that has not begun \
            (PostgreSQL's claim lead) is recalled, recorded interrupted, and runs once the job is resumed.

            Example: jobctl pause rotate
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's name.")
    var name: String

    func run() async throws {
        let store = try await global.openStore()
        let job = try await store.pause(name)
        print("paused \(job.definition.name)")
    }
}
