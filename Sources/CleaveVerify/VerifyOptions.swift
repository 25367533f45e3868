import CleaveRuntime
import CleaveSystem

/// What `cleave verify` runs and how.
package struct VerifyOptions: Sendable {
    /// --size. The probe allocates it (1 GiB when nil); a command is checked
    /// against it only when given, else against what it really had charged.
    package var size: UInt64?
    /// What the probe allocates.
    package var probeSize: UInt64 { size ?? 1 << 30 }
    package var modes: [TeardownMode] = [.async]
    package var threads = 1
    /// Parent cgroup for the fresh cgroups, below the cgroup2 mount.
    package var parent = "cleave-verify"
    /// nil: `cleave probe alloc SIZE`.
    package var command: [String]?
    /// Test-only faults, the negative controls that must make verify fail.
    package var fault: VerifyFault?
    package var teardownTimeout: Duration = .seconds(300)
    /// --teardown-workers: CLEAVE_TEARDOWN_WORKERS for the async workload; nil: the library's default.
    package var teardownWorkers: Int?
    /// --inject: the async workload's helper by injection at exec, not LD_PRELOAD (as `cleave
    /// run --inject`); a static or setuid/setgid program gets it so without the option.
    package var inject = false
    package var progress: @Sendable (String) -> Void = { _ in }

    package init() {}
}

package enum VerifyFault: String, Sendable, CaseIterable {
    /// Move the helper into another cgroup before the workload ends.
    case helperOutside = "helper-outside"
    /// SIGKILL the helper before the workload ends.
    case helperKilled = "helper-killed"
}
