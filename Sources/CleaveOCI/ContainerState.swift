import FoundationEssentials
import CleaveJSON

/// The container state a runtime writes to a hook's stdin (runtime-spec runtime.md "State").
/// runc and crun add keys of their own (crun: "root"); they are ignored.
public struct ContainerState: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    /// "creating", "created", "running" or "stopped"; runtimes may add others.
    public var status: String
    /// The container's main process as seen from the host. Absent or 0 once it has exited
    /// (crun writes 0 in poststop).
    public var pid: Int32?
    /// Absolute path of the bundle directory.
    public var bundle: String
    public var annotations: [String: String]?

    public init(ociVersion: String, id: String, status: String, pid: Int32? = nil, bundle: String,
                annotations: [String: String]? = nil) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
    }

    /// The main process's pid when there is one (present and positive).
    public var processID: Int32? {
        guard let pid, pid > 0 else { return nil }
        return pid
    }

    /// Parses the state JSON; `source` names the input in messages.
    public static func parse(from data: Data, source: String = "container state (stdin)") throws -> ContainerState {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw OCIError(file: source,
                           message: "empty input (a hook reads the container state as JSON on stdin; was cleave run by an OCI runtime?)")
        }
        let state = try BundleLoader.decodeDocument(ContainerState.self, from: data, file: source)
        if state.id.isEmpty {
            throw OCIError(file: source, field: "id", message: "empty (the runtime names every container)")
        }
        if state.status.isEmpty {
            throw OCIError(file: source, field: "status", message: "empty")
        }
        if !state.bundle.hasPrefix("/") {
            throw OCIError(file: source, field: "bundle", message: "'\(state.bundle)' is not an absolute path")
        }
        if let pid = state.pid, pid < 0 {
            throw OCIError(file: source, field: "pid", message: "\(pid) is not a process ID")
        }
        return state
    }
}
