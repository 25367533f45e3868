import Glibc

/// Validation of cgroup paths given by users, configs and flags. A path is
/// relative to the cgroup2 mount; a leading "/" is allowed and dropped.
public enum CgroupPath {
    public static func validate(_ path: String, under parent: String? = nil) throws -> String {
        func refuse(_ why: String) -> CgroupError {
            CgroupError(operation: "validate", path: path, message: why)
        }
        // Bytes, not Characters: Swift compares Characters (grapheme clusters), so "/" or "\n"
        // followed by a combining mark, or "\r\n", would hide from contains("/") and split("/")
        // while the kernel still sees the byte.
        let bytes = Array(path.utf8)
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        if bytes.contains(0) { throw refuse("contains a NUL byte") }
        if bytes.contains(10) || bytes.contains(13) { throw refuse("contains a newline") }
        var body = bytes[...]
        while body.first == slash { body = body.dropFirst() }
        if body.last == slash { body = body.dropLast() }
        let components = body.split(separator: slash, omittingEmptySubsequences: false)
        if !body.isEmpty {
            for c in components {
                if c.isEmpty { throw refuse("has an empty component ('//')") }
                if c.elementsEqual([dot]) || c.elementsEqual([dot, dot]) {
                    throw refuse("has a '\(String(decoding: c, as: UTF8.self))' component: a cgroup path may not leave its parent")
                }
                if c.count > 255 { throw refuse("has a component longer than 255 bytes") }
            }
        }
        let normalised = String(decoding: body, as: UTF8.self)
        if let parent {
            let p = Array(try validate(parent).utf8)
            if !p.isEmpty && !body.elementsEqual(p) && !body.starts(with: p + [slash]) {
                throw refuse("is not below the parent cgroup '/\(String(decoding: p, as: UTF8.self))'")
            }
        }
        return normalised
    }

    /// Room kept for "/" and the longest interface file name after the directory.
    static let fileNameReserve = 64

    /// Refuses a path whose directory, or a file in it, would not fit PATH_MAX: checked
    /// before anything is created, so mkdir -p never fails half-way on ENAMETOOLONG.
    public static func checkLength(_ relative: String, mountPoint: String) throws {
        let length = mountPoint.utf8.count + 1 + relative.utf8.count
        let limit = Int(PATH_MAX) - fileNameReserve
        if length > limit {
            throw CgroupError(operation: "validate", path: String(relative.prefix(80)) + (relative.utf8.count > 80 ? "…" : ""),
                              message: "is \(length) bytes long below \(mountPoint): a cgroup path may be at most \(limit) bytes (PATH_MAX \(PATH_MAX) less room for its files)")
        }
    }
}
