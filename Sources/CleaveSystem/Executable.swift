import Glibc

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
