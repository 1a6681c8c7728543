import ArgumentParser
import JobRunner

struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Worker queues: list, pause, resume, set-concurrency.",
        discussion: "Example: jobctl queue set-concurrency reports 2",
        subcommands: [ListQueues.self, PauseQueue.self, ResumeQueue.self, SetConcurrency.self],
        defaultSubcommand: ListQueues.self
    )

    struct ListQueues: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List queues.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON document.") var json = false

        struct QueueJSON: Encodable {
            var name: String
            var concurrency: Int
            var paused: Bool
            var inFlight: Int
        }

        func run() async throws {
            let queues = try await global.openStore().queues()
            if json {
                try Output.json(
                    queues.map {
                        QueueJSON(name: $0.name, concurrency: $0.concurrency, paused: $0.paused, inFlight: $0.inFlight)
                    })
                return
            }
            Output.table(
                ["QUEUE", "CONCURRENCY", "STATE", "IN FLIGHT"],
                queues.map {
                    [
                        Output.cell($0.name, limit: 40), "\($0.concurrency)", $0.paused ? "paused" : "active",
                        "\($0.inFlight)",
                    ]
                }
            )
        }
    }

    struct PauseQueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pause", abstract: "Pause a queue: no new runs start; runs in flight finish."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The queue.") var name: String
        func run() async throws {
            try await global.openStore().setQueuePaused(name, true)
            print("paused queue \(name)")
        }
    }

    struct ResumeQueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused queue.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The queue.") var name: String
        func run() async throws {
            try await global.openStore().setQueuePaused(name, false)
            print("resumed queue \(name)")
        }
    }

    struct SetConcurrency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-concurrency",
            abstract: "Set the most runs of a queue in flight at once, across all runners."
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The queue.") var name: String
        @Argument(help: "The limit (1 or more).") var concurrency: Int
        func validate() throws {
            if concurrency < 1 || concurrency > 100_000 {
                throw ValidationError("concurrency must be between 1 and 100000")
            }
        }
        func run() async throws {
            try await global.openStore().setQueueConcurrency(name, concurrency)
            print("queue \(name): concurrency \(concurrency)")
        }
    }
}
