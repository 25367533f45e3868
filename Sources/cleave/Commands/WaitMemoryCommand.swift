import ArgumentParser
import CleaveCgroups
import FoundationEssentials
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct WaitMemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-memory",
        abstract: "Wait until SIZE can be had below a parent cgroup and on the node while teardowns release memory.",
        discussion: """
        For managers that start workloads themselves: exits 0 once SIZE fits (memory.max minus \
        what is in use, for the parent and each limited ancestor, and MemAvailable), 125 at the \
        timeout, or at once when SIZE does not fit and no teardown is releasing memory.
        """
    )

    @Argument(help: "Bytes, or with a K/M/G/T suffix (e.g. 8G).")
    var size: String
    @Option(help: "Give up after this long (e.g. 30s, 5m), exit 125.")
    var timeout: String = MemoryWaitOptions.defaultTimeout
    @Option(help: "Parent cgroup the workload will be created below.")
    var cgroup: String = "cleave"
    @OptionGroup var records: RunRecordsOption
    @Flag(help: "Print the outcome as JSON on stdout (also on failure, before the exit 125).")
    var json = false

    func run() throws {
        let bytes = try RunOptionsParser.size(size, option: "wait-memory SIZE")
        let duration = try DurationParser.parse(timeout, option: "--timeout")
        let mount = try CgroupMount.discover()
        let parent: Cgroup
        do { parent = try Cgroup(mount: mount, path: cgroup) } catch { throw CleaveError.wrapped(context: "--cgroup", error) }
        guard !parent.relativePath.isEmpty else {
            throw CleaveError.message("--cgroup: refusing the root of the cgroup2 hierarchy: name the parent the workload goes below")
        }
        var wait = MemoryWait(size: bytes, timeout: duration, parent: parent, listParent: parent.relativePath)
        wait.stateDirectory = records.directory
        wait.option = "wait-memory"
        let outcome = try wait.evaluate()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(outcome), as: UTF8.self))
        }
        if let failure = outcome.failure { throw CleaveError.message(failure) }
    }
}
