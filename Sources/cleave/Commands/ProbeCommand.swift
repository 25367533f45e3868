import ArgumentParser
import CleaveCgroups
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Built-in workloads for tests, demos and benchmarks.",
        subcommands: [AllocCommand.self]
    )
}

struct AllocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alloc",
        abstract: "Allocate and touch SIZE of anonymous memory, print 'ready <pid>', then wait.",
        discussion: "Uses 4 KiB pages unless --thp. Waits for a signal, or with --hold for stdin to close (then exits 0)."
    )

    @Argument(help: "Bytes, or with a K/M/G/T suffix.")
    var size: String
    @Flag(help: "Ask for transparent huge pages (MADV_HUGEPAGE) instead of 4 KiB pages.")
    var thp = false
    @Option(help: "Touch the memory from N threads, which stay alive.")
    var threads: Int = 1
    @Flag(help: "Exit 0 when stdin closes instead of waiting for a signal.")
    var hold = false

    func run() throws {
        var probe = AllocationProbe(size: try RunOptionsParser.size(size, option: "SIZE"))
        probe.transparentHugePages = thp
        probe.threads = threads
        probe.hold = hold
        try probe.run()
    }
}
