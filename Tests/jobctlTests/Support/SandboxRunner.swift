import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A foreground runner and its end, for the tests of the everyday tools.
extension Sandbox {
    /// Starts `jobctl run` and waits until `status --json` shows it alive.
    func startRunner(_ options: [String] = []) async throws -> ChildProcess {
        if !FileManager.default.fileExists(atPath: db) { try await succeed(["status", "--json"]) }
        let runner = try launchJobctl(["run"] + options)
        try await waitUntil("the runner (pid \(runner.pid)) is registered") {
            if runner.hasExited { throw HarnessError("the runner exited early:\n\(runner.result())") }
            let runners = try await status()["runners"] as? [[String: Any]] ?? []
            return runners.contains { int($0["pid"]) == Int(runner.pid) && $0["state"] as? String == "running" }
        }
        return runner
    }

    /// Signals a process (SIGTERM by default) and requires it to exit 0.
    func stopCleanly(
        _ process: ChildProcess, signal: Int32 = SIGTERM, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ProcessResult {
        process.signal(signal)
        guard await process.waitForExit(timeout: .seconds(60)) else {
            process.killAndReap()
            throw HarnessError("did not exit after signal \(signal):\n\(process.result())")
        }
        let result = process.result()
        #expect(result.exitedNormally && result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return result
    }

    /// Waits until `name` has a run that ended with `outcome`, and returns the newest such run.
    func waitForRun(_ name: String, outcome: String) async throws -> [String: Any] {
        var found: [String: Any]?
        try await waitUntil("\(name) has a run that ended \(outcome)") {
            found = try await history(name, status: outcome).first
            return found != nil
        }
        return try #require(found)
    }
}
