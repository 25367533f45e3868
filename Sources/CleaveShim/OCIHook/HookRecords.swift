import CleaveCgroups

/// What poststart saw: the container's main process (verified), its cgroup and a baseline.
public struct PoststartRecord: Codable, Sendable {
    public var id: String
    public var pid: Int32
    /// Clock ticks since boot (/proc/<pid>/stat field 22): the pid plus this names the process.
    public var pidStartTime: UInt64
    /// How the pid was checked: "runtime-state" (crun's or runc's own state agrees) or
    /// "pidfd" (alive and held through a pidfd while it was read).
    public var pidVerifiedBy: String
    /// Absolute path of the container's cgroup.
    public var cgroup: String
    public var memoryCurrentBytes: UInt64?
    public var pidNamespaceInit: Bool
    public var helperPresent: Bool
    public var helperPids: [Int32]
    public var recordedAt: Double
    public var notes: [String]
}

/// What the detached follower saw from the main process's exit to the empty cgroup.
public struct TeardownObservation: Codable, Sendable {
    public var mainExitedAt: Double?
    /// memory.current just after the main process exited (what the helper still has to free).
    public var memoryAtExitBytes: UInt64?
    public var helperPidsAtExit: [Int32]
    /// Highest memory.peak (or memory.current) seen while following.
    public var memoryPeakBytes: UInt64?
    public var memoryFinalBytes: UInt64?
    public var cpuUsageUsec: UInt64?
    public var emptiedAt: Double?
    public var teardownSeconds: Double?
    /// "empty", "removed" (the runtime removed the cgroup first) or "timeout".
    public var outcome: String
}

/// poststop's accounting report for one container.
public struct PoststopReport: Codable, Sendable {
    public var id: String
    public var cgroup: String?
    public var cgroupGone: Bool?
    public var memoryBaselineBytes: UInt64?
    public var memoryPeakBytes: UInt64?
    public var memoryFinalBytes: UInt64?
    public var cpuUsageSeconds: Double?
    public var teardownSeconds: Double?
    public var helperPresent: Bool?
    public var pidNamespaceInit: Bool?
    public var reportedAt: Double
    public var notes: [String]
}
