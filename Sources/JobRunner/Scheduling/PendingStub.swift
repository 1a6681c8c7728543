public import Foundation
// Temporary stand-ins until the scheduling math lands.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ text: String) throws(ScheduleError) { description = text }
    public func next(after instant: Int64, in timeZone: TimeZone) -> Int64? { instant + 60_000_000 }
    public func validateFires(from instant: Int64, in timeZone: TimeZone) throws(ScheduleError) {}
}
public enum Timestamp { public static func formatRFC3339UTC(_ m: Int64) -> String { "\(m)" }; public static func parseRFC3339(_ s: String) throws(ScheduleError) -> Int64 { 0 } }
enum TimeZoneName { static func resolve(_ n: String) throws(ScheduleError) -> TimeZone { TimeZone(identifier: n)! } }
enum OccurrenceMath {
    static func latestSlot(atOrBefore now: Int64, startingAt first: Int64, next: (Int64) -> Int64?) -> Int64 { first }
    static func recentSlots(atOrBefore now: Int64, startingAt first: Int64, limit: Int, next: (Int64) -> Int64?) -> [Int64] { [first] }
}
