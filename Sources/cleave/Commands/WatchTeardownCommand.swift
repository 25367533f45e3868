import ArgumentParser
import CleaveCgroups
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

/// The detached watcher `cleave run` starts when a helper is still tearing
/// down; not for people to call. Its usual command line skips this parser
/// (TeardownWatcher.parseFast, in main); anything else comes here.
struct WatchTeardownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "__watch-teardown", shouldDisplay: false)

    @Option var cgroup: String
    @Option(name: .customLong("timeout-ms")) var timeoutMs: Int64
    @Option var log: String = EventLog.defaultPath
    @Option(name: .customLong("state-file")) var stateFile: String?
    @Flag(name: .customLong("keep-cgroup")) var keepCgroup = false
    @Option var record: String?
    @Flag var existing = false
    @Option var mark: String?
    @Option var lock: String?
    /// Started while the workload runs (StandbyWatcher): wait on descriptor 3 for the run.
    @Flag var handover = false
    @Option var pid: Int32?
    @Option(name: .customLong("run-record")) var runRecord: String?

    func run() throws {
        guard (0...TeardownWatcher.timeoutLimitMilliseconds).contains(timeoutMs) else {
            throw CleaveError.message("--timeout-ms: \(timeoutMs) is outside 0 to 31536000000 (a year)")
        }
        var options = TeardownWatcher.Options(cgroupPath: cgroup, timeout: .milliseconds(timeoutMs),
                                              keepCgroup: keepCgroup, stateFile: stateFile, log: EventLog(path: log))
        options.record = record
        options.existing = existing
        options.mark = mark.flatMap(OwnerMark.init(description:))
        options.lockPath = lock
        options.workloadPid = pid
        options.runRecord = runRecord
        throw ExitCode(TeardownWatcher.main(TeardownWatcher.Invocation(options: options, handover: handover)))
    }
}
