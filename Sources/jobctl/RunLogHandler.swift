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
        StandardError.write(line + "\n")
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
