import CCleaveSystem
import CleaveOCI
import Glibc
import CleaveSystem

/// Runs one OCI hook as the runtime-spec says: `path` executed with `args` and exactly
/// `env`, the container state as JSON on stdin, killed after `timeout` seconds.
public enum HookProcess {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Returns when the hook exited 0; throws a Failure naming what went wrong otherwise.
    public static func run(_ hook: Hook, stdin: [UInt8]) throws {
        var pipe: [Int32] = [-1, -1]
        guard cleave_pipe_cloexec(&pipe) == 0 else { throw Failure(description: "pipe: \(errnoText(errno))") }
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn(hook.args ?? [hook.path], executable: hook.path, environment: hook.env ?? [], stdin: pipe[0])
        } catch let error as SystemError {
            close(pipe[0]); close(pipe[1])
            throw Failure(description: "cannot execute \(hook.path): \(SystemError.reason(error.errno))")
        }
        close(pipe[0])
        // A hook that exits without reading its stdin must not kill cleave (EPIPE, no SIGPIPE).
        FileIO.writeWithoutSIGPIPE(pipe[1], stdin)
        close(pipe[1])
        try wait(pid: pid, path: hook.path, timeout: hook.timeout)
    }

    private static func wait(pid: pid_t, path: String, timeout: Int?) throws {
        if let timeout {
            let pidfd = cleave_pidfd_open(pid)
            if pidfd >= 0 {
                defer { close(pidfd) }
                if cleave_pidfd_wait(pidfd, UInt64(max(timeout, 0)) * 1_000_000_000) != 1 {
                    kill(pid, SIGKILL)
                    var status: Int32 = 0
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    throw Failure(description: "\(path) timed out after \(timeout)s and was killed")
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waitpid \(pid): \(errnoText(errno))") }
        }
        switch ExitStatus(waitStatus: status) {
        case .exited(0): return
        case .exited(let code): throw Failure(description: "\(path) exited with status \(code)")
        case .signaled(let sig): throw Failure(description: "\(path) was killed by signal \(sig)")
        }
    }
}
