import CleaveSystem
/// The node's memory as /proc/meminfo states it: what the agent exports beside the pending
/// release, so that alerts can compare the two.
public struct NodeMemory: Sendable, Equatable {
    public var total: UInt64
    public var available: UInt64

    public init(total: UInt64, available: UInt64) {
        self.total = total
        self.available = available
    }

    /// nil when the file cannot be read or lacks MemTotal or MemAvailable (kernels before 3.14).
    public static func read(path: String = "/proc/meminfo") -> NodeMemory? {
        FileIO.read(path).flatMap(parse)
    }

    /// `MemTotal:  24563748 kB` lines; values in KiB, returned in bytes.
    public static func parse(_ text: String) -> NodeMemory? {
        var total: UInt64?, available: UInt64?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == ":" })
            guard fields.count >= 2, let kib = UInt64(fields[1]) else { continue }
            let (bytes, overflow) = kib.multipliedReportingOverflow(by: 1024)
            if overflow { return nil }
            switch fields[0] {
            case "MemTotal": total = bytes
            case "MemAvailable": available = bytes
            default: continue
            }
        }
        guard let total, let available else { return nil }
        return NodeMemory(total: total, available: available)
    }
}
