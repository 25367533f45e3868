import ArgumentParser
import FoundationEssentials
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Give a running process a teardown helper (ptrace injection; static programs too).",
        discussion: """
        Stops one thread of PID for a moment (PTRACE_SEIZE + PTRACE_INTERRUPT), makes it map a \
        page for the helper and clone it, restores the thread exactly and detaches. The helper is \
        named cleanup/<pid>, lives in the process's cgroup and frees its memory once the whole \
        process has exited. Refuses (exit 125, nothing changed) a kernel thread, a zombie, a \
        process already traced or already given a helper, or one whose seccomp filter would kill, \
        trap or refuse one of the system calls the injection or the helper makes (the filter is \
        read and evaluated first).
        """
    )

    @Argument(help: "The process to give a helper.")
    var pid: String
    @Flag(help: "Print JSON.")
    var json = false
    @Option(name: .customLong("teardown-workers"), help: "Tasks that free the memory after the exit, 1 to 64 (default: CLEAVE_TEARDOWN_WORKERS in the process's environment, else the CPUs its cgroup may use).")
    var teardownWorkers: String?

    func run() throws {
        guard let value = Int32(pid), value > 0 else {
            throw CleaveError.message("attach: \"\(pid)\" is not a process id")
        }
        let workers = try teardownWorkers.map { try TeardownWorkers.parse($0) }
        let attached = try HelperInjector.attach(pid: value, workers: workers)
        if let note = attached.note { Console.warning(note) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(attached), as: UTF8.self))
        } else {
            let tasks = attached.workers.map { $0 > 1 ? "; frees with \($0) tasks" : "" } ?? ""
            print("helper \(attached.helper) for process \(attached.pid) in \(attached.cgroup ?? "?"); thread \(attached.thread) stopped for \(attached.pauseMicroseconds) µs\(tasks)")
        }
    }
}
