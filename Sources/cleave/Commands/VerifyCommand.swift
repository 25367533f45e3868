import ArgumentParser
import CleaveCgroups
import CleaveVerify
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove the accounting: memory stays charged to the workload's cgroup until the helper is gone.",
        discussion: """
        Runs a workload (default: cleave probe alloc SIZE) in a fresh cgroup per mode, ends it with \
        SIGKILL, and checks memory.current, cgroup.procs, cgroup.events and cpu.stat before the end, \
        right after the reap, and after the teardown. Exit 0 when every check passes, 1 when one \
        fails, 2 when the verdict is partial (a check could not be made here, e.g. no memory \
        controller in a hybrid hierarchy). A command LD_PRELOAD cannot reach (a static ELF, a \
        setuid or setgid file) gets its helper by injection at exec, as with cleave run.
        """
    )

    @Option(help: "Memory the probe allocates and touches (4 KiB pages; default 1G). With a command: check its allocation against this; without, against what it had charged.")
    var size: String?
    @Option(help: "async, sync or both.")
    var mode: String = "both"
    @Option(help: "Touch the memory from N threads (the probe stays multi-threaded).")
    var threads: Int = 1
    @Option(name: .customLong("teardown-workers"), help: "Tasks that free the memory in async mode (CLEAVE_TEARDOWN_WORKERS), 1 to 64; the report counts the workers it saw.")
    var teardownWorkers: String?
    @Flag(name: .customLong("inject"), help: "In async mode, give the helper by ptrace injection at exec instead of LD_PRELOAD, as cleave run --inject (automatic for static and setuid/setgid programs).")
    var inject = false
    @Option(help: "Parent cgroup for the fresh cgroups, below the cgroup2 mount.")
    var parent: String = "cleave-verify"
    @Flag(help: "Print the report as JSON.")
    var json = false
    @Option(name: .customLong("fault"), help: ArgumentHelp("Test-only negative control.", visibility: .hidden))
    var fault: String?
    @Argument(parsing: .captureForPassthrough, help: "A program to verify instead of the probe, after --.")
    var command: [String] = []

    func run() throws {
        var options = VerifyOptions()
        options.size = try size.map { text in
            let bytes = try RunOptionsParser.size(text, option: "--size")
            guard bytes > 0, bytes <= AllocationProbe.maximumSize else {
                throw CleaveError.message("--size: '\(text)' must be from 1 byte to \(AllocationProbe.maximumSize) bytes (64 TiB)")
            }
            return bytes
        }
        switch mode {
        case "async": options.modes = [.async]
        case "sync": options.modes = [.sync]
        case "both": options.modes = [.async, .sync]
        default: throw CleaveError.message("--mode: '\(mode)' is not one of async, sync, both")
        }
        guard (1...1024).contains(threads) else { throw CleaveError.message("--threads: must be between 1 and 1024") }
        options.threads = threads
        options.teardownWorkers = try teardownWorkers.map { try TeardownWorkers.parse($0) }
        options.parent = parent
        options.inject = inject
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        options.command = argv.isEmpty ? nil : argv
        if let fault {
            guard let f = VerifyFault(rawValue: fault) else {
                throw CleaveError.message("--fault: '\(fault)' is not one of \(VerifyFault.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.fault = f
        }
        let showProgress = !json || Console.stdoutIsTerminal
        options.progress = { message in if showProgress { Console.emit("cleave verify: \(message)") } }

        let report = try Verifier(options: options, version: Cleave.version).run()
        print(json ? try ReportRenderer.json(report) : ReportRenderer.table(report), terminator: "")
        switch report.verdict {
        case .pass: throw ExitCode(0)
        case .fail: throw ExitCode(1)
        case .partial: throw ExitCode(2)
        }
    }
}
