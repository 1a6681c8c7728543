import Synchronization

/// The runner's current id; it changes only if the runner was declared dead and registers again.
final class RunnerIdentity: Sendable {
    private let value = Mutex<(id: Int64, reregistering: Bool)>((0, false))

    var id: Int64 {
        get { value.withLock { $0.id } }
        set { value.withLock { $0.id = newValue } }
    }

    /// True if the caller should register again: the id is still the dead one and nobody else is at it.
    func beginReregistering(deadID: Int64) -> Bool {
        value.withLock { state in
            guard state.id == deadID, !state.reregistering else { return false }
            state.reregistering = true
            return true
        }
    }

    func finishReregistering(newID: Int64?) {
        value.withLock { state in
            if let newID { state.id = newID }
            state.reregistering = false
        }
    }
}
