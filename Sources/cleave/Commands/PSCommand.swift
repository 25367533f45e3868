import ArgumentParser
import CleaveCgroups
import CleaveShim
import FoundationEssentials

struct PSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ps",
        abstract: "List the cgroups cleave manages and whether they are running or tearing down."
    )

    @Flag(help: "Print JSON.")
    var json = false
    @Option(help: "Parent cgroup cleave creates workloads under.")
    var parent: String = "cleave"

    func run() throws {
        let mount = try CgroupMount.discover()
        let entries = try ManagedCgroups.list(parent: parent, mount: mount)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        var rows = [["CGROUP", "STATE", "PIDS", "MEMORY", "AGE"]]
        for e in entries {
            rows.append([e.path, e.state.rawValue, "\(e.pids.count)",
                         e.memoryCurrent.map { ByteSize.format($0) } ?? "-",
                         e.ageSeconds.map { TextTable.age($0) } ?? "-"])
        }
        print(TextTable.render(rows), terminator: "")
    }
}
