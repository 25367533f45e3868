/// Annotation keys cleave reads from config.json (and from the hook's container state).
public enum CleaveAnnotations {
    /// "async" (hand the address-space teardown to a helper) or "sync" (let the workload pay
    /// for its own exit, e.g. to compare).
    public static let teardown = "io.cleave.teardown"

    /// The teardown mode the annotations ask for; nil when absent or not a known mode
    /// (SpecValidation refuses unknown modes in config.json).
    public static func teardownMode(in annotations: [String: String]?) -> TeardownMode? {
        annotations?[teardown].flatMap(TeardownMode.init(rawValue:))
    }
}

public enum TeardownMode: String, Sendable, CaseIterable {
    case async
    case sync
}
