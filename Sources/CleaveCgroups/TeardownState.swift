import CleaveSystem

/// The one rule for "this cgroup is tearing down": it holds processes and every one of them is
/// a teardown helper (`cleanup/<pid>`), so what is charged to it is memory being released.
/// `cleave ps`, the agent and `cleave verify` all decide with it.
public enum TeardownState: Equatable, Sendable {
    case empty
    case running
    case tearingDown

    /// Sorts `processes` (a cgroup's, or a subtree's) into helpers and others with `comm`
    /// (nil: the process is gone, and counts as neither).
    public static func classify(_ processes: [Int32], comm: (Int32) -> String? = ProcFS.comm)
        -> (state: TeardownState, helpers: [Int32], others: [Int32]) {
        var helpers = [Int32](), others = [Int32]()
        for pid in processes {
            guard let name = comm(pid) else { continue }
            if TeardownHelpers.isHelper(comm: name) { helpers.append(pid) } else { others.append(pid) }
        }
        return (of(helpers: helpers.count, others: others.count), helpers, others)
    }

    /// The rule itself, on counts.
    public static func of(helpers: Int, others: Int) -> TeardownState {
        others > 0 ? .running : (helpers > 0 ? .tearingDown : .empty)
    }
}
