import CleaveSystem
import Glibc

/// A failed cgroup operation: which operation, on which file, and why.
public struct CgroupError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var path: String
    public var message: String
    public var errno: Int32?

    public init(operation: String, path: String, message: String, errno: Int32? = nil) {
        self.operation = operation; self.path = path; self.message = message; self.errno = errno
    }

    /// From the current errno of a failed system call.
    public static func system(_ operation: String, _ path: String, errno err: Int32 = Glibc.errno) -> CgroupError {
        CgroupError(operation: operation, path: path, message: errnoText(err), errno: err)
    }

    public var description: String { "\(operation) \(path): \(message)" }
}

/// Bad text: a size, a path, a file's contents.
public struct ParseError: Error, CustomStringConvertible, Sendable {
    public var input: String
    public var message: String
    public init(_ input: String, _ message: String) { self.input = input; self.message = message }
    public var description: String { "invalid value '\(input.count > 80 ? String(input.prefix(80)) + "…" : input)': \(message)" }
}
