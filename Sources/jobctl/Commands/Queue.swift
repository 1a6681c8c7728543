import ArgumentParser
import JobRunner

struct Queue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Worker queues: list, pause, resume, set-concurrency, remove.",
        discussion: """
            A queue exists once a job uses it (`jobctl add … --queue Q`). Its concurrency limit holds \
            across all runners; a run holds its slot until it ends, even if its job is removed meanwhile.

            Examples:
              jobctl queue list
              jobctl queue set-concurrency reports 2
              jobctl queue pause reports
            """,
        subcommands: [ListQueues.self, PauseQueue.self, ResumeQueue.self, SetConcurrency.self, RemoveQueue.self],
        defaultSubcommand: ListQueues.self
    )

    /// A queue name argument: refused as a usage error (64) before the database is opened.
    static func validate(_ name: String) throws {
        do {
            try JobDefinition.validateName(name, what: "queue name")
        } catch let error as JobRunnerError {
            throw ValidationError(error.message)
        }
    }

    struct ListQueues: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List queues with their limit, state and runs in flight.",
            discussion: "Example: jobctl queue list --json"
        )
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print one JSON document.") var json = false

        struct QueueJSON: Encodable {
            var name: String
            var concurrency: Int
            var paused: Bool
            var inFlight: Int

            init(name: String, concurrency: Int, paused: Bool, inFlight: Int) {
                self.name = name
                self.concurrency = concurrency
                self.paused = paused
                self.inFlight = inFlight
            }

            /// The document of one queue in `queue list --json` (and `serve`'s `/api/queues`).
            init(_ queue: QueueRecord) {
                self.init(
                    name: queue.name, concurrency: queue.concurrency, paused: queue.paused, inFlight: queue.inFlight)
            }
        }

        func run() async throws {
            let queues = try await global.openStore().queues()
            if json {
                try Output.json(queues.map(QueueJSON.init))
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
            commandName: "pause", abstract: "Pause a queue: no new runs start; runs in flight finish.",
            discussion: "Example: jobctl queue pause reports"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The queue.") var name: String
        func validate() throws { try Queue.validate(name) }
        func run() async throws {
            try await global.openStore().setQueuePaused(name, true)
            print("paused queue \(Output.cell(name, limit: 80))")
        }
    }

    struct ResumeQueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume", abstract: "Resume a paused queue.",
            discussion: "Example: jobctl queue resume reports"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The queue.") var name: String
        func validate() throws { try Queue.validate(name) }
        func run() async throws {
            try await global.openStore().setQueuePaused(name, false)
            print("resumed queue \(Output.cell(name, limit: 80))")
        }
    }

    struct SetConcurrency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-concurrency",
            abstract: "Set the most runs of a queue in flight at once, across all runners.",
            discussion: """
                The queue must exist (a job uses it) unless --create is given, which makes it so that its \
                limit holds before its first job is added.

                Examples:
                  jobctl queue set-concurrency reports 2
                  jobctl queue set-concurrency imports 1 --create
                """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The queue.") var name: String
        // Captured as text, so that a negative number is refused for what it is rather than taken
        // for an option.
        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The limit (1 to 100000).", valueName: "concurrency"))
        var limit: [String] = []
        @Flag(help: "Create the queue if no job uses it yet.") var create = false

        var concurrency: Int { limit.first.flatMap { Int($0) } ?? 0 }

        func validate() throws {
            try Queue.validate(name)
            guard limit.count == 1 else {
                throw ValidationError(
                    limit.isEmpty
                        ? "the concurrency limit is missing" : "give one concurrency limit, not \(limit.count)")
            }
            guard let value = Int(limit[0]), (1...100_000).contains(value) else {
                throw ValidationError(
                    "concurrency must be a whole number between 1 and 100000, not \(JobRunnerErrorText.quoted(limit[0]))"
                )
            }
        }
        func run() async throws {
            // With --create, a limit can be the first thing set, before any job: the database too is made.
            try await global.openStore(create: create).setQueueConcurrency(name, concurrency, create: create)
            print("queue \(Output.cell(name, limit: 80)): concurrency \(concurrency)")
        }
    }

    struct RemoveQueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a queue that no job uses and no run holds.",
            discussion: "Example: jobctl queue remove imports"
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The queue.") var name: String
        func validate() throws { try Queue.validate(name) }
        func run() async throws {
            try await global.openStore().removeQueue(name)
            print("removed queue \(Output.cell(name, limit: 80))")
        }
    }
}
