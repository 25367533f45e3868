/// What `cleave verify` found: every reading with its unit, every check with
/// its expectation and observation, and a verdict. Encoded as the --json
/// document, rendered as the table.
public struct VerifyReport: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        case pass
        case fail
        /// No check failed, but some could not be made here (say which and why).
        case partial
    }

    public struct Host: Codable, Sendable {
        public var kernel: String
        public var cgroupMount: String
        public var unified: Bool
        public var controllers: [String]
        public var memoryController: Bool
    }

    public var tool = "cleave verify"
    public var version: String
    public var host: Host
    /// The probe's size, or a command's --size; nil for a command without one
    /// (each mode's `reference` reading is then what it had charged).
    public var sizeBytes: UInt64?
    public var threads: Int
    public var workload: [String]
    public var modes: [ModeReport]
    /// async exit latency / sync exit latency, when both ran.
    public var exitLatencyRatio: Double?
    public var verdict: Verdict
    public var summary: String
}

public struct Reading: Codable, Sendable, Equatable {
    public var name: String
    public var value: Double?
    public var unit: String
    public var note: String?

    public init(_ name: String, _ value: Double?, _ unit: String, note: String? = nil) {
        self.name = name; self.value = value; self.unit = unit; self.note = note
    }
}

public struct Check: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case pass, fail, unavailable }
    public var id: String
    public var description: String
    public var expected: String
    public var observed: String
    public var status: Status
}

public struct ModeReport: Codable, Sendable {
    public var mode: String
    public var cgroup: String
    public var workloadPid: Int32?
    public var helperPids: [Int32]
    public var readings: [Reading]
    public var checks: [Check]
    /// How the post-reap reading was made deterministic.
    public var method: String
    public var verdict: VerifyReport.Verdict

    public func reading(_ name: String) -> Double? { readings.first { $0.name == name }?.value }
}

extension VerifyReport.Verdict {
    /// fail beats partial beats pass.
    static func combine(_ statuses: [Check.Status]) -> VerifyReport.Verdict {
        if statuses.contains(.fail) { return .fail }
        if statuses.contains(.unavailable) { return .partial }
        return .pass
    }

    static func combine(_ verdicts: [VerifyReport.Verdict]) -> VerifyReport.Verdict {
        if verdicts.contains(.fail) { return .fail }
        if verdicts.contains(.partial) { return .partial }
        return .pass
    }
}
