/// Text from outside (container ids, paths, config values) as it may be echoed in a message or
/// a log line: control characters and DEL written as escapes, so an id with a
/// newline or a terminal escape sequence cannot forge a line or rewrite the terminal.
public enum Escaped {
    public static func text(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value):
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" : "") + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
