/// The fast path for the common `cleave run [--opt value | --opt=value | --keep-cgroup ...] -- COMMAND...`:
/// swift-argument-parser's reflection costs milliseconds at every start, which is most of
/// `cleave run`'s overhead. It fills RunFlags through one table of the options' long names.
extension RunFlags {
    /// A valued option: its long name, and its field.
    public struct Valued: Sendable {
        public let name: String
        public let value: @Sendable (RunFlags) -> String?
        let assign: @Sendable (inout RunFlags, String?) -> Void
    }
    /// A flag (no value): its long name and its field.
    public struct Switch: Sendable {
        public let name: String
        public let value: @Sendable (RunFlags) -> Bool
        let assign: @Sendable (inout RunFlags, Bool) -> Void
    }

    /// The one table of `cleave run`'s valued options, by their long names: the fast path assigns
    /// through it and RunCommand checks bundle conflicts with it; a test holds it equal to the
    /// options swift-argument-parser shows in --help.
    public static let valued: [Valued] = [
        Valued(name: "cgroup", value: { $0.cgroup }, assign: { $0.cgroup = $1 }),
        Valued(name: "name", value: { $0.name }, assign: { $0.name = $1 }),
        Valued(name: "memory-max", value: { $0.memoryMax }, assign: { $0.memoryMax = $1 }),
        Valued(name: "memory-high", value: { $0.memoryHigh }, assign: { $0.memoryHigh = $1 }),
        Valued(name: "memory-low", value: { $0.memoryLow }, assign: { $0.memoryLow = $1 }),
        Valued(name: "memory-swap-max", value: { $0.memorySwapMax }, assign: { $0.memorySwapMax = $1 }),
        Valued(name: "cpus", value: { $0.cpus }, assign: { $0.cpus = $1 }),
        Valued(name: "cpu-max", value: { $0.cpuMax }, assign: { $0.cpuMax = $1 }),
        Valued(name: "cpu-weight", value: { $0.cpuWeight }, assign: { $0.cpuWeight = $1 }),
        Valued(name: "pids-max", value: { $0.pidsMax }, assign: { $0.pidsMax = $1 }),
        Valued(name: "teardown", value: { $0.teardown }, assign: { $0.teardown = $1 }),
        Valued(name: "teardown-timeout", value: { $0.teardownTimeout }, assign: { $0.teardownTimeout = $1 }),
        Valued(name: "teardown-workers", value: { $0.teardownWorkers }, assign: { $0.teardownWorkers = $1 }),
        Valued(name: "state-file", value: { $0.stateFile }, assign: { $0.stateFile = $1 }),
        Valued(name: "wait-memory", value: { $0.waitMemory }, assign: { $0.waitMemory = $1 }),
        Valued(name: "wait-timeout", value: { $0.waitTimeout }, assign: { $0.waitTimeout = $1 }),
    ]
    /// The flags, each given at most once.
    public static let flags: [Switch] = [
        Switch(name: "keep-cgroup", value: { $0.keepCgroup }, assign: { $0.keepCgroup = $1 }),
        Switch(name: "inject", value: { $0.inject }, assign: { $0.inject = $1 }),
    ]
    /// Options a bundle's config.json decides (limits, `--set`, the name), in the order a
    /// conflict is reported.
    public static let bundleConflicts = ["memory-max", "memory-high", "memory-low", "memory-swap-max", "cpus",
                                         "cpu-max", "cpu-weight", "pids-max", "set", "name"]

    /// Parses `[--opt value | --opt=value | --flag ...] -- COMMAND...`. Returns nil for anything
    /// else (help, --version, an unknown or repeated option, a value that looks like an option,
    /// no `--`, an empty command), which then goes to swift-argument-parser, so every message and
    /// corner case stays its.
    public static func parseFast(_ arguments: ArraySlice<String>) -> RunFlags? {
        var options = RunFlags()
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
            if let flag = flags.first(where: { $0.name == name }) {
                guard value == nil, !seen.contains(name) else { return nil }
                seen.append(name)
                flag.assign(&options, true)
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
                guard !seen.contains(name), let option = valued.first(where: { $0.name == name }) else { return nil }
                seen.append(name)
                option.assign(&options, value)
            }
            i += 1
        }
        return nil
    }

    /// Whether the option `name` was given.
    public func isSet(_ name: String) -> Bool {
        if name == "set" { return !rawSettings.isEmpty }
        return Self.valued.first(where: { $0.name == name }).map { $0.value(self) != nil } ?? false
    }
}
