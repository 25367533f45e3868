/// An error that ends a cleave command with a message and an exit code.
///
/// Exit codes follow the conventions of runc/crun and POSIX shells:
/// 125 for cleave's own failures (bad input, cgroup trouble), 126 when the
/// command cannot be executed, 127 when it is not found.
public struct ShimError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 125) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }

    public static let usage: Int32 = 125
    public static let cannotExecute: Int32 = 126
    public static let notFound: Int32 = 127
}
