/// Sizes as people and runtimes write them: "1048576", "512K", "64M", "1G",
/// "2T", with optional "B"/"iB" ("64MiB"); binary multiples.
public enum ByteSize {
    public static func parse(_ text: String) throws -> UInt64 {
        let t = text.trimmedLine
        guard !t.isEmpty else { throw ParseError(text, "empty size") }
        var digits = Substring(t)
        var suffix = ""
        while let last = digits.last, last.isLetter { suffix = String(last) + suffix; digits = digits.dropLast() }
        let multiplier: UInt64
        switch suffix.lowercased() {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        case "t", "tb", "tib": multiplier = 1 << 40
        default: throw ParseError(text, "unknown unit '\(suffix)' (use K, M, G or T)")
        }
        guard !digits.isEmpty else { throw ParseError(text, "missing number before '\(suffix)'") }
        if let whole = UInt64(digits) {
            let (product, overflow) = whole.multipliedReportingOverflow(by: multiplier)
            guard !overflow else { throw ParseError(text, "too large") }
            return product
        }
        guard digits.allSatisfy({ $0.isNumber || $0 == "." }), let fraction = Double(digits), fraction.isFinite else {
            throw ParseError(text, "expected a size such as 1048576, 512K, 64M or 1G")
        }
        let value = fraction * Double(multiplier)
        guard value < 1.8e19 else { throw ParseError(text, "too large") }
        return UInt64(value.rounded())
    }

    public static func parseLimit(_ text: String) throws -> LimitValue {
        text.trimmedLine == "max" ? .max : .value(try parse(text))
    }

    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(bytes) B" }
        let tenths = (value * 10).rounded() / 10
        return "\(tenths) \(units[unit])"
    }
}
