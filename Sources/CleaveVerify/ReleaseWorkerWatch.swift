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
                for child in children(of: helper) where !seen.contains(child) && ProcFS.comm(child) == name {
                    seen.append(child)
                }
            }
            if try !cgroup.isPopulated() { return (true, seen) }
            if Clock.monotonicNanoseconds() >= deadline { return (false, seen) }
            usleepMilliseconds(1)
        }
    }

    /// Children of every thread of `pid`.
    private static func children(of pid: Int32) -> [Int32] {
        guard let dir = opendir("/proc/\(pid)/task") else { return [] }
        defer { closedir(dir) }
        var out = [Int32]()
        while let entry = readdir(dir) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard Int32(tid) != nil, let list = FileIO.read("/proc/\(pid)/task/\(tid)/children") else { continue }
            out += list.split(separator: " ").compactMap { Int32($0.trimmed()) }
        }
        return out
    }
}
