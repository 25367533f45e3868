/// Text from outside (container ids, paths, config values) as it may be echoed in a message or
/// a log line: control characters and DEL written as escapes, so an id with a
/// newline or a terminal escape sequence cannot forge a line or rewrite the terminal.
public enum Escaped {
    /// `.message`: \n, \r, \t and \xNN for the other C0 and C1 controls and DEL.
    /// `.json`: the escapes of a JSON string body as JSONEncoder writes them (\", \\, \n, \r, \t,
    /// \b, \f, \u00NN).
    public enum Style: Sendable { case message, json }

    public static func text(_ s: String) -> String { escape(s, style: .message) }

    public static func escape(_ s: String, style: Style) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"" where style == .json: out += "\\\""
            case "\\" where style == .json: out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}" where style == .json: out += "\\b"
            case "\u{c}" where style == .json: out += "\\f"
            case _ where scalar.value < 0x20 || (style == .message && (0x7f...0x9f).contains(scalar.value)):
                let hex = String(scalar.value, radix: 16)
                out += style == .json ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                                      : "\\x" + (hex.count < 2 ? "0" : "") + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
