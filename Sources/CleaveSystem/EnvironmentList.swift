import Glibc

/// The process environment as a dictionary and back, preserving order.
public struct EnvironmentList: Sendable {
    public private(set) var entries: [(String, String)]

    public static func current() -> EnvironmentList {
        var list = [(String, String)]()
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                list.append((String(s[..<eq]), String(s[s.index(after: eq)...])))
            }
            p += 1
        }
        return EnvironmentList(entries: list)
    }

    public init(entries: [(String, String)]) { self.entries = entries }

    public subscript(name: String) -> String? {
        get { entries.last { $0.0 == name }?.1 }
        set {
            entries.removeAll { $0.0 == name }
            if let newValue { entries.append((name, newValue)) }
        }
    }

    public var dictionary: [String: String] {
        Dictionary(entries, uniquingKeysWith: { _, last in last })
    }

    public var strings: [String] { entries.map { "\($0.0)=\($0.1)" } }
}

extension EnvironmentList {
    /// LD_PRELOAD with `library` added in front of what is already there, unless it is already
    /// named (ld.so takes ':' or ' ' between names): the one rule for adding cleave's library.
    public static func preloadValue(adding library: String, to existing: String?) -> String {
        guard let existing, !existing.isEmpty else { return library }
        let named = existing.split(whereSeparator: { $0 == ":" || $0 == " " }).contains { $0 == library }
        return named ? existing : library + ":" + existing
    }
}
