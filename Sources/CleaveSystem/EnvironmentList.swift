import Glibc

/// The process environment as a dictionary and back, preserving order.
public struct EnvironmentList: Sendable {
    public private(set) var entries: [(String, String)]

    /// environ split at each entry's first "=" byte, as libc's getenv does (on the bytes:
    /// a Character search cost 40 µs of every start); an entry without one is left out.
    public static func current() -> EnvironmentList { parse(environ) }

    /// A NULL-terminated array of "NAME=value" C strings, environ's form.
    public static func parse(_ entries: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> EnvironmentList {
        var list = [(String, String)]()
        var p = entries
        while let entry = p.pointee {
            let length = strlen(entry)
            if let eq = memchr(entry, Int32(UInt8(ascii: "=")), length) {
                let nameLength = UnsafeRawPointer(eq) - UnsafeRawPointer(entry)
                let bytes = UnsafeRawBufferPointer(start: entry, count: length)
                list.append((String(decoding: bytes[..<nameLength], as: UTF8.self),
                             String(decoding: bytes[(nameLength + 1)...], as: UTF8.self)))
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
