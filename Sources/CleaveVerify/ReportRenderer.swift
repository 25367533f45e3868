import CleaveCgroups
import FoundationEssentials
import CleaveRuntime
import CleaveSystem

/// The verify report as a table for people, or as JSON for programs.
package enum ReportRenderer {
    package static func json(_ report: VerifyReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    package static func table(_ report: VerifyReport) -> String {
        var out = "cleave verify \(report.version) — kernel \(report.host.kernel), cgroup2 at \(report.host.cgroupMount) (\(report.host.unified ? "unified" : "hybrid"); controllers: \(report.host.controllers.joined(separator: " ")))\n"
        out += "workload: \(report.workload.joined(separator: " "))  \(report.sizeBytes.map { "size \(ByteSize.format($0))" } ?? "no --size: checked against what it had charged")\(report.threads > 1 ? ", \(report.threads) threads" : "")\n"
        for mode in report.modes {
            out += "\n[\(mode.mode)] cgroup \(mode.cgroup)\n"
            out += "  method: \(mode.method)\n"
            if let origin = mode.helper { out += "  helper: \(origin.summary)\n" }
            var rows = [["READING", "VALUE", "UNIT"]]
            for r in mode.readings {
                rows.append([r.name, format(r), r.unit])
            }
            out += indent(TextTable.render(rows))
            var checks = [["CHECK", "RESULT", "EXPECTED", "OBSERVED"]]
            for c in mode.checks {
                checks.append([c.id, c.status.rawValue.uppercased(), c.expected, c.observed])
            }
            out += "\n" + indent(TextTable.render(checks))
        }
        if let ratio = report.exitLatencyRatio {
            let a = report.modes.first { $0.mode == "async" }?.reading("exit_latency") ?? 0
            let s = report.modes.first { $0.mode == "sync" }?.reading("exit_latency") ?? 0
            out += "\nexit latency: async \(fixed(a, 2)) ms, sync \(fixed(s, 2)) ms, ratio async/sync \(fixed(ratio, 4))\n"
        }
        out += "\nverdict: \(report.verdict.rawValue.uppercased()) — \(report.summary)\n"
        return out
    }

    static func format(_ r: Reading) -> String {
        guard let v = r.value else { return "absent" }
        if r.unit == "bytes" { return ByteSize.format(UInt64(max(0, v))) }
        if r.unit == "ms" { return fixed(v, 2) }
        return String(Int64(v))
    }

    static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = (v * scale).rounded() / scale
        var s = String(n)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        }
        return s
    }

    private static func indent(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
    }
}
