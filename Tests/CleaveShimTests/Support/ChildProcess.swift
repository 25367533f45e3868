import CCleaveSpawn
import Glibc
import CleaveShim

/// A process started by a test with its stdout and stderr on pipes. Reading
/// is done on demand (lines from stdout, everything at the end).
final class ChildProcess {
    let pid: pid_t
    private let stdoutFD: Int32
    private let stderrFD: Int32
    private var stdoutBuffer = [UInt8]()
    private(set) var status: Int32?

    /// `descriptors` (target: source) are given to the child besides stdio.
    init(_ args: [String], environment: [String: String] = [:], stdin: String? = nil, descriptors: [Int32: Int32] = [:]) throws {
        var out: [Int32] = [0, 0], err: [Int32] = [0, 0], inp: [Int32] = [0, 0]
        precondition(cleave_pipe_cloexec(&out) == 0 && cleave_pipe_cloexec(&err) == 0 && cleave_pipe_cloexec(&inp) == 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inp[0], 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        for (target, source) in descriptors { posix_spawn_file_actions_adddup2(&actions, source, target) }
        var env = EnvironmentList.current()
        for (k, v) in environment { env[k] = v }
        let argv = args.map { strdup($0) } + [nil]
        let envp = env.strings.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, args[0], &actions, nil, argv, envp)
        close(out[1]); close(err[1]); close(inp[0])
        if let stdin { _ = stdin.withCString { write(inp[1], $0, strlen($0)) } }
        close(inp[1])
        guard rc == 0 else {
            close(out[0]); close(err[0])
            throw ShimError("spawn \(args[0]): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        stdoutFD = out[0]
        stderrFD = err[0]
    }

    deinit {
        if status == nil { kill(pid, SIGKILL); _ = try? wait() }
        close(stdoutFD); close(stderrFD)
    }

    /// The next stdout line, or nil at EOF or after `timeout` seconds.
    func readLine(timeout: Double = 60) -> String? {
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
            guard poll(&pfd, 1, Int32((deadline - now) / 1_000_000) + 1) > 0 else { continue }
            var buf = [UInt8](repeating: 0, count: 4096)
            let n = read(stdoutFD, &buf, buf.count)
            if n <= 0 { return nil }
            stdoutBuffer += buf[0..<n]
        }
    }

    /// Waits for the exit (killing it after `timeout`) and returns
    /// (shell-style status, rest of stdout, all of stderr).
    @discardableResult
    func wait(timeout: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
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
            guard poll(&fds, 2, 500) > 0 else { continue }
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
}
