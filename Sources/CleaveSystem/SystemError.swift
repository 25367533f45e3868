import Glibc

/// A failed system call: which call, on which file (if any), and errno, kept as a value so a
/// caller can match it (`error.errno == ENOENT`) and the CLI renders it once.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String?
    public var errno: Int32

    /// From the current errno (or `errno`) after `operation` failed.
    public init(_ operation: String, path: String? = nil, errno err: Int32 = Glibc.errno) {
        self.operation = operation; self.path = path; self.errno = err
    }

    /// strerror(3) of `errno`: the one place Swift turns an errno into words.
    public static func reason(_ errno: Int32) -> String { String(cString: strerror(errno)) }

    /// "open /run/cleave/x.json: Permission denied (EACCES)".
    public var description: String {
        "\(operation)\(path.map { " " + $0 } ?? ""): \(errnoText(errno))"
    }
}

/// "Device or resource busy (EBUSY)": strerror with the symbolic name that runbooks search for.
public func errnoText(_ err: Int32) -> String {
    let names: [Int32: String] = [EPERM: "EPERM", ENOENT: "ENOENT", EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST",
                                  EINVAL: "EINVAL", ENOTDIR: "ENOTDIR", EROFS: "EROFS", ENOSPC: "ENOSPC", EAGAIN: "EAGAIN",
                                  ESRCH: "ESRCH", EOPNOTSUPP: "EOPNOTSUPP", ENOTEMPTY: "ENOTEMPTY", E2BIG: "E2BIG"]
    let text = SystemError.reason(err)
    return names[err].map { "\(text) (\($0))" } ?? text
}
