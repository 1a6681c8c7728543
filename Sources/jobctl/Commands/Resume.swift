import ArgumentParser
import JobRunner

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resume a paused or stopped job.",
        discussion: """
            A paused job keeps its schedule (missed runs follow its misfire policy); a stopped job is \
            rescheduled from now.

            Example: jobctl resume rotate
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The job's name.")
    var name: String

    func run() async throws {
        let store = try await global.openStore()
        let job = try await store.resume(name)
        print("resumed \(job.definition.name), next run \(Output.time(job.nextRunAt, now: store.clock.now()))")
    }
}
