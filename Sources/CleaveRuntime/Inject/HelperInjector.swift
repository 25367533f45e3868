import CCleaveInject
import CleaveTeardownImage
import Glibc
import CleaveSystem

/// What `cleave attach` did to a process.
public struct InjectedHelper: Codable, Sendable {
    public var pid: Int32
    /// The thread that was stopped (the others ran on).
    public var thread: Int32
    public var helper: Int32
    /// The helper's cgroup (the target's), from /proc/<helper>/cgroup.
    public var cgroup: String?
    /// How long the thread was held stopped (from its stop to the detach).
    public var pauseMicroseconds: Int64
    /// How long it took to stop after PTRACE_INTERRUPT (it ran on, or slept in its system call, meanwhile).
    public var stopMicroseconds: Int64
    /// Tasks the helper frees the memory with (itself and its workers).
    public var workers: Int32?
    /// What the user should know: fewer workers than asked, and why.
    public var note: String?

    init(pid: Int32, result: cleave_inject_result) {
        self.pid = pid
        thread = result.target_tid
        helper = result.helper_pid > 0 ? result.helper_pid : result.helper_nspid
        cgroup = ProcFS.cgroupPath(helper)
        pauseMicroseconds = result.pause_ns / 1000
        stopMicroseconds = result.stop_ns / 1000
        workers = result.workers
        let text = withUnsafeBytes(of: result.note) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        note = text.isEmpty ? nil : text
    }
}

/// Gives a running process a teardown helper by ptrace injection (Sources/CCleaveInject).
public enum HelperInjector {
    /// Injects the embedded helper block into `pid`, the helper freeing with `workers` tasks
    /// (nil: the target's CLEAVE_TEARDOWN_WORKERS, else the CPUs its cgroup may use). Throws a
    /// CleaveError (exit 125) naming the process and the failed step, wrapping an InjectionFailure;
    /// the target is then left as it was.
    public static func attach(pid: Int32, workers: Int? = nil) throws -> InjectedHelper {
        guard pid > 0 else { throw CleaveError.message("attach: \(pid) is not a process id") }
        guard let block = InjectedHelperBlock.bytes(), !block.isEmpty else {
            throw CleaveError.message("attach: this cleave carries no helper block (a build bug)")
        }
        var result = cleave_inject_result()
        let rc = block.withUnsafeBufferPointer {
            cleave_inject_helper_workers(pid, $0.baseAddress, $0.count, InjectedHelperBlock.entry, Int32(workers ?? 0), &result)
        }
        let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard rc == 0 else {
            throw CleaveError.wrapped(context: "attach: process \(pid)",
                                      InjectionFailure(errno: result.error, refused: result.refused != 0, step: message))
        }
        return InjectedHelper(pid: pid, result: result)
    }
}
