import CleaveSystem
import CleaveJSON
/// A problem with an OCI document (config.json, hook state, hooks.d entry), phrased for
/// the person who has to fix the file: which file, which field, what is wrong.
public struct OCIError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or input such as "<stdin>") the problem is in.
    public var file: String?
    /// Dotted path of the offending field, array indexes as "[i]": "process.args[1]".
    public var field: String?
    /// 1-based position of the problem in the file, when it is known.
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String? = nil, field: String? = nil, line: Int? = nil, column: Int? = nil,
                message: String) {
        self.file = file
        self.field = field
        self.line = line
        self.column = column
        self.message = message
    }

    /// "file: field: message", or "file: line L, column C: message" when no field names the
    /// spot (syntax errors). The field is left out when the message already starts with it
    /// ("ociVersion '0.9.0' is not supported ..."), so it is never said twice.
    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let field {
            if !(message == field || message.hasPrefix(field + " ")) { parts.append(field) }
        } else if let line, let column {
            parts.append("line \(line), column \(column)")
        }
        parts.append(message)
        // Values from the document are echoed: a newline or escape sequence in them must not
        // forge a log line or reach the terminal.
        return Escaped.text(parts.joined(separator: ": "))
    }
}
