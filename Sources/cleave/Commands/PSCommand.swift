import ArgumentParser
import CleaveCgroups
import FoundationEssentials
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct PSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List the runs and cgroups cleave manages and whether they are running or tearing down.",
        discussion: """
        Lists every run that has a record in the state directory, wherever its cgroup is \
        (`cleave run --cgroup rw/x` too), and the cgroups below the parent that no record names. \
        With --parent, lists only what is below that parent. Ends with the pending release: the         memory.current of the listed cgroups that are tearing down, beside the node's MemAvailable.
        """
    )

    @Flag(help: "Print JSON.")
    var json = false
    @Option(help: "Parent cgroup whose record-less cgroups are listed too (default: cleave); when given, only what is below it is listed.")
    var parent: String?
    @OptionGroup var records: RunRecordsOption

    func run() throws {
        let mount = try CgroupMount.discover()
        let entries = try ManagedCgroups.list(parent: parent ?? "cleave", mount: mount,
                                              stateDirectory: records.directory,
                                              onlyUnderParent: parent != nil)
        let report = PSReport(cgroups: entries)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        var rows = [["CGROUP", "RUN", "STATE", "PIDS", "MEMORY", "AGE"]]
        for e in entries {
            rows.append([e.path, e.run ?? "-", e.state.rawValue, "\(e.pids.count)",
                         e.memoryCurrent.map { ByteSize.format($0) } ?? "-",
                         e.ageSeconds.map { TextTable.age($0) } ?? "-"])
        }
        print(TextTable.render(rows), terminator: "")
        print(report.pendingLine)
    }
}
