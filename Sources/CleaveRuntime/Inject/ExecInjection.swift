import CCleaveInject
import CleaveTeardownImage
import Glibc
import CleaveSystem

extension HelperInjector {
    /// `cleave run` for a program LD_PRELOAD cannot reach: seizes the held workload with
    /// PTRACE_O_TRACEEXEC, lets it exec, and injects the helper at its exec stop, before it
    /// runs one instruction of its own. Throws the exec failure as `release()` does (the child
    /// reaped). Returns nil, after a warning, when the injection failed: the program then runs
    /// on unchanged, with synchronous teardown.
    public static func startInjected(_ held: HeldWorkload, workers: Int? = nil) throws -> InjectedHelper? {
        let pid = held.workload.pid
        guard let block = InjectedHelperBlock.bytes(), !block.isEmpty else {
            held.abandon()
            throw CleaveError.message("run --inject: this cleave carries no helper block (a build bug)")
        }
        let seized = cleave_inject_seize_for_exec(pid)
        guard seized == 0 else {
            held.abandon()
            throw CleaveError.message("run: cannot trace the workload (pid \(pid)) to inject its helper: PTRACE_SEIZE: \(SystemError.reason(-seized))")
        }
        _ = held.start() // a failure shows as the child's exit, below
        var result = cleave_inject_result()
        let rc = block.withUnsafeBufferPointer {
            cleave_inject_helper_at_exec_workers(pid, $0.baseAddress, $0.count, InjectedHelperBlock.entry, Int32(workers ?? 0), &result)
        }
        try held.release() // the exec's outcome: at the exec stop its report pipe is already closed
        guard rc == 0 else {
            let message = withUnsafeBytes(of: result.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            Console.warning("could not inject the teardown helper into pid \(pid): \(message); running with synchronous teardown")
            return nil
        }
        let injected = InjectedHelper(pid: pid, result: result)
        if let note = injected.note { Console.warning(note) }
        return injected
    }
}
