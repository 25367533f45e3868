import Glibc
import Testing
import CleaveRuntime
import CleaveSystem

/// The workload's start as the C target does it, in this process. Without a user change the child
/// shares cleave's memory until it execs (clone3 with CLONE_VM | CLONE_VFORK): its set-up must
/// reach the workload and nothing of cleave's.
@Suite("workload spawner")
struct WorkloadSpawnerTests {
    private static let probeSignal: Int32 = 45   // a real-time signal nothing else here uses

    /// The address of this process's handler for probeSignal (0: SIG_DFL).
    private static func handler() -> UInt {
        var current = sigaction()
        sigaction(probeSignal, nil, &current)
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: UInt.self)
    }

    private static func run(_ script: String, settings: ProcessSettings) throws -> (output: String, status: Int32) {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var request = WorkloadSpawner.Request(
            executable: "/bin/sh", arguments: ["sh", "-c", script], environment: ["PATH=/usr/bin:/bin"],
            cgroupDirectory: -1, cgroupProcsPath: nil, settings: settings, pidEnvironmentName: "SPAWN_TEST_PID")
        request.stdoutFD = fds[1]
        let workload: SpawnedWorkload
        do {
            defer { close(fds[1]) }
            workload = try WorkloadSpawner.spawn(request)
        }
        defer { close(workload.pidfd) }
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += buffer[0..<n]
        }
        close(fds[0])
        var status: Int32 = 0
        waitpid(workload.pid, &status, 0)
        return (String(decoding: output, as: UTF8.self), status)
    }

    @Test("the child's set-up reaches the workload (cwd, umask, rlimit, signal dispositions, its pid variable) and leaves cleave's own as they were")
    func setUpStaysInTheChild() throws {
        // A handler of this process's: the child resets every disposition before exec.
        var installed = sigaction()
        installed.__sigaction_handler.sa_handler = { _ in }
        sigaction(Self.probeSignal, &installed, nil)
        defer { signal(Self.probeSignal, SIG_DFL) }
        let before = Self.handler()
        #expect(before != 0)
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let cwd = SpawnTestDirectory.currentDirectory()

        var settings = ProcessSettings()
        settings.cwd = "/"
        settings.umask = 0o027
        settings.rlimits = [.init(resource: Int32(RLIMIT_NOFILE.rawValue), soft: 77, hard: UInt64(limit.rlim_max))]
        for _ in 0..<20 {
            let result = try Self.run("echo $(pwd) $(umask) $(ulimit -n) $SPAWN_TEST_PID $$; grep SigCgt /proc/self/status", settings: settings)
            #expect(result.status == 0)
            let words = result.output.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            #expect(words.count == 7, "\(result.output)")
            guard words.count == 7 else { return }
            #expect(words[0] == "/" && words[1] == "0027" && words[2] == "77")
            #expect(words[3] == words[4], "the pid variable names the workload")
            let caught = UInt64(words[6], radix: 16) ?? ~0
            #expect(caught & (1 << UInt64(Self.probeSignal - 1)) == 0, "this process's handler did not reach the workload: \(result.output)")
        }
        #expect(Self.handler() == before, "cleave's handler is still installed")
        var after = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &after)
        #expect(after.rlim_cur == limit.rlim_cur && after.rlim_max == limit.rlim_max)
        #expect(SpawnTestDirectory.currentDirectory() == cwd)
    }

    @Test("a failed exec in the child is reported with its step and errno, and cleave carries on")
    func execFailure() throws {
        for (path, expected) in [("/nonexistent/program", ENOENT), ("/", EACCES)] {
            let request = WorkloadSpawner.Request(
                executable: path, arguments: [path], environment: [], cgroupDirectory: -1, cgroupProcsPath: nil,
                settings: ProcessSettings(), pidEnvironmentName: nil)
            #expect { try WorkloadSpawner.spawn(request) } throws: { error in
                guard let failure = error as? SpawnFailure else { return false }
                return failure.step == "execve" && failure.errno == expected
            }
        }
        // Still able to start a program afterwards.
        let result = try Self.run("echo ok", settings: ProcessSettings())
        #expect(result.output == "ok\n" && result.status == 0)
    }
}

/// getcwd without Foundation.
private enum SpawnTestDirectory {
    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "" }
        return String(cString: buffer)
    }
}
