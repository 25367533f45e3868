import Glibc

/// Locates libcleave-teardown.so, the library injected with LD_PRELOAD.
public enum TeardownLibrary {
    public static let fileName = "libcleave-teardown.so"

    /// CLEAVE_TEARDOWN_LIBRARY, then next to the cleave executable, then
    /// ../lib beside it, then the usual system directories, then the copy cleave carries
    /// (written once under /run/cleave/lib: see EmbeddedLibraryInstaller).
    public static func locate(environment: [String: String]) -> String? {
        if let explicit = environment["CLEAVE_TEARDOWN_LIBRARY"], !explicit.isEmpty {
            return access(explicit, R_OK) == 0 ? explicit : nil
        }
        var candidates = [String]()
        if let exe = Executable.directory() {
            candidates += ["\(exe)/\(fileName)", "\(exe)/../lib/\(fileName)", "\(exe)/../lib/cleave/\(fileName)"]
        }
        candidates += ["/usr/local/lib/\(fileName)", "/usr/lib/\(fileName)", "/usr/lib/cleave/\(fileName)"]
        return candidates.first { access($0, R_OK) == 0 }
            ?? EmbeddedLibraryInstaller.install(environment: environment)
    }
}

/// The running cleave binary, for spawning its own helper subcommands.
public enum Executable {
    public static func path() -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func directory() -> String? {
        guard let p = path(), let slash = p.lastIndex(of: "/") else { return nil }
        return String(p[..<slash])
    }
}

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
