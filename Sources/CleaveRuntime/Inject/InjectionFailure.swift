import Glibc

/// Why `HelperInjector.attach` gave no helper, kept typed (inside `CleaveError.wrapped`) so a
/// caller can tell a process that already has a helper from a failure.
public struct InjectionFailure: Error, CustomStringConvertible, Sendable {
    /// errno of the failed step (EEXIST: the process already has a helper).
    public var errno: Int32
    /// Nothing was changed in the target.
    public var refused: Bool
    /// The failed step, as cleave_inject_helper worded it.
    public var step: String

    public init(errno: Int32, refused: Bool, step: String) {
        self.errno = errno
        self.refused = refused
        self.step = step
    }

    /// The target has a child named cleanup/… already (a preloaded or earlier injected helper).
    public var alreadyHasHelper: Bool { errno == EEXIST && refused }

    public var description: String { step + (refused ? " (nothing was changed)" : "") }
}
