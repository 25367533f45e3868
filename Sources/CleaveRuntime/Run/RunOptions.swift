import ArgumentParser

/// `cleave run`'s options declared for swift-argument-parser (RunCommand's `@OptionGroup`, with
/// their help); `flags` gives the parsed values as RunFlags, the type the fast path
/// (RunFlags+FastPath) fills without the parser. RunFlags.valued names each valued option once
/// for both; a test holds the two parsers equal.
///
/// A value built with `init()` is swift-argument-parser's definition and cannot be read.
public struct RunOptions: ParsableArguments, Sendable {
    @Option(help: "cgroup path below the cgroup2 mount (default: cleave/<name>-<short id>).")
    public var cgroup: String?
    @Option(help: "Name used in the default cgroup path (default: the command's basename).")
    public var name: String?

    @Option(name: .customLong("memory-max"), help: "memory.max: bytes, K/M/G/T suffix, or 'max'.")
    public var memoryMax: String?
    @Option(name: .customLong("memory-high"), help: "memory.high.")
    public var memoryHigh: String?
    @Option(name: .customLong("memory-low"), help: "memory.low.")
    public var memoryLow: String?
    @Option(name: .customLong("memory-swap-max"), help: "memory.swap.max.")
    public var memorySwapMax: String?
    @Option(help: "CPUs as a fraction, e.g. 1.5 (cpu.max with a 100 ms period).")
    public var cpus: String?
    @Option(name: .customLong("cpu-max"), help: "cpu.max as \"QUOTA PERIOD\" or \"max PERIOD\".")
    public var cpuMax: String?
    @Option(name: .customLong("cpu-weight"), help: "cpu.weight, 1 to 10000.")
    public var cpuWeight: String?
    @Option(name: .customLong("pids-max"), help: "pids.max: a number or 'max'.")
    public var pidsMax: String?
    @Option(name: .customLong("set"), help: "Raw cgroup file value, controller.param=value (repeatable).")
    public var rawSettings: [String] = []

    @Option(help: "async (a helper frees the memory after the exit) or sync (default: async, or a bundle's io.cleave.teardown annotation).")
    public var teardown: String?
    @Option(name: .customLong("teardown-timeout"), help: "Kill the cgroup if the teardown takes longer (e.g. 30s, 5m; default: 5m).")
    public var teardownTimeout: String?
    @Option(name: .customLong("teardown-workers"), help: "Tasks that free the memory after the exit, 1 to 64 (default: the CPUs the cgroup may use; 1: one, as the kernel does).")
    public var teardownWorkers: String?
    @Flag(name: .customLong("keep-cgroup"), help: "Leave the cgroup in place after the workload and its helper are gone.")
    public var keepCgroup = false
    @Flag(name: .customLong("inject"), help: "With --teardown async, give the helper by ptrace injection at exec instead of LD_PRELOAD (automatic for static and setuid/setgid programs).")
    public var inject = false

    @Option(name: .customLong("state-file"), help: "Write the run's state as JSON to this file.")
    public var stateFile: String?
    @Option(name: .customLong("wait-memory"), help: "Before starting, wait until this much memory is free below the parent cgroup and on the node while teardowns release it (K/M/G/T suffix).")
    public var waitMemory: String?
    @Option(name: .customLong("wait-timeout"), help: "Give up --wait-memory after this long, exit 125 (default: 5m).")
    public var waitTimeout: String?

    /// The command and its arguments (a leading "--" is dropped by `command`).
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    public var arguments: [String] = []

    public init() {}

    /// The command without the "--" that ends the options.
    public var command: [String] { arguments.first == "--" ? Array(arguments.dropFirst()) : arguments }

    /// The parsed values, as the fast path gives them.
    public var flags: RunFlags {
        var flags = RunFlags()
        flags.cgroup = cgroup
        flags.name = name
        flags.memoryMax = memoryMax
        flags.memoryHigh = memoryHigh
        flags.memoryLow = memoryLow
        flags.memorySwapMax = memorySwapMax
        flags.cpus = cpus
        flags.cpuMax = cpuMax
        flags.cpuWeight = cpuWeight
        flags.pidsMax = pidsMax
        flags.rawSettings = rawSettings
        flags.teardown = teardown
        flags.teardownTimeout = teardownTimeout
        flags.teardownWorkers = teardownWorkers
        flags.keepCgroup = keepCgroup
        flags.inject = inject
        flags.stateFile = stateFile
        flags.waitMemory = waitMemory
        flags.waitTimeout = waitTimeout
        flags.command = command
        return flags
    }
}
