import CleaveCgroups
import CleaveSystem

/// The watcher's command line, written by cleave (`arguments`) and read back by the watcher
/// (`parseFast`) in one place. The watcher starts after every async run whose helper outlives
/// the workload, and as the standby of every longer one; swift-argument-parser's start-up was
/// about a third of its CPU (`perf record`). Anything `parseFast` does not take goes to the
/// parser (`cleave __watch-teardown`, WatchTeardownCommand), with its messages.
extension TeardownWatcher {
    /// What the watcher was asked to do: its options, and whether it waits on descriptor 3 for
    /// the run (StandbyWatcher).
    public struct Invocation: Sendable {
        public var options: Options
        public var handover: Bool
        public init(options: Options, handover: Bool) { self.options = options; self.handover = handover }
    }

    /// The largest --timeout-ms (a year): the deadline arithmetic downstream needs a sane range.
    public static let timeoutLimitMilliseconds: Int64 = 365 * 86_400_000

    /// The watcher's command line (without --lock and --handover).
    static func arguments(_ options: Options) throws -> [String] {
        guard let exe = Executable.path() else { throw CleaveError.message("cannot find the cleave executable for the teardown watcher") }
        return [exe, "__watch-teardown"] + optionArguments(options)
    }

    /// The options after the subcommand's name.
    static func optionArguments(_ options: Options) -> [String] {
        var args = ["--cgroup", options.cgroupPath,
                    "--timeout-ms", String(Int64(options.timeout.seconds * 1000)),
                    "--log", options.log.path]
        if options.keepCgroup { args.append("--keep-cgroup") }
        if let state = options.stateFile { args += ["--state-file", state] }
        if let record = options.record { args += ["--record", record] }
        if options.existing { args.append("--existing") }
        if let mark = options.mark { args += ["--mark", mark.description] }
        if let pid = options.workloadPid { args += ["--pid", String(pid)] }
        if let record = options.runRecord { args += ["--run-record", record] }
        if let lock = options.lockPath { args += ["--lock", lock] }
        return args
    }

    /// Reads what `arguments` writes (plus --lock and --handover): `--name value` pairs and
    /// flags, each at most once, --cgroup and --timeout-ms required. nil for anything else.
    public static func parseFast(_ arguments: ArraySlice<String>) -> Invocation? {
        var values: [String: String] = [:]
        var flags: Set<String> = []
        let valued: Set<String> = ["cgroup", "timeout-ms", "log", "state-file", "record", "mark", "pid", "run-record", "lock"]
        let switches: Set<String> = ["keep-cgroup", "existing", "handover"]
        var i = arguments.startIndex
        while i < arguments.endIndex {
            let word = arguments[i]
            guard word.hasPrefix("--") else { return nil }
            let name = String(word.dropFirst(2))
            if switches.contains(name) {
                guard flags.insert(name).inserted else { return nil }
                i += 1
                continue
            }
            guard valued.contains(name), values[name] == nil, i + 1 < arguments.endIndex else { return nil }
            let value = arguments[i + 1]
            guard !value.isEmpty, !value.hasPrefix("-") else { return nil }
            values[name] = value
            i += 2
        }
        guard let cgroup = values["cgroup"], let ms = values["timeout-ms"].flatMap({ Int64($0) }),
              (0...timeoutLimitMilliseconds).contains(ms) else { return nil }
        var pid: Int32?
        if let text = values["pid"] {
            guard let value = Int32(text) else { return nil }
            pid = value
        }
        var options = Options(cgroupPath: cgroup, timeout: .milliseconds(ms), keepCgroup: flags.contains("keep-cgroup"),
                              stateFile: values["state-file"], log: EventLog(path: values["log"] ?? EventLog.defaultPath))
        options.record = values["record"]
        options.existing = flags.contains("existing")
        options.mark = values["mark"].flatMap(OwnerMark.init(description:))
        options.lockPath = values["lock"]
        options.workloadPid = pid
        options.runRecord = values["run-record"]
        return Invocation(options: options, handover: flags.contains("handover"))
    }

    /// The watcher's process, whichever parser read its command line: with `handover`, first
    /// wait for the run on descriptor 3. Its exit code.
    public static func main(_ invocation: Invocation) -> Int32 {
        let options = invocation.options
        if invocation.handover {
            // Already at SCHED_IDLE while it waits: the handover then wakes it without taking a
            // CPU that cleave's exit, or the manager that exit wakes, would be placed on.
            var handedOver = false
            StandbyWatcher.yieldingToOthers {
                // No handover (the run ended without needing a watcher, or cleave died): nothing is ours.
                guard let received = StandbyWatcher.awaitHandover(on: 3) else { return }
                handedOver = true
                StandbyWatcher.awaitExit(of: 3, timeout: .milliseconds(200))
                TeardownWatcher.completeRecord(options, handover: received.handover)
            }
            guard handedOver else { return 0 }
        }
        return watch(options) ? 0 : 1
    }
}
