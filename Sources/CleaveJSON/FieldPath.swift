/// One step of a path into a JSON document. Kept as our own Sendable type because
/// `CodingKey` is not Sendable and errors must be.
package enum PathComponent: Sendable, Equatable {
    case key(String)
    case index(Int)
}

package enum FieldPath {
    /// "linux.resources.memory.limit", "process.args[1]", `annotations["io.cleave.teardown"]`.
    /// Keys that are not plain identifiers are quoted in brackets so a dotted annotation
    /// key cannot be mistaken for nesting.
    package static func format(_ path: [PathComponent]) -> String {
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

    package static func format(_ path: [any CodingKey]) -> String {
        format(path.map(component(of:)))
    }

    /// Our decoder marks array positions with `IndexKey`; Foundation's decoders use
    /// intValue plus a stringValue of "Index N".
    package static func component(of key: any CodingKey) -> PathComponent {
        if let index = key as? IndexKey { return .index(index.index) }
        if let i = key.intValue, key.stringValue == "Index \(i)" { return .index(i) }
        return .key(key.stringValue)
    }

    package static func isIdentifier(_ s: String) -> Bool {
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
package struct IndexKey: CodingKey {
    package let index: Int
    package init(_ index: Int) { self.index = index }
    package init?(intValue: Int) { self.index = intValue }
    package init?(stringValue: String) { return nil }
    package var intValue: Int? { index }
    package var stringValue: String { "Index \(index)" }
}

extension String {
    /// Plain literal replacement without Foundation, so this file has no imports.
    package func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
