/// Parses human durations as runc, systemd and Go print them: "500ms", "5s",
/// "5m", "1h30m", "1.5s", or a bare number of seconds.
public enum DurationParser {
    public static func parse(_ text: String, option: String) throws -> Duration {
        let bad = { (why: String) in CleaveError.message("\(option): invalid duration '\(text)': \(why)") }
        let s = text.trimmed()
        guard !s.isEmpty else { throw bad("empty") }
        if let seconds = Double(s) {
            guard seconds.isFinite, seconds >= 0 else { throw bad("must be a non-negative number") }
            return try checked(seconds, bad)
        }
        var total = 0.0
        var rest = Substring(s)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else {
                throw bad("expected a number at '\(rest)' (use e.g. 500ms, 30s, 5m, 1h)")
            }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1e-9
            case "us", "µs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "": throw bad("missing unit after '\(number)' (use ms, s, m or h)")
            default: throw bad("unknown unit '\(unit)' (use ms, s, m or h)")
            }
            total += value * scale
        }
        return try checked(total, bad)
    }

    private static func checked(_ seconds: Double, _ bad: (String) -> CleaveError) throws -> Duration {
        guard seconds <= 365 * 86400 else { throw bad("longer than a year") }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

extension StringProtocol {
    /// Leading and trailing blanks removed, without Foundation.
    public func trimmed() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }
}
