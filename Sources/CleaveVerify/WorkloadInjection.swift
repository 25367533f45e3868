import CleaveRuntime
import CleaveSystem

/// How verify's async workload got its helper: as `cleave run` gives it (Runner), by
/// LD_PRELOAD, or, for a program the loader's LD_PRELOAD cannot reach (a static ELF, a
/// setuid or setgid file) or with --inject, by ptrace injection at its exec stop
/// (HelperInjector.startInjected, the one injector of `cleave run`).
package struct HelperOrigin: Codable, Sendable {
    package enum Method: String, Codable, Sendable {
        case preload
        case injection
    }

    package var method: Method
    /// Why injection was chosen: "static ELF", "setuid/setgid", "--inject"; nil for preload.
    package var reason: String?
    /// The injection's outcome: the helper's pid and the target's pause; nil when it
    /// failed (cleave warned; the program then ran with no helper, and the checks say so).
    package var injected: InjectedHelper?
}

extension WorkloadLauncher {
    /// Whether the async workload gets its helper by injection, and why; nil: by LD_PRELOAD.
    static func injectionReason(mode: TeardownMode, inject: Bool, executable: String) -> String? {
        guard mode == .async else { return nil }
        if inject { return "--inject" }
        switch ExecutableKind.of(path: executable) {
        case .staticELF: return "static ELF, no PT_INTERP"
        case .setID: return "setuid/setgid file"
        case .dynamic, .linkedHelper, .other: return nil
        }
    }

    /// Spawns the workload held before its exec and injects the helper at the exec stop, as
    /// `cleave run` does. A failed injection is no error here: the program runs on without a
    /// helper and the report's checks fail, naming it.
    static func spawnInjected(_ request: WorkloadSpawner.Request) throws -> (workload: SpawnedWorkload, helper: InjectedHelper?) {
        let held = try WorkloadSpawner.spawnHeld(request)
        let helper = try HelperInjector.startInjected(held)
        return (held.workload, helper)
    }
}

extension ModeVerifier {
    /// 2.helper-injected: the helper found beside the workload is the one injected at its exec.
    static func injectionCheck(_ origin: HelperOrigin, workload: Int32, helpers: [Int32]) -> Check {
        let expected = "a helper injected at exec (\(origin.reason ?? "injection")), named cleanup/\(workload)"
        guard let injected = origin.injected else {
            return Check(id: "2.helper-injected", description: "the helper was injected into the workload at its exec",
                         expected: expected, observed: "the injection failed (see cleave's warning)", status: .fail)
        }
        let ok = helpers.contains(injected.helper) && ProcFS.comm(injected.helper) == "\(TeardownHelpers.prefix)\(workload)"
        return Check(id: "2.helper-injected", description: "the helper was injected into the workload at its exec",
                     expected: expected,
                     observed: "helper \(injected.helper) (\(ProcFS.comm(injected.helper) ?? "gone")), workload held \(injected.pauseMicroseconds) usec",
                     status: ok ? .pass : .fail)
    }
}

extension HelperOrigin {
    /// The report table's line.
    var summary: String {
        switch method {
        case .preload: return "LD_PRELOAD of the teardown library"
        case .injection:
            let why = reason.map { " (\($0))" } ?? ""
            guard let injected else { return "injection at exec\(why) FAILED: no helper" }
            return "injected at exec\(why): helper \(injected.helper), workload held \(injected.pauseMicroseconds) usec"
        }
    }
}
