/// An error that ends a cleave command, kept as a value until the CLI renders it once as
/// "cleave: <description>" and exits with `exitCode`.
///
/// Exit codes follow the conventions of runc/crun and POSIX shells: 125 for cleave's own
/// failures (bad input, cgroup trouble), 126 when the command cannot be executed, 127 when
/// it is not found.
public enum CleaveError: Error, CustomStringConvertible, Sendable {
    /// A refusal or failure that cleave describes itself (bad input, a state it will not act on).
    case message(String)
    /// A system call failed while cleave was doing `context`; the call, its file and errno stay.
    case system(context: String, SystemError)
    /// A lower layer's typed error (CgroupError, OCIError, ParseError, …) with what cleave was
    /// doing; a caller can still match the underlying error.
    case wrapped(context: String, any Error)
    /// The command cannot be executed (126).
    case cannotExecute(String, errno: Int32?)
    /// The command is not found (127).
    case notFound(String)

    public static let usage: Int32 = 125
    public static let cannotExecuteCode: Int32 = 126
    public static let notFoundCode: Int32 = 127

    public var exitCode: Int32 {
        switch self {
        case .message, .system, .wrapped: return Self.usage
        case .cannotExecute: return Self.cannotExecuteCode
        case .notFound: return Self.notFoundCode
        }
    }

    /// The errno behind the error, where a system call failed.
    public var errno: Int32? {
        switch self {
        case .system(_, let error): return error.errno
        case .cannotExecute(_, let errno): return errno
        case .wrapped(_, let error as SystemError): return error.errno
        default: return nil
        }
    }

    /// The wording users see (and tests match): the context, then strerror or the underlying
    /// error's own description.
    public var description: String {
        switch self {
        case .message(let text), .notFound(let text): return text
        case .cannotExecute(let text, _): return text
        case .system(let context, let error): return "\(context): \(SystemError.reason(error.errno))"
        case .wrapped(let context, let error): return context.isEmpty ? "\(error)" : "\(context): \(error)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
