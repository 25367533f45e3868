import CleaveCgroups
import CleaveSystem
@_exported import enum CleaveOCI.TeardownMode

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
    public var teardownTimeout: Duration = Self.defaultTeardownTimeout
    /// --teardown-timeout when unset: 5 minutes.
    public static let defaultTeardownTimeout: Duration = .seconds(300)
    /// --teardown-workers; nil: the library's default (the cgroup's CPUs).
    public var teardownWorkers: Int?
    public var keepCgroup = false
    public var stateFile: String?
    /// `--wait-memory`: wait before starting until this much memory can be had (MemoryWait).
    public var memoryWait: MemoryWaitRequest?
    /// nil: cleave's own environment.
    public var environment: EnvironmentList?
    public var settings = ProcessSettings()
    /// A bundle's OCI hooks; with them the workload is held before exec for the create stages.
    public var hooks: LifecycleHooks?
    /// `--inject`: give the helper by ptrace injection at exec instead of LD_PRELOAD (also
    /// chosen for a static or setuid/setgid program).
    public var inject = false
    /// Test knob: use the fork + cgroup.procs placement instead of clone3.
    public var forceFallbackSpawn = false

    public init(command: [String]) { self.command = command }
}
