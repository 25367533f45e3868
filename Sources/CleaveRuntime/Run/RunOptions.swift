import Glibc
import CleaveSystem

/// `cleave run`'s options as the user typed them, turned into a RunRequest in
/// one place for both parsers: swift-argument-parser (RunCommand) and the
/// fast path below.
public struct RunOptions: Equatable, Sendable {
    public var cgroup: String?
    public var name: String?
    public var memoryMax: String?
    public var memoryHigh: String?
    public var memoryLow: String?
    public var memorySwapMax: String?
    public var cpus: String?
    public var cpuMax: String?
    public var cpuWeight: String?
    public var pidsMax: String?
    public var rawSettings: [String] = []
    public var teardown = "async"
    public var teardownTimeout = "5m"
    public var teardownWorkers: String?
    public var keepCgroup = false
    public var inject = false
    public var stateFile: String?
    public var waitMemory: String?
    public var waitTimeout: String?
    /// The command and its arguments (no leading "--").
    public var command: [String] = []

    public init() {}

    public func request() throws -> RunRequest {
        var request = RunRequest(command: command)
        request.cgroupPath = cgroup
        request.name = name
        request.limits = try RunOptionsParser.limits(
            memoryMax: memoryMax, memoryHigh: memoryHigh, memoryLow: memoryLow, memorySwapMax: memorySwapMax,
            cpus: cpus, cpuMax: cpuMax, cpuWeight: cpuWeight, pidsMax: pidsMax, raw: rawSettings)
        try applySupervision(to: &request, teardown: teardown)
        return request
    }

    /// The settings a flag run and a bundle run share; `teardown` nil keeps the request's
    /// (a bundle's annotation).
    public func applySupervision(to request: inout RunRequest, teardown: String?) throws {
        if let teardown {
            guard let mode = TeardownMode(rawValue: teardown) else {
                throw CleaveError.message("--teardown: '\(teardown)' is not one of async, sync")
            }
            request.teardown = mode
        }
        request.teardownTimeout = try DurationParser.parse(teardownTimeout, option: "--teardown-timeout")
        request.teardownWorkers = try teardownWorkers.map { try TeardownWorkers.parse($0) }
        request.keepCgroup = keepCgroup
        request.inject = inject
        request.stateFile = stateFile
        request.memoryWait = try MemoryWaitOptions.request(size: waitMemory, timeout: waitTimeout)
        // Test and diagnosis knob: place with fork + cgroup.procs instead of clone3.
        request.forceFallbackSpawn = getenv("CLEAVE_SPAWN_FALLBACK").map { String(cString: $0) == "1" } ?? false
    }

    /// The fast path for the common `cleave run [--opt value | --opt=value | --keep-cgroup ...] -- COMMAND...`:
    /// swift-argument-parser's reflection costs milliseconds at every start, which is most of
    /// `cleave run`'s overhead. Returns nil for anything else (help, --version, an unknown or
    /// repeated option, a value that looks like an option, no `--`, an empty command), which then
    /// goes to swift-argument-parser, so every message and corner case stays its.
    public static func parseFast(_ arguments: ArraySlice<String>) -> RunOptions? {
        var options = RunOptions()
        var seen: [String] = []   // (an array: a Set's generic set-up costs more than a dozen compares)
        var i = arguments.startIndex
        while i < arguments.endIndex {
            let argument = arguments[i]
            if argument == "--" {
                let command = Array(arguments[(i + 1)...])
                guard !command.isEmpty else { return nil }
                options.command = command
                return options
            }
            guard argument.hasPrefix("--") else { return nil }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if name == "keep-cgroup" || name == "inject" {
                guard value == nil, !seen.contains(name) else { return nil }
                seen.append(name)
                if name == "inject" { options.inject = true } else { options.keepCgroup = true }
                i += 1
                continue
            }
            if value == nil {
                guard i + 1 < arguments.endIndex else { return nil }
                value = arguments[i + 1]
                i += 1
            }
            guard let value, !value.isEmpty, !value.hasPrefix("-") else { return nil }
            if name == "set" {
                options.rawSettings.append(value)
            } else {
                guard !seen.contains(name), options.assign(name, value) else { return nil }
                seen.append(name)
            }
            i += 1
        }
        return nil
    }

    /// The one table of `cleave run`'s valued options: the fast path assigns through it and
    /// RunCommand checks bundle conflicts with it; a test holds it equal to RunCommand's options.
    public static let valued: [(name: String, field: WritableKeyPath<RunOptions, String?> & Sendable)] = [
        ("cgroup", \.cgroup), ("name", \.name),
        ("memory-max", \.memoryMax), ("memory-high", \.memoryHigh), ("memory-low", \.memoryLow),
        ("memory-swap-max", \.memorySwapMax), ("cpus", \.cpus), ("cpu-max", \.cpuMax),
        ("cpu-weight", \.cpuWeight), ("pids-max", \.pidsMax),
        ("teardown", \.teardownOption), ("teardown-timeout", \.teardownTimeoutOption),
        ("teardown-workers", \.teardownWorkers), ("state-file", \.stateFile),
        ("wait-memory", \.waitMemory), ("wait-timeout", \.waitTimeout),
    ]
    /// Options a bundle's config.json decides (limits, `--set`, the name), in the order a
    /// conflict is reported.
    public static let bundleConflicts = ["memory-max", "memory-high", "memory-low", "memory-swap-max", "cpus",
                                         "cpu-max", "cpu-weight", "pids-max", "set", "name"]

    /// Whether the option `name` was given.
    public func isSet(_ name: String) -> Bool {
        if name == "set" { return !rawSettings.isEmpty }
        return Self.valued.first(where: { $0.name == name }).map { self[keyPath: $0.field] != nil } ?? false
    }

    private var teardownOption: String? {
        get { teardown }
        set { teardown = newValue ?? "async" }
    }
    private var teardownTimeoutOption: String? {
        get { teardownTimeout }
        set { teardownTimeout = newValue ?? "5m" }
    }

    private mutating func assign(_ name: String, _ value: String) -> Bool {
        guard let field = Self.valued.first(where: { $0.name == name })?.field else { return false }
        self[keyPath: field] = value
        return true
    }
}
