import ArgumentParser
import CleaveCgroups
import FoundationEssentials
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Clean up what runs left behind when cleave itself was killed.",
        discussion: """
        Looks at the run records in the state directory and the cgroups below the parent. A run \
        owns its record and its cgroup while its lock (<record>.lock, an flock held by `cleave run` \
        and handed to its teardown watcher) is held; nothing a process says about itself (its name, \
        its arguments) counts. Only cgroups cleave made itself (marked with the trusted.cleave.owner \
        extended attribute) are ever collected: anything else below the parent, a container's cgroup \
        or one a run was given ready-made, is left alone with its ancestors. Empty orphaned \
        cgroups are removed; populated ones are listed, and killed and removed only with --force. \
        A stale record is removed once its cgroup is gone. Runs started with --keep-cgroup are left alone.
        Exit status: 0 when nothing is left, 1 when orphans are left (populated without --force, \
        or --dry-run found work), 2 on errors.
        """
    )

    @Option(help: "Parent cgroup cleave creates workloads under.")
    var parent: String = "cleave"
    @OptionGroup var records: RunRecordsOption
    @Flag(help: "Kill and remove populated orphaned cgroups too.")
    var force = false
    @Flag(name: .customLong("dry-run"), help: "Print what would be done; change nothing.")
    var dryRun = false
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let mount = try CgroupMount.discover()
        let options = GarbageCollector.Options(parent: parent, stateDirectory: records.directory,
                                               force: force, dryRun: dryRun)
        let report = try GarbageCollector(options: options, mount: mount).collect()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report.findings), as: UTF8.self))
        } else if report.findings.isEmpty {
            print("cleave gc: nothing to collect (parent \(mount.mountPoint)/\(parent), records in \(options.stateDirectory))")
        } else {
            var rows = [["ACTION", "KIND", "PATH", "DETAIL"]]
            for f in report.findings { rows.append([f.action.rawValue, f.kind.rawValue, f.path, f.detail]) }
            print(TextTable.render(rows), terminator: "")
            print("cleave gc: \(report.findings.count - report.leftovers - report.errors) done, \(report.leftovers) left, \(report.errors) error(s)")
        }
        throw ExitCode(report.exitCode)
    }
}
