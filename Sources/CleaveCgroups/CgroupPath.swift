/// Validation of cgroup paths given by users, configs and flags. A path is
/// relative to the cgroup2 mount; a leading "/" is allowed and dropped.
public enum CgroupPath {
    public static func validate(_ path: String, under parent: String? = nil) throws -> String {
        func refuse(_ why: String) -> CgroupError {
            CgroupError(operation: "validate", path: path, message: why)
        }
        if path.contains("\0") { throw refuse("contains a NUL byte") }
        if path.contains("\n") || path.contains("\r") { throw refuse("contains a newline") }
        var body = Substring(path)
        while body.hasPrefix("/") { body = body.dropFirst() }
        if body.hasSuffix("/") { body = body.dropLast() }
        let components = body.split(separator: "/", omittingEmptySubsequences: false)
        if !body.isEmpty {
            for c in components {
                if c.isEmpty { throw refuse("has an empty component ('//')") }
                if c == "." || c == ".." { throw refuse("has a '\(c)' component: a cgroup path may not leave its parent") }
                if c.utf8.count > 255 { throw refuse("has a component longer than 255 bytes") }
            }
        }
        let normalised = String(body)
        if let parent {
            let p = try validate(parent)
            if !p.isEmpty && normalised != p && !normalised.hasPrefix(p + "/") {
                throw refuse("is not below the parent cgroup '/\(p)'")
            }
        }
        return normalised
    }
}
