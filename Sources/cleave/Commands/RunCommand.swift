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

    @Option(help: "async (a helper frees the memory after the exit) or sync.")
    var teardown: String = "async"
    @Option(name: .customLong("teardown-timeout"), help: "Kill the cgroup if the teardown takes longer (e.g. 30s, 5m).")
    var teardownTimeout: String = "5m"
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
        options.teardown = teardown
        options.teardownTimeout = teardownTimeout
        options.keepCgroup = keepCgroup
        options.stateFile = stateFile
        options.command = command.first == "--" ? Array(command.dropFirst()) : command
        throw ExitCode(try Self.run(options))
    }

    /// Runs the workload; returns cleave's exit code. Shared with main's fast path.
    static func run(_ options: RunOptions) throws -> Int32 {
        try Runner(request: options.request(), logger: CLILogging.logger()).run()
    }
}
