import CleaveRuntime
import CleaveSystem
/// What `cleave verify` found: every reading with its unit, every check with
/// its expectation and observation, and a verdict. Encoded as the --json
/// document, rendered as the table.
package struct VerifyReport: Codable, Sendable {
    package enum Verdict: String, Codable, Sendable {
        case pass
        case fail
        /// No check failed, but some could not be made here (say which and why).
        case partial
    }

    package struct Host: Codable, Sendable {
        package var kernel: String
        package var cgroupMount: String
        package var unified: Bool
        package var controllers: [String]
        package var memoryController: Bool
    }

    package var tool = "cleave verify"
    package var version: String
    package var host: Host
    /// The probe's size, or a command's --size; nil for a command without one
    /// (each mode's `reference` reading is then what it had charged).
    package var sizeBytes: UInt64?
    package var threads: Int
    package var workload: [String]
    package var modes: [ModeReport]
    /// async exit latency / sync exit latency, when both ran.
    package var exitLatencyRatio: Double?
    package var verdict: Verdict
    package var summary: String
}

package struct Reading: Codable, Sendable, Equatable {
    package var name: String
    package var value: Double?
    package var unit: String
    package var note: String?

    package init(_ name: String, _ value: Double?, _ unit: String, note: String? = nil) {
        self.name = name; self.value = value; self.unit = unit; self.note = note
    }
}

package struct Check: Codable, Sendable, Equatable {
    package enum Status: String, Codable, Sendable { case pass, fail, unavailable }
    package var id: String
    package var description: String
    package var expected: String
    package var observed: String
    package var status: Status
}

package struct ModeReport: Codable, Sendable {
    package var mode: String
    package var cgroup: String
    package var workloadPid: Int32?
    package var helperPids: [Int32]
    /// How the async workload got its helper: LD_PRELOAD or injection at exec (and its pause).
    package var helper: HelperOrigin?
    package var readings: [Reading]
    package var checks: [Check]
    /// How the post-reap reading was made deterministic.
    package var method: String
    package var verdict: VerifyReport.Verdict

    package func reading(_ name: String) -> Double? { readings.first { $0.name == name }?.value }
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
