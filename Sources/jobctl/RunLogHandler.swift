import Foundation
import Logging

/// One compact line per log event on stderr: local time, level, message, metadata.
///
/// `jobctl run` logs each run as, for example:
/// `2026-11-25 10:00:00.123 info run finished job.name=tick run.outcome=ok run.duration_ms=0.05 run.lateness_ms=0.21`
struct RunLogHandler: LogHandler {
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
        let now = Date().timeIntervalSince1970
        var line = Output.localTime(Int64(now * 1_000_000), milliseconds: true) + " \(event.level) \(event.message)"
        for key in merged.keys.sorted() {
            line += " \(key)=\(merged[key].map { "\($0)" } ?? "")"
        }
        line = line.split(whereSeparator: \.isNewline).joined(separator: " ")
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
