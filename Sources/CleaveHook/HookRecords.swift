import CleaveCgroups
import CleaveRuntime
import CleaveSystem

/// What poststart saw: the container's main process (verified), its cgroup and a baseline.
package struct PoststartRecord: Codable, Sendable {
    package var id: String
    package var pid: Int32
    /// Clock ticks since boot (/proc/<pid>/stat field 22): the pid plus this names the process.
    package var pidStartTime: UInt64
    /// How the pid was checked: "runtime-state" (crun's or runc's own state agrees) or
    /// "pidfd" (alive and held through a pidfd while it was read).
    package var pidVerifiedBy: String
    /// Absolute path of the container's cgroup.
    package var cgroup: String
    package var memoryCurrentBytes: UInt64?
    package var pidNamespaceInit: Bool
    package var helperPresent: Bool
    package var helperPids: [Int32]
    package var recordedAt: Double
    package var notes: [String]
    /// What `--inject` (or io.cleave.teardown=inject) did; nil when not asked.
    package var injection: HookInjection.Report?
}

/// What the detached follower saw from the main process's exit to the empty cgroup.
package struct TeardownObservation: Codable, Sendable {
    package var mainExitedAt: Double?
    /// memory.current just after the main process exited (what the helper still has to free).
    package var memoryAtExitBytes: UInt64?
    package var helperPidsAtExit: [Int32]
    /// Highest memory.peak (or memory.current) seen while following.
    package var memoryPeakBytes: UInt64?
    package var memoryFinalBytes: UInt64?
    package var cpuUsageUsec: UInt64?
    package var emptiedAt: Double?
    package var teardownSeconds: Double?
    /// "empty", "removed" (the runtime removed the cgroup first) or "timeout".
    package var outcome: String
}

/// poststop's accounting report for one container.
package struct PoststopReport: Codable, Sendable {
    package var id: String
    package var cgroup: String?
    package var cgroupGone: Bool?
    package var memoryBaselineBytes: UInt64?
    package var memoryPeakBytes: UInt64?
    package var memoryFinalBytes: UInt64?
    package var cpuUsageSeconds: Double?
    package var teardownSeconds: Double?
    package var helperPresent: Bool?
    package var pidNamespaceInit: Bool?
    package var reportedAt: Double
    package var notes: [String]
}
