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

/// One step of a path into a JSON document. Kept as our own Sendable type because
/// `CodingKey` is not Sendable and errors must be.
enum PathComponent: Sendable, Equatable {
    case key(String)
    case index(Int)
}

enum FieldPath {
    /// "linux.resources.memory.limit", "process.args[1]", `annotations["io.cleave.teardown"]`.
    /// Keys that are not plain identifiers are quoted in brackets so a dotted annotation
    /// key cannot be mistaken for nesting.
    static func format(_ path: [PathComponent]) -> String {
        var out = ""
        for component in path {
            switch component {
            case .index(let i):
                out += "[\(i)]"
            case .key(let k):
                if isIdentifier(k) {
                    out += out.isEmpty ? k : "." + k
                } else {
                    out += "[\"\(escaped(k))\"]"
                }
            }
        }
        return out
    }

    static func format(_ path: [any CodingKey]) -> String {
        format(path.map(component(of:)))
    }

    /// Our decoder marks array positions with `IndexKey`; Foundation's decoders use
    /// intValue plus a stringValue of "Index N".
    static func component(of key: any CodingKey) -> PathComponent {
        if let index = key as? IndexKey { return .index(index.index) }
        if let i = key.intValue, key.stringValue == "Index \(i)" { return .index(i) }
        return .key(key.stringValue)
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || isASCIILetter(first) else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0 == "_" || isASCIILetter($0) || ("0"..."9").contains($0) }
    }

    private static func isASCIILetter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }

    private static func escaped(_ s: String) -> String {
        s.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"")
    }
}

/// The coding key our decoder uses for array elements.
struct IndexKey: CodingKey {
    let index: Int
    init(_ index: Int) { self.index = index }
    init?(intValue: Int) { self.index = intValue }
    init?(stringValue: String) { return nil }
    var intValue: Int? { index }
    var stringValue: String { "Index \(index)" }
}

extension String {
    /// Plain literal replacement without Foundation, so this file has no imports.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
