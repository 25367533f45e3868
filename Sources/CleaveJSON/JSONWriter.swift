import CleaveSystem
/// Writes a parsed document back out, keeping member order and every number's literal text,
/// so an edited config.json differs from the original only where it was edited (and in
/// whitespace: the output is indented by two spaces, as runc spec and crun spec write it).
package enum JSONWriter {
    package static func write(_ node: JSONNode) -> String {
        var out = ""
        write(node, indent: 0, into: &out)
        return out + "\n"
    }

    private static func write(_ node: JSONNode, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closingPad = String(repeating: "  ", count: indent)
        switch node.kind {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let text): out += text
        case .string(let s): out += JSONText.quoted(s)
        case .array(let elements):
            if elements.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, element) in elements.enumerated() {
                out += pad
                write(element, indent: indent + 1, into: &out)
                out += i == elements.count - 1 ? "\n" : ",\n"
            }
            out += closingPad + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, member) in members.enumerated() {
                out += pad + JSONText.quoted(member.key) + ": "
                write(member.value, indent: indent + 1, into: &out)
                out += i == members.count - 1 ? "\n" : ",\n"
            }
            out += closingPad + "}"
        }
    }

}

/// A JSON string literal by hand, for writers that keep their own layout (config.json
/// edits, the agent's JSON log lines) where an encoder would reorder or re-space.
public enum JSONText {
    public static func quoted(_ s: String) -> String { "\"" + Escaped.escape(s, style: .json) + "\"" }
}

extension JSONNode {
    package static func string(_ s: String) -> JSONNode { JSONNode(kind: .string(s), offset: 0) }
    package static func array(_ a: [JSONNode]) -> JSONNode { JSONNode(kind: .array(a), offset: 0) }
    package static func object(_ m: [(key: String, value: JSONNode)]) -> JSONNode { JSONNode(kind: .object(m), offset: 0) }

    /// The last member named `key` (the one decoding uses).
    package subscript(key: String) -> JSONNode? {
        get {
            guard case .object(let members) = kind else { return nil }
            return members.last { $0.key == key }?.value
        }
        set {
            guard case .object(var members) = kind else { return }
            if let i = members.lastIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
            kind = .object(members)
        }
    }

    package var arrayElements: [JSONNode]? {
        if case .array(let a) = kind { return a }
        return nil
    }

    package var stringValue: String? {
        if case .string(let s) = kind { return s }
        return nil
    }
}
