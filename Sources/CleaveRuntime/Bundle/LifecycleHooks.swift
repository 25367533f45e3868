import CleaveOCI
import FoundationEssentials
import CleaveSystem

/// A bundle's hooks, run by `cleave run --bundle` at the points runc and crun run them,
/// from cleave's own namespaces (a process workload has no others).
public struct LifecycleHooks: Sendable {
    /// The stages in run order, with the container status the state JSON carries then
    /// (as runc passes it) and whether a failure stops the start.
    public enum Stage: String, Sendable, CaseIterable {
        case prestart, createRuntime, createContainer, startContainer, poststart, poststop

        var status: String {
            switch self {
            case .prestart, .createRuntime, .createContainer: return "creating"
            case .startContainer: return "created"
            case .poststart: return "running"
            case .poststop: return "stopped"
            }
        }

        /// runtime-spec: a failing poststart or poststop hook is only logged.
        public var isFatal: Bool { self != .poststart && self != .poststop }
    }

    public var hooks: Hooks
    public var ociVersion: String
    public var id: String
    public var bundle: String
    public var annotations: [String: String]?

    public init(hooks: Hooks, ociVersion: String, id: String, bundle: String, annotations: [String: String]?) {
        self.hooks = hooks
        self.ociVersion = ociVersion
        self.id = id
        self.bundle = bundle
        self.annotations = annotations
    }

    public func list(_ stage: Stage) -> [Hook] {
        switch stage {
        case .prestart: return hooks.prestart ?? []
        case .createRuntime: return hooks.createRuntime ?? []
        case .createContainer: return hooks.createContainer ?? []
        case .startContainer: return hooks.startContainer ?? []
        case .poststart: return hooks.poststart ?? []
        case .poststop: return hooks.poststop ?? []
        }
    }

    /// The state document a hook reads on stdin.
    public func state(_ stage: Stage, pid: Int32?) -> ContainerState {
        ContainerState(ociVersion: ociVersion, id: id, status: stage.status, pid: pid, bundle: bundle,
                       annotations: annotations)
    }

    /// Runs a stage's hooks in spec order. A fatal stage stops at the first failure and
    /// throws it (exit 125); the others warn and go on.
    public func run(_ stage: Stage, pid: Int32?) throws {
        let hooks = list(stage)
        guard !hooks.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let stdin = (try? encoder.encode(state(stage, pid: pid))).map { Array($0) } ?? []
        for (i, hook) in hooks.enumerated() {
            do {
                try HookProcess.run(hook, stdin: stdin)
            } catch {
                let what = "hooks.\(stage.rawValue)[\(i)] (\(hook.path))"
                if stage.isFatal { throw CleaveError.message("\(what) failed: \(error); the workload was not started") }
                Console.warning("\(what) failed: \(error)")
            }
        }
    }

    public var isEmpty: Bool { Stage.allCases.allSatisfy { list($0).isEmpty } }
}
