// DatabaseProbe.swift, which is being reworked elsewhere, throws the harness's error, which now lives in
// TestSupport, and does not import it. Until it does, this file re-exports TestSupport to every file of
// the target; every other file imports it itself. Once DatabaseProbe imports TestSupport and throws
// HarnessError, delete this file.
@_exported import TestSupport

/// The name DatabaseProbe.swift throws under.
typealias HarnessFailure = HarnessError
