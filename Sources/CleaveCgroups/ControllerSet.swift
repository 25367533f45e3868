/// Controller names ("cpu", "memory", "pids"...), sorted and without repeats. A run handles a
/// handful of them: a sorted array does the set's work without hashing, and Set<String>'s first
/// use in a process cost 0.1 ms of every `cleave run` (the runtime looks up String's Hashable
/// conformance by scanning every conformance record in the binary).
public struct ControllerSet: Equatable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// Sorted, each once.
    public private(set) var names: [String]

    public init(_ names: [String]) {
        var unique: [String] = []
        for name in names where !unique.contains(name) { unique.append(name) }
        self.names = unique.sorted()
    }

    public init(arrayLiteral elements: String...) { self.init(elements) }

    public var isEmpty: Bool { names.isEmpty }
    public var count: Int { names.count }
    public var description: String { names.joined(separator: " ") }

    public func contains(_ name: String) -> Bool { names.contains(name) }

    public func isSuperset(of other: ControllerSet) -> Bool { other.names.allSatisfy(contains) }

    public mutating func insert(_ name: String) {
        if !contains(name) { self = ControllerSet(names + [name]) }
    }

    public func union(_ other: ControllerSet) -> ControllerSet { ControllerSet(names + other.names) }

    public func intersection(_ other: ControllerSet) -> ControllerSet { ControllerSet(names.filter(other.contains)) }

    public func subtracting(_ other: ControllerSet) -> ControllerSet { ControllerSet(names.filter { !other.contains($0) }) }

    /// The names in a cgroup.controllers or cgroup.subtree_control text ("cpu memory pids\n").
    public static func parse(_ text: String) -> ControllerSet {
        ControllerSet(text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }
}
