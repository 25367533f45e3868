import CleaveShim
import Glibc

/// Processes started by the agent tests: stdin from a file, stdout and
/// stderr into files of a private temporary directory.
final class Spawned {
    let pid: pid_t
    let directory: String
    private(set) var status: Int32?

    var stdoutPath: String { directory + "/stdout" }
    var stderrPath: String { directory + "/stderr" }
    var stdout: String { Self.contents(stdoutPath) }
    var stderr: String { Self.contents(stderrPath) }

    init(_ argv: [String], stdin: String = "") throws {
        var template = Array("/tmp/cleave-test-agent-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw ShimError("mkdtemp: \(String(cString: strerror(errno)))") }
        directory = String(cString: dir)
        let stdinPath = directory + "/stdin"
        _ = FileWriter.write(stdinPath, stdin)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, directory + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, directory + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw ShimError("spawn \(argv[0]): \(String(cString: strerror(rc)))") }
        pid = child
    }

    deinit {
        if status == nil { kill(pid, SIGKILL); _ = wait(timeout: 10) }
        _ = unlink(directory + "/stdin"); _ = unlink(stdoutPath); _ = unlink(stderrPath); _ = rmdir(directory)
    }

    /// The shell-style status once the process has exited, nil while it runs.
    func poll() -> Int32? {
        if let status { return status }
        var st: Int32 = 0
        guard waitpid(pid, &st, WNOHANG) == pid else { return nil }
        status = ExitStatus(waitStatus: st).shellCode
        return status
    }

    /// Waits up to `timeout` seconds; kills the process after that (and returns nil).
    func wait(timeout: Double) -> Int32? {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if let s = poll() { return s }
            usleep(5000)
        }
        kill(pid, SIGKILL)
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        status = ExitStatus(waitStatus: st).shellCode
        return nil
    }

    /// Runs to completion: (status, stdout, stderr); status nil on timeout.
    static func run(_ argv: [String], stdin: String = "", timeout: Double = 60) throws -> (status: Int32?, stdout: String, stderr: String) {
        let p = try Spawned(argv, stdin: stdin)
        let status = p.wait(timeout: timeout)
        return (status, p.stdout, p.stderr)
    }

    static func contents(_ path: String) -> String { ProcFS.readFile(path, limit: 64 << 20) ?? "" }
}

enum FileWriter {
    static func write(_ path: String, _ text: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}
