import CleaveCgroups
import CleaveRuntime
import CleaveSystem

/// Memory still charged to cgroups whose teardown is under way: what `cleave ps` reports as
/// the node's pending release and what `--wait-memory` waits for. "Tearing down" is
/// ManagedCgroups' rule (only teardown helpers left), the one `cleave ps` shows.
package struct PendingRelease: Codable, Sendable, Equatable {
    /// Sum of memory.current over `cgroups`.
    package var bytes: UInt64
    /// The releasing cgroups' paths.
    package var cgroups: [String]
    /// How many of them had no readable memory.current (no memory controller): their
    /// memory is not in `bytes`.
    package var unmeasured: Int

    package init(bytes: UInt64 = 0, cgroups: [String] = [], unmeasured: Int = 0) {
        self.bytes = bytes
        self.cgroups = cgroups
        self.unmeasured = unmeasured
    }

    package static func of(_ entries: [ManagedCgroup]) -> PendingRelease {
        var result = PendingRelease()
        for entry in entries where entry.state == .tearingDown {
            result.cgroups.append(entry.path)
            if let bytes = entry.memoryCurrent {
                result.bytes = result.bytes.addingReportingOverflow(bytes).overflow ? .max : result.bytes + bytes
            } else {
                result.unmeasured += 1
            }
        }
        return result
    }

    /// The runs cleave manages (records anywhere, and the cgroups below `parent`), as `cleave ps` lists them.
    package static func read(parent: String = "cleave", mount: CgroupMount,
                            stateDirectory: String = RunState.directory) throws -> PendingRelease {
        of(try ManagedCgroups.list(parent: parent, mount: mount, stateDirectory: stateDirectory))
    }

    /// "512.0 MiB in 1 cgroup" for messages.
    package var summary: String {
        let n = cgroups.count
        var text = "\(ByteSize.format(bytes)) in \(n) cgroup\(n == 1 ? "" : "s")"
        if unmeasured > 0 { text += " (\(unmeasured) without memory accounting)" }
        return text
    }
}
