import Foundation
import TestSupport

@testable import JobRunner

/// Shared helpers for the scheduling tests (namespaced to avoid clashes in the host test target).
enum SchedulingFixtures {
    /// Instant (Unix µs) for an RFC 3339 literal.
    static func instant(_ text: String) throws -> Int64 {
        try Timestamp.parseRFC3339(text)
    }

    static func zone(_ name: String) throws -> TimeZone {
        try TimeZoneName.resolve(name)
    }

    /// The next `count` firings after `start`, formatted as UTC RFC 3339.
    static func firings(_ expression: String, after start: String, in zoneName: String = "UTC", count: Int) throws
        -> [String]
    {
        let cron = try CronExpression(expression)
        let tz = try zone(zoneName)
        var t = try instant(start)
        var out: [String] = []
        for _ in 0..<count {
            guard let n = cron.next(after: t, in: tz) else { break }
            out.append(Timestamp.formatRFC3339UTC(n))
            t = n
        }
        return out
    }

    static func cronError(_ text: String) -> String {
        do {
            _ = try CronExpression(parsing: text)
            return "no error"
        } catch {
            return error.description
        }
    }

    /// A random, mostly valid cron expression built from typical field shapes.
    static func randomExpression(_ rng: inout SeededRandom, sixFields: Bool) -> String {
        func item(_ low: Int, _ high: Int, _ rng: inout SeededRandom) -> String {
            let a = low + Int(rng.next() % UInt64(high - low + 1))
            let b = a + Int(rng.next() % UInt64(high - a + 1))
            let step = 1 + Int(rng.next() % UInt64(max(1, (high - low) / 2)))
            switch rng.next() % 7 {
            case 0: return "*"
            case 1: return "*/\(step)"
            case 2: return "\(a)"
            case 3: return "\(a)-\(b)"
            case 4: return "\(a)-\(b)/\(step)"
            case 5: return "\(a)/\(step)"
            default: return "\(a),\(b)"
            }
        }
        var fields: [String] = []
        let ranges = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
        for (index, range) in ranges.enumerated() where index > 0 || sixFields {
            fields.append(item(range.0, range.1, &rng))
        }
        return fields.joined(separator: " ")
    }
}
