import Foundation
import Testing

/// Short mode (inside `swift test`, small counts) or long mode (`scripts/chaos`, full counts).
///
/// The mode comes from the environment, so the same scenarios run in both:
/// `RELIABILITY_MODE=long` selects the full counts, `RELIABILITY_SEED=N` replays the random choices of
/// an earlier run (every scenario prints the seed it used), and `RELIABILITY_REPORT=PATH` appends each
/// scenario's figures to PATH as one JSON object per line (what `scripts/chaos` summarises).
enum ChaosMode {
    static let environment = ProcessInfo.processInfo.environment

    /// True in long mode.
    static let isLong = environment["RELIABILITY_MODE"] == "long"

    /// The count for this mode.
    static func count(short: Int, long: Int) -> Int { isLong ? long : short }

    /// A span for this mode.
    static func span(short: Duration, long: Duration) -> Duration { isLong ? long : short }

    /// The hang guard of a scenario: generous, since the machine is shared; long mode gets an hour.
    static func timeLimit(short minutes: Int) -> TimeLimitTrait.Duration {
        .minutes(isLong ? 60 : minutes)
    }

    /// The seed of a scenario: `RELIABILITY_SEED` if set, else a fresh one (printed by the scenario).
    static func seed() -> UInt64 {
        if let text = environment["RELIABILITY_SEED"], let value = UInt64(text) { return value }
        return UInt64.random(in: 1...UInt64.max)
    }

    static var modeName: String { isLong ? "long" : "short" }
}

/// The figures a scenario reports: printed on one line, and appended to `RELIABILITY_REPORT` if set.
enum Figures {
    static func report(_ scenario: String, _ values: KeyValuePairs<String, any Sendable>) {
        var object: [String: Any] = ["scenario": scenario, "mode": ChaosMode.modeName]
        var printed: [String] = []
        for (key, value) in values {
            switch value {
            case let number as Int: object[key] = number
            case let number as Int64: object[key] = number
            case let number as Double: object[key] = (number * 1000).rounded() / 1000
            case let flag as Bool: object[key] = flag
            default: object[key] = "\(value)"
            }
            printed.append("\(key)=\(object[key] ?? "")")
        }
        print("[reliability] \(scenario) (\(ChaosMode.modeName) mode): " + printed.joined(separator: " "))
        guard let path = ChaosMode.environment["RELIABILITY_REPORT"], !path.isEmpty,
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        else { return }
        guard let handle = FileHandle(forWritingAtPath: path) ?? createAndOpen(path) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: data + Data("\n".utf8))
    }

    private static func createAndOpen(_ path: String) -> FileHandle? {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return FileHandle(forWritingAtPath: path)
    }
}
