import CleaveShim

/// What `cleave verify` runs and how.
public struct VerifyOptions: Sendable {
    /// --size. The probe allocates it (1 GiB when nil); a command is checked
    /// against it only when given, else against what it really had charged.
    public var size: UInt64?
    /// What the probe allocates.
    public var probeSize: UInt64 { size ?? 1 << 30 }
    public var modes: [TeardownMode] = [.async]
    public var threads = 1
    /// Parent cgroup for the fresh cgroups, below the cgroup2 mount.
    public var parent = "cleave-verify"
    /// nil: `cleave probe alloc SIZE`.
    public var command: [String]?
    /// Test-only faults, the negative controls that must make verify fail.
    public var fault: VerifyFault?
    public var teardownTimeout: Duration = .seconds(300)
    /// --teardown-workers: CLEAVE_TEARDOWN_WORKERS for the async workload; nil: the library's default.
    public var teardownWorkers: Int?
    public var progress: @Sendable (String) -> Void = { _ in }

    public init() {}
}

public enum VerifyFault: String, Sendable, CaseIterable {
    /// Move the helper into another cgroup before the workload ends.
    case helperOutside = "helper-outside"
    /// SIGKILL the helper before the workload ends.
    case helperKilled = "helper-killed"
}
