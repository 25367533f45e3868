import CleaveCgroups

/// `cleave ps --json`: the listed cgroups, the memory their teardowns have still to give back,
/// and the node's memory to compare it with.
public struct PSReport: Codable, Sendable {
    public struct Node: Codable, Sendable, Equatable {
        public var memTotal: UInt64
        public var memAvailable: UInt64
    }

    public var cgroups: [ManagedCgroup]
    /// Over the listed cgroups that are tearing down.
    public var pendingRelease: PendingRelease
    /// nil when /proc/meminfo cannot be read.
    public var node: Node?

    public init(cgroups: [ManagedCgroup], meminfo: String = "/proc/meminfo") {
        self.cgroups = cgroups
        pendingRelease = PendingRelease.of(cgroups)
        node = NodeMemory.read(path: meminfo).map { Node(memTotal: $0.total, memAvailable: $0.available) }
    }

    /// The line printed under `cleave ps`'s table.
    public var pendingLine: String {
        var line = "pending release: \(pendingRelease.summary)"
        if let node { line += "; node MemAvailable \(ByteSize.format(node.memAvailable)) of \(ByteSize.format(node.memTotal))" }
        return line
    }
}
