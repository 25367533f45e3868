import ArgumentParser
import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in a new cgroup, with asynchronous teardown.",
        discussion: """
        Exit status: the command's, 128+N when signal N ended it, 125 when cleave itself failed, \
        126 when the command cannot be executed, 127 when it is not found.
        """
    )

    @Option(help: "OCI bundle directory: run its config.json's process with its linux.resources and hooks.")
    var bundle: String?
    @Option(help: "Container id for --bundle (default: random); names the cgroup cleave/<id> and the hooks' state.")
    var id: String?

    @Option(help: "cgroup path below the cgroup2 mount (default: cleave/<name>-<short id>).")
    var cgroup: String?
    @Option(help: "Name used in the default cgroup path (default: the command's basename).")
    var name: String?

    @Option(name: .customLong("memory-max"), help: "memory.max: bytes, K/M/G/T suffix, or 'max'.")
    var memoryMax: String?
    @Option(name: .customLong("memory-high"), help: "memory.high.")
    var memoryHigh: String?
    @Option(name: .customLong("memory-low"), help: "memory.low.")
    var memoryLow: String?
    @Option(name: .customLong("memory-swap-max"), help: "memory.swap.max.")
    var memorySwapMax: String?
    @Option(help: "CPUs as a fraction, e.g. 1.5 (cpu.max with a 100 ms period).")
    var cpus: String?
    @Option(name: .customLong("cpu-max"), help: "cpu.max as \"QUOTA PERIOD\" or \"max PERIOD\".")
    var cpuMax: String?
    @Option(name: .customLong("cpu-weight"), help: "cpu.weight, 1 to 10000.")
    var cpuWeight: String?
    @Option(name: .customLong("pids-max"), help: "pids.max: a number or 'max'.")
    var pidsMax: String?
    @Option(name: .customLong("set"), help: "Raw cgroup file value, controller.param=value (repeatable).")
    var rawSettings: [String] = []

    @Option(help: "async (a helper frees the memory after the exit) or sync (default: async, or a bundle's io.cleave.teardown annotation).")
    var teardown: String?
    @Option(name: .customLong("teardown-timeout"), help: "Kill the cgroup if the teardown takes longer (e.g. 30s, 5m).")
    var teardownTimeout: String = "5m"
    @Option(name: .customLong("teardown-workers"), help: "Tasks that free the memory after the exit, 1 to 64 (default: the CPUs the cgroup may use; 1: one, as the kernel does).")
    var teardownWorkers: String?
    @Flag(name: .customLong("keep-cgroup"), help: "Leave the cgroup in place after the workload and its helper are gone.")
    var keepCgroup = false

    @Flag(name: .customLong("inject"), help: "With --teardown async, give the helper by ptrace injection at exec instead of LD_PRELOAD (automatic for static and setuid/setgid programs).")
    var inject = false
    @Option(name: .customLong("state-file"), help: "Write the run's state as JSON to this file.")
    var stateFile: String?
    @Option(name: .customLong("wait-memory"), help: "Before starting, wait until this much memory is free below the parent cgroup and on the node while teardowns release it (K/M/G/T suffix).")
    var waitMemory: String?
    @Option(name: .customLong("wait-timeout"), help: "Give up --wait-memory after this long, exit 125 (default: 5m).")
    var waitTimeout: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    /// `.captureForPassthrough` takes everything from the first word it does not know, options
    /// included: without this check `cleave run --help` would try to execute "--help" and a
    /// misspelt option would become the command. A command that starts with "-" goes after `--`.
    func validate() throws {
        guard let first = command.first, first != "--", first.hasPrefix("-") else { return }
        if first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
        throw ValidationError("unknown option '\(first)' (a command that starts with '-' goes after --)")
    }

    func run() throws {
        var options = RunOptions()
        options.cgroup = cgroup
        options.name = name
        options.memoryMax = memoryMax
        options.memoryHigh = memoryHigh
        options.memoryLow = memoryLow
        options.memorySwapMax = memorySwapMax
        options.cpus = cpus
        options.cpuMax = cpuMax
        options.cpuWeight = cpuWeight
        options.pidsMax = pidsMax
        options.rawSettings = rawSettings
        options.teardown = teardown ?? "async"
        options.teardownTimeout = teardownTimeout
        options.teardownWorkers = teardownWorkers
        options.keepCgroup = keepCgroup
        options.inject = inject
        options.stateFile = stateFile
        options.waitMemory = waitMemory
        options.waitTimeout = waitTimeout
        options.command = passthrough
        guard let bundle else {
            if id != nil { throw CleaveError.message("--id names a bundle's container: use it with --bundle") }
            throw ExitCode(try Self.run(options))
        }
        var request = try bundleRequest(bundle, options: options)
        if let cgroup { request.cgroupPath = cgroup }
        try options.applySupervision(to: &request, teardown: teardown)
        try Self.waitForMemory(request)
        throw ExitCode(try Runner(request: request, logger: CLILogging.logger()).run())
    }

    /// Runs the workload; returns cleave's exit code. Shared with main's fast path.
    static func run(_ options: RunOptions) throws -> Int32 {
        let request = try options.request()
        try waitForMemory(request)
        return try Runner(request: request, logger: CLILogging.logger()).run()
    }

    /// --wait-memory: before anything is created, and before the supervisor blocks the
    /// forwarded signals, so Ctrl-C ends the wait as it ends any command.
    static func waitForMemory(_ request: RunRequest) throws {
        guard request.memoryWait != nil else { return }
        _ = try MemoryWait(request: request, mount: CgroupMount.discover()).wait()
    }

    private var passthrough: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    /// The bundle is the whole description: flags that would contradict it are refused.
    private func bundleRequest(_ directory: String, options: RunOptions) throws -> RunRequest {
        if !passthrough.isEmpty {
            throw CleaveError.message("--bundle runs the config's process.args: remove the command after --bundle (\(passthrough.joined(separator: " ")))")
        }
        if let flag = RunOptions.bundleConflicts.first(where: options.isSet) {
            throw CleaveError.message("--\(flag) cannot be combined with --bundle: set it in config.json (linux.resources; the name is --id)")
        }
        return try BundleRequest.make(bundle: directory, id: id)
    }
}
