import CCleaveSystem
import CleaveSystem
import Glibc

/// A process started by a test. Its output goes to pipes (read a line at a time, or all at
/// the end) or, for long-running chatty processes such as the agent whose pipes nobody
/// drains, to files in a private temporary directory that can be read at any time.
public final class ChildProcess {
    public enum Output: Sendable { case pipes, files }

    public let pid: pid_t
    public private(set) var status: Int32?
    /// The private directory of `.files` output (also a scratch directory for the test).
    public let directory: String?
    private let stdoutFD: Int32
    private let stderrFD: Int32
    private var stdoutBuffer = [UInt8]()

    /// `descriptors` (target: source) are given to the child besides stdio.
    public init(_ args: [String], environment: [String: String] = [:], stdin: String? = nil,
                descriptors: [Int32: Int32] = [:], output: Output = .pipes) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var inp: [Int32] = [0, 0]
        guard cleave_pipe_cloexec(&inp) == 0 else { throw SystemError("pipe2") }
        posix_spawn_file_actions_adddup2(&actions, inp[0], 0)
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        switch output {
        case .pipes:
            guard cleave_pipe_cloexec(&out) == 0, cleave_pipe_cloexec(&err) == 0 else { throw SystemError("pipe2") }
            posix_spawn_file_actions_adddup2(&actions, out[1], 1)
            posix_spawn_file_actions_adddup2(&actions, err[1], 2)
            directory = nil
        case .files:
            var template = Array("/tmp/cleave-test-child-XXXXXX".utf8CString)
            guard let dir = mkdtemp(&template) else { throw SystemError("mkdtemp", path: "/tmp") }
            let path = String(cString: dir)
            directory = path
            posix_spawn_file_actions_addopen(&actions, 1, path + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, path + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        for (target, source) in descriptors { posix_spawn_file_actions_adddup2(&actions, source, target) }
        var env = [String: String]()
        var entry = environ
        while let e = entry.pointee {
            let s = String(cString: e)
            if let eq = s.firstIndex(of: "=") { env[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            entry += 1
        }
        for (k, v) in environment { env[k] = v }
        let argv = args.map { strdup($0) } + [nil]
        let envp = env.sorted(by: { $0.key < $1.key }).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, nil, argv, envp)
        close(inp[0])
        if out[1] >= 0 { close(out[1]); close(err[1]) }
        if let stdin, rc == 0 { _ = stdin.withCString { write(inp[1], $0, strlen($0)) } }
        close(inp[1])
        guard rc == 0 else {
            if out[0] >= 0 { close(out[0]); close(err[0]) }
            throw SystemError("posix_spawn", path: args[0], errno: rc)
        }
        self.pid = pid
        stdoutFD = out[0]
        stderrFD = err[0]
    }

    deinit {
        if status == nil { kill(pid, SIGKILL); _ = exitStatus(timeout: 10) }
        if stdoutFD >= 0 { close(stdoutFD); close(stderrFD) }
        if let directory { _ = unlink(directory + "/stdout"); _ = unlink(directory + "/stderr"); _ = rmdir(directory) }
    }

    /// With `.files` output: what the process has written so far.
    public var stdout: String { directory.flatMap { FileIO.read($0 + "/stdout", limit: 64 << 20) } ?? "" }
    public var stderr: String { directory.flatMap { FileIO.read($0 + "/stderr", limit: 64 << 20) } ?? "" }

    /// The shell-style status once the process has exited, nil while it runs.
    public func poll() -> Int32? {
        if let status { return status }
        var st: Int32 = 0
        guard waitpid(pid, &st, WNOHANG) == pid else { return nil }
        status = ExitStatus(waitStatus: st).shellCode
        return status
    }

    /// Waits up to `timeout` seconds for the exit; kills the process after that and returns nil.
    @discardableResult
    public func exitStatus(timeout: Double) -> Int32? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        // Woken by the exit itself (a pidfd), so that a test sees the moment it happened.
        let pidfd = cleave_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        while true {
            if let s = poll() { return s }
            let now = Clock.monotonicNanoseconds()
            guard now < deadline else { break }
            if pidfd >= 0 {
                _ = cleave_pidfd_wait(pidfd, deadline - now)
            } else {
                usleep(5000)
            }
        }
        kill(pid, SIGKILL)
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        status = ExitStatus(waitStatus: st).shellCode
        return nil
    }

    /// With `.pipes` output: the next stdout line, or nil at EOF or after `timeout` seconds.
    public func readLine(timeout: Double = 60) -> String? {
        precondition(stdoutFD >= 0, "readLine needs .pipes output")
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        while true {
            if let nl = stdoutBuffer.firstIndex(of: 0x0a) {
                let line = String(decoding: stdoutBuffer[..<nl], as: UTF8.self)
                stdoutBuffer.removeSubrange(...nl)
                return line
            }
            let now = Clock.monotonicNanoseconds()
            guard now < deadline else { return nil }
            var pfd = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&pfd, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { continue }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(stdoutFD, &buf, buf.count)
            if n <= 0 { return nil }
            stdoutBuffer += buf[0..<n]
        }
    }

    /// Waits for the exit (killing it after `timeout`) and returns
    /// (shell-style status, the rest of stdout, all of stderr).
    @discardableResult
    public func wait(timeout: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        guard stdoutFD >= 0 else {
            _ = exitStatus(timeout: timeout)
            return (status ?? -1, stdout, stderr)
        }
        var out = stdoutBuffer, err = [UInt8]()
        stdoutBuffer.removeAll()
        var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0), pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)]
        var open = 2
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        var buf = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            let now = Clock.monotonicNanoseconds()
            if now > deadline { kill(pid, SIGKILL) }
            // A grandchild that outlived the process may hold the pipes for ever: stop reading.
            if now > deadline + 5_000_000_000 { break }
            guard Glibc.poll(&fds, 2, 500) > 0 else { continue }
            for i in 0..<2 where fds[i].revents != 0 {
                let n = read(fds[i].fd, &buf, buf.count)
                if n > 0 { if i == 0 { out += buf[0..<n] } else { err += buf[0..<n] } } else { fds[i].fd = -1; open -= 1 }
            }
        }
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        let code = ExitStatus(waitStatus: st).shellCode
        status = code
        return (code, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// Runs to completion with `.files` output: (status, stdout, stderr); status nil on timeout.
    public static func run(_ args: [String], stdin: String = "", timeout: Double = 60) throws -> (status: Int32?, stdout: String, stderr: String) {
        let p = try ChildProcess(args, stdin: stdin, output: .files)
        let status = p.exitStatus(timeout: timeout)
        return (status, p.stdout, p.stderr)
    }
}
