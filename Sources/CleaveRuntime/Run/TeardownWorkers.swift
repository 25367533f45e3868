import CleaveSystem
/// `--teardown-workers N`: how many tasks free the workload's memory once it has
/// exited (the helper and its workers, in the workload's cgroup). cleave passes it to
/// libcleave-teardown.so in the workload's environment, as CLEAVE_ENV_TEARDOWN_WORKERS
/// of the contract header; unset, the library uses the CPUs the cgroup may use.
public enum TeardownWorkers {
    public static let range = 1...64

    public static func parse(_ text: String, option: String = "--teardown-workers") throws -> Int {
        guard let n = Int(text.trimmed()), range.contains(n) else {
            throw CleaveError.message("\(option): invalid value '\(text)': expected a whole number of workers from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }
}
