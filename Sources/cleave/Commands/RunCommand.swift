import ArgumentParser
import CleaveCgroups
import CleaveShim
import Glibc

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
    @Option(name: .customLong("state-file"), help: "Write the run's state as JSON to this file.")
    var stateFile: String?

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

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
        options.stateFile = stateFile
        options.command = passthrough
        guard let bundle else {
            if id != nil { throw ShimError("--id names a bundle's container: use it with --bundle") }
            throw ExitCode(try Self.run(options))
        }
        var request = try bundleRequest(bundle)
        if let cgroup { request.cgroupPath = cgroup }
        try options.applySupervision(to: &request, teardown: teardown)
        throw ExitCode(try Runner(request: request, logger: CLILogging.logger()).run())
    }

    /// Runs the workload; returns cleave's exit code. Shared with main's fast path.
    static func run(_ options: RunOptions) throws -> Int32 {
        try Runner(request: options.request(), logger: CLILogging.logger()).run()
    }

    private var passthrough: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    /// The bundle is the whole description: flags that would contradict it are refused.
    private func bundleRequest(_ directory: String) throws -> RunRequest {
        if !passthrough.isEmpty {
            throw ShimError("--bundle runs the config's process.args: remove the command after --bundle (\(passthrough.joined(separator: " ")))")
        }
        let limitFlags: [(String, Bool)] = [
            ("--memory-max", memoryMax != nil), ("--memory-high", memoryHigh != nil), ("--memory-low", memoryLow != nil),
            ("--memory-swap-max", memorySwapMax != nil), ("--cpus", cpus != nil), ("--cpu-max", cpuMax != nil),
            ("--cpu-weight", cpuWeight != nil), ("--pids-max", pidsMax != nil), ("--set", !rawSettings.isEmpty),
            ("--name", name != nil),
        ]
        if let flag = limitFlags.first(where: \.1)?.0 {
            throw ShimError("\(flag) cannot be combined with --bundle: set it in config.json (linux.resources; the name is --id)")
        }
        return try BundleRequest.make(bundle: directory, id: id)
    }
}
