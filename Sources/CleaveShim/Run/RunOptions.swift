import Glibc

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
    public var stateFile: String?
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
                throw ShimError("--teardown: '\(teardown)' is not one of async, sync")
            }
            request.teardown = mode
        }
        request.teardownTimeout = try DurationParser.parse(teardownTimeout, option: "--teardown-timeout")
        request.teardownWorkers = try teardownWorkers.map { try TeardownWorkers.parse($0) }
        request.keepCgroup = keepCgroup
        request.stateFile = stateFile
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
            if name == "keep-cgroup" {
                guard value == nil, !seen.contains(name) else { return nil }
                seen.append(name)
                options.keepCgroup = true
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

    private mutating func assign(_ name: String, _ value: String) -> Bool {
        switch name {
        case "cgroup": cgroup = value
        case "name": self.name = value
        case "memory-max": memoryMax = value
        case "memory-high": memoryHigh = value
        case "memory-low": memoryLow = value
        case "memory-swap-max": memorySwapMax = value
        case "cpus": cpus = value
        case "cpu-max": cpuMax = value
        case "cpu-weight": cpuWeight = value
        case "pids-max": pidsMax = value
        case "teardown": teardown = value
        case "teardown-timeout": teardownTimeout = value
        case "teardown-workers": teardownWorkers = value
        case "state-file": stateFile = value
        default: return false
        }
        return true
    }
}
