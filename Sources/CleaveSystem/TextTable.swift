/// Plain aligned columns for terminal output, like `ps` and `runc list`.
public enum TextTable {
    public static func render(_ rows: [[String]], separator: String = "   ") -> String {
        let widths = rows.reduce(into: [Int]()) { w, row in
            for (i, cell) in row.enumerated() {
                if i >= w.count { w.append(cell.count) } else { w[i] = max(w[i], cell.count) }
            }
        }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: separator)
        }.joined(separator: "\n") + "\n"
    }

    public static func age(_ seconds: Double) -> String {
        // From recorded times: a clock step or a damaged record must not reach Int(_:) out of range.
        guard seconds.isFinite else { return "?" }
        let seconds = min(max(seconds, 0), 1e12)
        switch seconds {
        case ..<120: return "\(Int(seconds))s"
        case ..<7200: return "\(Int(seconds / 60))m"
        case ..<172_800: return "\(Int(seconds / 3600))h"
        default: return "\(Int(seconds / 86400))d"
        }
    }
}
