// DatabaseProbe.swift and InvariantChecker.swift, which are being reworked elsewhere, use names that now
// live in TestSupport (the harness's error, ProcessTable) and do not import it. Until they do, this file
// re-exports TestSupport to every file of the target; every other file imports it itself. Once those two
// import TestSupport (and DatabaseProbe throws HarnessError), delete this file.
@_exported import TestSupport

/// The name DatabaseProbe.swift throws under.
typealias HarnessFailure = HarnessError
