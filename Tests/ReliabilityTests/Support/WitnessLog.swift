import Foundation

/// The witness log written by `scripts/reliability/witness`: one `begin` and one `end` line per
/// execution of a command job, outside the database, in the order things really happened.
struct WitnessLog {
    struct Execution {
        var job: String
        var runID: Int64
        var scheduledFor: String
        var attempt: Int
        var pid: Int32
        /// Line numbers (the file's order is the real order of events).
        var beganAt: Int
        var endedAt: Int?
    }

    var executions: [Execution] = []
    var malformedLines: [String] = []

    init(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        // (pid, run id) -> index of its execution: the run id too, because runners on several "hosts" run
        // their commands in PID namespaces of their own, where the same small pids come round.
        var open: [String: Int] = [:]
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count == 6, fields[0] == "begin", let run = Int64(fields[2]), let attempt = Int(fields[4]),
                let pid = Int32(fields[5])
            {
                open["\(pid) \(run)"] = executions.count
                executions.append(
                    Execution(
                        job: fields[1], runID: run, scheduledFor: fields[3], attempt: attempt, pid: pid,
                        beganAt: number, endedAt: nil))
            } else if fields.count == 4, fields[0] == "end", let run = Int64(fields[2]), let pid = Int32(fields[3]),
                let index = open.removeValue(forKey: "\(pid) \(run)")
            {
                executions[index].endedAt = number
            } else {
                malformedLines.append(String(line))
            }
        }
    }
}

/// The comparison of a witness log with the run history.
struct WitnessReport: CustomStringConvertible {
    /// Executions that began (witness `begin` lines).
    var executions = 0
    /// Executions that ended normally (`end` lines).
    var completed = 0
    /// Runs recorded `ok` in the history of the witnessed jobs.
    var okRuns = 0
    /// Runs recorded `ok` with no complete execution in the witness log: acknowledged, but never done.
    var lost: [String] = []
    /// A run executed more than once under one claim, or an occurrence recorded `ok` twice.
    var duplicated: [String] = []
    /// Executions the history knows nothing about (no such run, or another job's run).
    var unexpected: [String] = []
    /// Two executions of one job that ran at the same time (the job is non-reentrant).
    var overlapping: [String] = []
    /// Executions whose run is recorded abandoned or interrupted: their occurrence runs again (allowed:
    /// execution is at-least-once, and the history says which runs were interrupted).
    var reexecutions = 0
    /// Executions that completed although their run is recorded abandoned (the runner died after the
    /// command ended, before recording it): allowed, at-least-once.
    var completedButAbandoned = 0
    var malformed: [String] = []

    var isClean: Bool {
        lost.isEmpty && duplicated.isEmpty && unexpected.isEmpty && overlapping.isEmpty && malformed.isEmpty
    }

    var description: String {
        var text =
            "executions \(executions), completed \(completed), ok runs \(okRuns), lost \(lost.count), "
            + "duplicated \(duplicated.count), unexpected \(unexpected.count), overlapping \(overlapping.count), "
            + "re-executed after a crash \(reexecutions), completed-but-abandoned \(completedButAbandoned)"
        for (name, items) in [
            ("lost", lost), ("duplicated", duplicated), ("unexpected", unexpected), ("overlapping", overlapping),
            ("malformed", malformed),
        ] where !items.isEmpty {
            text += "\n  \(name): " + items.prefix(10).joined(separator: "; ")
        }
        return text
    }

    /// Compares the witness log at `logPath` with the history of the jobs whose names are in `jobs`
    /// (the jobs running the witness command), as `probe` reads it.
    static func compare(logPath: String, probe: some StoreProbe, jobs: Set<String>) throws -> WitnessReport {
        let log = WitnessLog(path: logPath)
        var runs: [Int64: StoredRun] = [:]
        for run in try probe.runs() where jobs.contains(run.job) { runs[run.id] = run }
        var report = WitnessReport()
        report.malformed = log.malformedLines
        report.executions = log.executions.count
        report.completed = log.executions.filter { $0.endedAt != nil }.count

        var byRun: [Int64: [WitnessLog.Execution]] = [:]
        for execution in log.executions { byRun[execution.runID, default: []].append(execution) }

        for (id, executions) in byRun {
            guard let run = runs[id], run.job == executions[0].job else {
                report.unexpected.append("run \(id) of \(executions[0].job) executed but is not in the history")
                continue
            }
            if executions.count > 1 {
                report.duplicated.append("run \(id) of \(run.job) executed \(executions.count) times")
            }
            if run.outcome == "abandoned" && executions.contains(where: { $0.endedAt != nil }) {
                report.completedButAbandoned += 1
            }
        }
        var okByOccurrence: [String: Int] = [:]
        for (id, run) in runs where run.outcome == "ok" {
            report.okRuns += 1
            if !(byRun[id]?.contains { $0.endedAt != nil } ?? false) {
                report.lost.append("run \(id) of \(run.job) is recorded ok but never completed")
            }
            if !run.triggered { okByOccurrence["\(run.job) @ \(run.scheduledFor)", default: 0] += 1 }
        }
        for (occurrence, count) in okByOccurrence where count > 1 {
            report.duplicated.append("occurrence \(occurrence) recorded ok \(count) times")
        }

        // Non-reentrance: executions of one job, as intervals of line numbers, must not overlap.
        // An execution with no `end` line was killed; it cannot be placed in time, so it is left out.
        var byJob: [String: [WitnessLog.Execution]] = [:]
        for execution in log.executions where execution.endedAt != nil {
            byJob[execution.job, default: []].append(execution)
        }
        for (job, executions) in byJob {
            let sorted = executions.sorted { $0.beganAt < $1.beganAt }
            for (previous, next) in zip(sorted, sorted.dropFirst()) where next.beganAt < previous.endedAt! {
                report.overlapping.append(
                    "\(job): run \(next.runID) began while run \(previous.runID) (pid \(previous.pid)) was still running"
                )
            }
        }

        // Executions whose run was abandoned or interrupted: their occurrence runs again.
        report.reexecutions =
            log.executions.filter {
                ["abandoned", "interrupted"].contains(runs[$0.runID]?.outcome ?? "")
            }.count
        return report
    }
}
