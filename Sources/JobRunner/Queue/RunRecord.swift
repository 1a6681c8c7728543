/// One run of a job, as recorded in the history.
public struct RunRecord: Sendable, Hashable {
    /// The run id.
    public package(set) var id: Int64
    /// The job's id, or nil if the job has since been removed.
    public package(set) var jobID: Int64?
    /// The job's name when it ran.
    public package(set) var jobName: String
    /// 1 for the first attempt of an occurrence, 2 for its first retry, …
    public package(set) var attempt: Int
    /// When the run was due.
    public package(set) var scheduledFor: UnixMicros
    /// When it started.
    public package(set) var startedAt: UnixMicros
    /// When it ended, or nil while running.
    public package(set) var finishedAt: UnixMicros?
    /// The runner that ran it.
    public package(set) var runnerID: Int64?
    /// How it ended.
    public package(set) var outcome: RunOutcome
    /// A command's exit code.
    public package(set) var exitCode: Int?
    /// The error text of a failed, timed-out, interrupted or abandoned run.
    public package(set) var error: String?
    /// The tail of a command's output as text for people: NUL, other control characters (but
    /// newline, carriage return and tab) and bytes that are not UTF-8 are shown as `\xNN`.
    public var output: String? { outputBytes.map(RunRecord.displayText) }
    /// The tail of a command's output, as the bytes it wrote.
    public package(set) var outputBytes: [UInt8]?
    /// True when started by a manual trigger.
    public package(set) var triggered: Bool

    /// `bytes` as UTF-8 text with what a terminal or a reader should not get raw escaped as `\xNN`.
    static func displayText(_ bytes: [UInt8]) -> String {
        var out = ""
        var index = 0
        func escape(_ byte: UInt8) {
            out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                if (byte < 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09) || byte == 0x7F {
                    escape(byte)
                } else {
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                }
                index += 1
                continue
            }
            // One UTF-8 sequence, decoded if it is valid and whole; else its first byte is escaped.
            let length = byte >= 0xF0 ? 4 : (byte >= 0xE0 ? 3 : (byte >= 0xC0 ? 2 : 1))
            if length > 1, index + length <= bytes.count,
                let scalar = String(validating: bytes[index..<(index + length)], as: UTF8.self)?.unicodeScalars.first
            {
                out.unicodeScalars.append(scalar)
                index += length
            } else {
                escape(byte)
                index += 1
            }
        }
        return out
    }

    /// Started minus scheduled, in microseconds.
    public var lateness: Int64 { startedAt - scheduledFor }
}
