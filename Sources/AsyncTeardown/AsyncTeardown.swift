import CCleaveTeardown

/// Asynchronous teardown for Swift programs that link cleave instead of
/// loading libcleave-teardown.so with LD_PRELOAD.
///
/// Call `AsyncTeardown.enable()` early in `main`, before the big
/// allocations: it creates a helper process (C code, raw system calls; no
/// Swift runs in it) that shares this process's address space. When the
/// process exits it is reaped at once and the helper frees the memory, in
/// the same cgroup, so the accounting stays right.
public enum AsyncTeardown {
    public enum Outcome: Equatable, Sendable {
        /// A helper is running with this pid.
        case enabled(helper: Int32)
        /// Skipped on purpose: CLEAVE_TEARDOWN=off, or CLEAVE_TEARDOWN_PID
        /// names another process (a child of the workload running as the same user).
        case skipped
        /// The helper could not be created or could not drop its privileges
        /// (errno); a warning went to stderr
        /// and the process tears down synchronously, as without cleave.
        case failed(errno: Int32)
    }

    /// Starts the helper; idempotent, safe to call from any thread.
    @discardableResult
    public static func enable() -> Outcome {
        let rc = cleave_teardown_init()
        if rc > 0 { return .enabled(helper: rc) }
        if rc == 0 { return .skipped }
        return .failed(errno: -rc)
    }

    /// The running helper's pid, if any.
    public static var helperPID: Int32? {
        let pid = cleave_teardown_helper_pid()
        return pid > 0 ? pid : nil
    }
}
