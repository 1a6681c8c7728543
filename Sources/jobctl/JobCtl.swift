import ArgumentParser

@main
struct JobCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobctl",
        abstract: "Add, run, inspect and drain durable jobs kept in one SQLite file.",
        version: "0.1.0",
        subcommands: []
    )
}
