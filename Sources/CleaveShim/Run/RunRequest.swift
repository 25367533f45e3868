import CleaveCgroups

/// Whether the workload gets a teardown helper.
public enum TeardownMode: String, Sendable, Codable, CaseIterable {
    /// libcleave-teardown.so is injected; the exit returns at once and the
    /// helper frees the memory inside the workload's cgroup.
    case async
    /// Nothing is injected; the kernel frees the memory before the reap.
    case sync
}

/// Everything `cleave run` needs to know, from flags or from a bundle.
public struct RunRequest: Sendable {
    public var command: [String]
    /// Below the cgroup2 mount; nil means `<parent>/<name>-<short id>`.
    public var cgroupPath: String?
    public var cgroupParent = "cleave"
    public var name: String?
    public var id: String?
    public var limits = ResourceLimits()
    public var teardown: TeardownMode = .async
    public var teardownTimeout: Duration = .seconds(300)
    public var keepCgroup = false
    public var stateFile: String?
    /// nil: cleave's own environment.
    public var environment: EnvironmentList?
    public var settings = ProcessSettings()
    /// Test knob: use the fork + cgroup.procs placement instead of clone3.
    public var forceFallbackSpawn = false

    public init(command: [String]) { self.command = command }
}
