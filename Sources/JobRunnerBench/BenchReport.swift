import Foundation

/// A bound a figure is held to: `>= value` or `<= value`.
struct BenchTarget: Sendable, Encodable {
    enum Comparison: String, Sendable, Encodable {
        case atLeast = ">="
        case atMost = "<="
    }

    var comparison: Comparison
    var value: Double

    static func atLeast(_ value: Double) -> BenchTarget { BenchTarget(comparison: .atLeast, value: value) }
    static func atMost(_ value: Double) -> BenchTarget { BenchTarget(comparison: .atMost, value: value) }

    func isMet(by figure: Double) -> Bool {
        switch comparison {
        case .atLeast: figure >= value
        case .atMost: figure <= value
        }
    }

    var text: String { "\(comparison.rawValue) \(BenchFormat.number(value))" }
}

/// One figure measured once.
struct BenchMeasurement: Sendable {
    var key: String
    var label: String
    var unit: String
    var value: Double
    var target: BenchTarget?
}

/// What one repetition of a scenario measured.
struct BenchRun: Sendable {
    var measurements: [BenchMeasurement] = []
    var parameters: [String: String] = [:]
    var samples: [String: [Double]] = [:]
    var notes: [String] = []

    mutating func add(_ key: String, _ label: String, _ value: Double, unit: String, target: BenchTarget? = nil) {
        measurements.append(BenchMeasurement(key: key, label: label, unit: unit, value: value, target: target))
    }

    mutating func note(_ text: String) {
        if !notes.contains(text) { notes.append(text) }
    }
}

/// A figure over all repetitions, as reported.
struct BenchMetric: Sendable, Encodable {
    var key: String
    var label: String
    var unit: String
    var values: [Double]
    var min: Double
    var median: Double
    var max: Double
    /// The target, if the issue sets one, checked against the median.
    var target: String?
    var met: Bool?
}

/// A scenario over all repetitions.
struct BenchScenarioReport: Sendable, Encodable {
    var name: String
    var repetitions: Int
    var parameters: [String: String]
    var metrics: [BenchMetric]
    var notes: [String]
    var samples: [String: [Double]]?

    init(name: String, runs: [BenchRun], includeSamples: Bool) {
        self.name = name
        repetitions = runs.count
        var parameters: [String: String] = [:]
        var notes: [String] = []
        var order: [String] = []
        var byKey: [String: (first: BenchMeasurement, values: [Double])] = [:]
        var samples: [String: [Double]] = [:]
        for run in runs {
            parameters.merge(run.parameters) { old, _ in old }
            for note in run.notes where !notes.contains(note) { notes.append(note) }
            for measurement in run.measurements {
                if byKey[measurement.key] == nil {
                    order.append(measurement.key)
                    byKey[measurement.key] = (measurement, [])
                }
                byKey[measurement.key]?.values.append(measurement.value)
            }
            for (key, values) in run.samples { samples[key, default: []] += values }
        }
        self.parameters = parameters
        self.notes = notes
        self.samples = includeSamples && !samples.isEmpty ? samples : nil
        metrics = order.compactMap { key in
            guard let entry = byKey[key] else { return nil }
            let sorted = entry.values.sorted()
            let median = BenchStatistics.median(sorted)
            return BenchMetric(
                key: key, label: entry.first.label, unit: entry.first.unit, values: entry.values,
                min: sorted.first ?? .nan, median: median, max: sorted.last ?? .nan,
                target: entry.first.target?.text, met: entry.first.target?.isMet(by: median)
            )
        }
    }
}

/// The whole benchmark, as printed with `--json`.
package struct BenchDocument: Sendable, Encodable {
    struct Machine: Sendable, Encodable {
        var cpus: Int
        var cpuModel: String
        var memoryGiB: Double
        var kernel: String
        var sqlite: String
        var directory: String
        var filesystem: String
        /// /proc/loadavg when the benchmark started and ended: the machine may be shared.
        var loadAverageStart: String
        var loadAverageEnd: String
        /// The benchmark's nice value (children inherit it).
        var nice: Int32
        /// The PostgreSQL server of the side-by-side scenarios: its version and settings.
        var postgres: String?
    }

    var tool = "jobctl bench"
    var startedAt: String
    var quick: Bool
    var repetitions: Int
    var machine: Machine
    var scenarios: [BenchScenarioReport]
}

enum BenchStatistics {
    /// The median of sorted values.
    static func median(_ sorted: [Double]) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The nearest-rank percentile `p` (0...100) of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

package enum BenchFormat {
    /// A figure with a precision that suits its size.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "-" }
        let magnitude = abs(value)
        if magnitude >= 1000 { return grouped(Int64(value.rounded())) }
        if magnitude >= 100 { return String(format: "%.0f", value) }
        if magnitude >= 10 { return String(format: "%.1f", value) }
        if magnitude >= 1 { return String(format: "%.2f", value) }
        if magnitude == 0 { return "0" }
        return String(format: "%.3f", value)
    }

    static func grouped(_ value: Int64) -> String {
        let digits = String(abs(value))
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    /// The human table: one line per metric.
    package static func table(_ document: BenchDocument) -> String {
        var lines: [String] = []
        let machine = document.machine
        lines.append(
            "jobctl bench — \(machine.cpus) CPUs (\(machine.cpuModel)), \(String(format: "%.0f", machine.memoryGiB)) GiB, "
                + "kernel \(machine.kernel), SQLite \(machine.sqlite), \(machine.filesystem) at \(machine.directory)")
        if let postgres = machine.postgres { lines.append("PostgreSQL \(postgres)") }
        lines.append(
            "load average \(machine.loadAverageStart) at the start, \(machine.loadAverageEnd) at the end; nice \(machine.nice)"
        )
        lines.append(
            "\(document.repetitions) repetition(s)\(document.quick ? ", quick counts" : ""); "
                + "min / median / max over repetitions; targets are checked on the median")
        for scenario in document.scenarios {
            lines.append("")
            let parameters = scenario.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            lines.append("[\(scenario.name)] " + parameters.joined(separator: " "))
            let header = ["metric", "min", "median", "max", "unit", "target", ""]
            var rows: [[String]] = []
            for metric in scenario.metrics {
                rows.append([
                    metric.label, number(metric.min), number(metric.median), number(metric.max), metric.unit,
                    metric.target ?? "", metric.met.map { $0 ? "met" : "MISSED" } ?? "",
                ])
            }
            lines.append(contentsOf: aligned(header, rows, rightAligned: [1, 2, 3]))
            for note in scenario.notes { lines.append("  note: \(note)") }
        }
        return lines.joined(separator: "\n")
    }

    private static func aligned(_ header: [String], _ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = Swift.max(widths[index], cell.count) }
        }
        return ([header] + rows).map { row in
            var line = "  "
            for (index, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                line += rightAligned.contains(index) ? pad + cell : cell + pad
                if index < row.count - 1 { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}
