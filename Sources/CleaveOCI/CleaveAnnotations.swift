import CleaveJSON
/// Annotation keys cleave reads from config.json (and from the hook's container state).
public enum CleaveAnnotations {
    /// "async" (hand the address-space teardown to a helper) or "sync" (let the workload pay
    /// for its own exit, e.g. to compare).
    public static let teardown = "io.cleave.teardown"

    /// "inject": async, the helper given by ptrace injection instead of LD_PRELOAD (`cleave hook
    /// poststart` gives the container's process one; `cleave run --bundle` acts as with --inject).
    public static let injectValue = "inject"

    /// The teardown mode the annotations ask for ("inject" is async); nil when absent or not a
    /// known mode (SpecValidation refuses unknown modes in config.json).
    public static func teardownMode(in annotations: [String: String]?) -> TeardownMode? {
        annotations?[teardown].flatMap { $0 == injectValue ? .async : TeardownMode(rawValue: $0) }
    }

    /// Whether the annotations ask for the helper to be injected (io.cleave.teardown=inject).
    public static func asksForInjection(in annotations: [String: String]?) -> Bool {
        annotations?[teardown] == injectValue
    }
}

/// Whether the workload gets a teardown helper. Defined here, the lowest module that needs
/// it, so the shim, the verifier and the hook share one type.
public enum TeardownMode: String, Sendable, Codable, CaseIterable {
    /// libcleave-teardown.so is injected; the exit returns at once and the helper frees the
    /// memory inside the workload's cgroup.
    case async
    /// Nothing is injected; the kernel frees the memory before the reap.
    case sync
}
