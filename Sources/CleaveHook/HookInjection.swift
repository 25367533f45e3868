import CCleaveSystem
import CleaveOCI
import CleaveRuntime
import CleaveSystem
import Glibc

/// `cleave hook poststart --inject` and the annotation io.cleave.teardown=inject: the
/// container's process gets a helper by ptrace injection, with no `cleave prepare`. Never
/// fails the container: a process that already has a helper is left as it is (a note), a
/// failed injection is a warning and the process runs on with synchronous teardown.
package enum HookInjection {
    /// What the hook did, kept in poststart's record.
    package struct Report: Codable, Sendable, Equatable {
        /// "injected", "already-had-helper", "declined-sync" or "failed".
        package var outcome: String
        package var helperPid: Int32?
        /// How long the container's thread was held stopped.
        package var pauseMicroseconds: Int64?
        package var message: String?
    }

    /// The result for the record: the report, notes for it, and the warning already printed.
    package struct Result: Sendable {
        package var report: Report?
        package var notes: [String] = []
        package var warning: String?
        package var injected: Bool { report?.outcome == "injected" }
    }

    /// nil: nobody asked; false: `--inject` asked but io.cleave.teardown=sync refuses it (that
    /// container asked for no helper; the flag is often set node-wide in hooks.d); true: inject.
    package static func wanted(flag: Bool, annotations: [String: String]?) -> Bool? {
        guard flag || CleaveAnnotations.asksForInjection(in: annotations) else { return nil }
        return annotations?[CleaveAnnotations.teardown] != TeardownMode.sync.rawValue
    }

    /// Gives `process` a helper when asked to; prints a failure as a warning (stderr and the
    /// event log, which runtimes that discard a hook's stderr leave readable).
    package static func apply(flag: Bool, state: ContainerState, process: ContainerProcess, cgroup: String) -> Result {
        guard let wanted = wanted(flag: flag, annotations: state.annotations) else { return Result() }
        guard wanted else {
            return Result(report: Report(outcome: "declined-sync"),
                          notes: ["\(CleaveAnnotations.teardown)=sync: no helper injected (the annotation wins over --inject)"])
        }
        switch inject(process) {
        case .success(let helper):
            return Result(report: Report(outcome: "injected", helperPid: helper.helper, pauseMicroseconds: helper.pauseMicroseconds))
        case .failure(let failure) where failure.alreadyHasHelper:
            return Result(report: Report(outcome: "already-had-helper", message: failure.step),
                          notes: ["pid \(process.pid) already has a teardown helper: left as it is (\(failure.step))"])
        case .failure(let failure):
            let warning = "hook poststart: \(Escaped.text(state.id)): no helper injected into pid \(process.pid): \(failure); it runs on with synchronous teardown"
            Console.warning(warning)
            EventLog.fromEnvironment().append("hook-warning", cgroup: cgroup, message: warning)
            return Result(report: Report(outcome: "failed", message: failure.description), warning: warning)
        }
    }

    /// HelperInjector.attach on the verified process: its pid is used only while the pidfd
    /// shows the same process alive (a pid cannot be reused before its process is reaped).
    private static func inject(_ process: ContainerProcess) -> Swift.Result<InjectedHelper, InjectionFailure> {
        guard cleave_pidfd_send_signal(process.pidfd, 0) == 0, ProcFS.startTime(process.pid) == process.startTime else {
            return .failure(InjectionFailure(errno: ESRCH, refused: true, step: "the process exited before the injection"))
        }
        do {
            return .success(try HelperInjector.attach(pid: process.pid))
        } catch CleaveError.wrapped(_, let failure as InjectionFailure) {
            return .failure(failure)
        } catch {
            return .failure(InjectionFailure(errno: EIO, refused: false, step: "\(error)"))
        }
    }
}
