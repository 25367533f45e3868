import Glibc
import CleaveSystem

/// Finds the executable for a command name the way execvp(3) would, in the
/// parent, so the child only calls execve and reports a precise reason.
public enum CommandResolver {
    public static func resolve(_ name: String, path searchPath: String?) throws -> String {
        guard !name.isEmpty else { throw CleaveError.notFound("cannot execute '': empty command name") }
        if name.contains("/") { return name }
        let dirs = (searchPath ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "." : String($0) }
        var sawNonExecutable: String?
        for dir in dirs {
            let candidate = "\(dir)/\(name)"
            var st = stat()
            guard stat(candidate, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { continue }
            if access(candidate, X_OK) == 0 { return candidate }
            sawNonExecutable = sawNonExecutable ?? candidate
        }
        if let path = sawNonExecutable {
            throw CleaveError.cannotExecute("cannot execute '\(name)': \(path): Permission denied", errno: EACCES)
        }
        throw CleaveError.notFound("cannot execute '\(name)': command not found")
    }

    /// The exit code and message for an execve failure reported by the child.
    public static func failure(_ failure: SpawnFailure, command: String) -> CleaveError {
        guard failure.step == "execve" else {
            return .message("cannot start '\(command)': \(failure.step) failed: \(failure.reason)")
        }
        let text = "cannot execute '\(command)': \(failure.reason)"
        switch failure.errno {
        case ENOENT, ENOTDIR: return .notFound(text)
        default: return .cannotExecute(text, errno: failure.errno)
        }
    }
}
