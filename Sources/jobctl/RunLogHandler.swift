import Foundation
import JobRunner
import Logging

/// One line per log event on stderr: local time, level, message, metadata.
///
/// `jobctl run` logs each run as, for example:
/// `2026-11-25 10:00:00.123 info run finished job.name=tick run.outcome=ok run.duration_ms=0.05 run.lateness_ms=0.21`
///
/// With ``Format/json`` (`jobctl run --log-format json`), each line is one JSON object for journald,
/// Loki or jq: `time` (RFC 3339 UTC), `level`, `message`, `label`, and the metadata as fields of
/// their own (strings; nested metadata as arrays and objects). A metadata key that would clash
/// with one of those four is prefixed with `metadata.`.
struct RunLogHandler: LogHandler {
    /// The shape of a line.
    enum Format: String, CaseIterable, Sendable {
        case text
        case json
    }

    var format: Format = .text
    var label = "jobctl"
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
        let line =
            format == .json
            ? RunLogHandler.jsonLine(
                time: now, level: event.level, message: "\(event.message)", label: label, metadata: merged)
            : RunLogHandler.textLine(time: now, level: event.level, message: "\(event.message)", metadata: merged)
        StandardError.write(line + "\n")
    }

    static func textLine(time: UnixMicros, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = Output.localTime(time, milliseconds: true) + " \(level) \(message)"
        for key in metadata.keys.sorted() {
            // A value with spaces or quotes is quoted (logfmt), so that each key=value stays one field.
            let value = metadata[key].map { "\($0)" } ?? ""
            let plain = !value.isEmpty && !value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" })
            let quoted =
                "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                + "\""
            line += " \(key)=\(plain ? value : quoted)"
        }
        return line.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static let reservedKeys: Set<String> = ["time", "level", "message", "label"]

    static func jsonLine(
        time: UnixMicros, level: Logger.Level, message: String, label: String, metadata: Logger.Metadata
    ) -> String {
        var object: [String: Any] = [
            "time": Timestamp.formatRFC3339UTC(time), "level": level.rawValue, "message": message, "label": label,
        ]
        for (key, value) in metadata {
            object[reservedKeys.contains(key) ? "metadata." + key : key] = jsonValue(value)
        }
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: options) else {
            return #"{"level":"error","message":"a log event could not be encoded as JSON"}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func jsonValue(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(jsonValue)
        case .dictionary(let dictionary): dictionary.mapValues(jsonValue)
        }
    }
}

/// Writes to stderr with write(2), ignoring failures: after the terminal closes (SIGHUP) or a log
/// pipe's reader exits, a log line must not bring the runner down (FileHandle traps on EIO/EPIPE).
enum StandardError {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                Foundation.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset)
            }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}
