import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// Waits for the cgroup to empty after the helper is let go, and collects the
/// parallel release's workers on the way: children of a helper that carry its
/// name (cleanup/<pid>), alive only while the memory is freed, so sampled every
/// millisecond rather than looked at once.
enum ReleaseWorkerWatch {
    static func waitUntilEmpty(_ cgroup: Cgroup, helpers: [Int32], timeout: Duration) throws -> (emptied: Bool, workers: [Int32]) {
        var seen: [Int32] = []
        let deadline = Clock.monotonicNanoseconds() + UInt64(max(0, timeout.seconds) * 1e9)
        while true {
            for helper in helpers {
                guard let name = ProcFS.comm(helper) else { continue }
                for child in ProcFS.children(of: helper) where !seen.contains(child) && ProcFS.comm(child) == name {
                    seen.append(child)
                }
            }
            if try !cgroup.isPopulated() { return (true, seen) }
            if Clock.monotonicNanoseconds() >= deadline { return (false, seen) }
            usleepMilliseconds(1)
        }
    }
}
