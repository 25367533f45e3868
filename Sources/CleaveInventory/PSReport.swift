import CleaveCgroups
import CleaveRuntime
import CleaveSystem

/// `cleave ps --json`: the listed cgroups, the memory their teardowns have still to give back,
/// and the node's memory to compare it with.
package struct PSReport: Codable, Sendable {
    package struct Node: Codable, Sendable, Equatable {
        package var memTotal: UInt64
        package var memAvailable: UInt64
    }

    package var cgroups: [ManagedCgroup]
    /// Over the listed cgroups that are tearing down.
    package var pendingRelease: PendingRelease
    /// nil when /proc/meminfo cannot be read.
    package var node: Node?

    package init(cgroups: [ManagedCgroup], meminfo: String = "/proc/meminfo") {
        self.cgroups = cgroups
        pendingRelease = PendingRelease.of(cgroups)
        node = NodeMemory.read(path: meminfo).map { Node(memTotal: $0.total, memAvailable: $0.available) }
    }

    /// The line printed under `cleave ps`'s table.
    package var pendingLine: String {
        var line = "pending release: \(pendingRelease.summary)"
        if let node { line += "; node MemAvailable \(ByteSize.format(node.memAvailable)) of \(ByteSize.format(node.memTotal))" }
        return line
    }
}
