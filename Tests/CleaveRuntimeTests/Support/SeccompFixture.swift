import CleaveCgroups
import FoundationEssentials
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// Fixtures/seccomp_target.c built with `cc -static`: a process under a seccomp filter of the
/// test's choosing that answers on a pipe, and `cleave attach` with options.
enum SeccompFixture {
    private static let built = CFixture.build("seccomp_target", flags: ["-O1", "-static"])

    struct Target {
        let process: ChildProcess
        let pid: Int32
        /// Its mappings when it started (it maps nothing after installing its filter).
        let mappings: Int
        /// Our end of its descriptor 3 (a socket: a send to a target that died fails with EPIPE
        /// instead of killing the test process with SIGPIPE).
        let feed: Int32

        /// Sends `c` and waits for its echo: the target still runs and answers.
        func answers(_ c: Character) -> Bool {
            var byte = UInt8(ascii: c.unicodeScalars.first!)
            guard send(feed, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { return false }
            return process.readLine(timeout: 30) == "echo \(c)"
        }

        /// Asks it to exit ('q') and returns its status.
        func finish() throws -> Int32 {
            var byte = UInt8(ascii: "q")
            _ = send(feed, &byte, 1, Int32(MSG_NOSIGNAL))
            close(feed)
            return try process.wait(timeout: 60).status
        }
    }

    /// Starts the fixture with a filter returning `action` for system call `nr` (when its first
    /// argument has a bit of `mask`; 0: always), holding `mib` MiB, in `cgroup` if given.
    static func start(_ action: String, nr: Int, mask: UInt32 = 0, mib: Int = 0, in cgroup: Cgroup? = nil,
                      environment: [String: String] = [:], under wrapper: [String] = []) throws -> Target {
        let binary = try built.get()
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else { throw SystemError("socketpair") }
        defer { close(fds[0]) }
        let arguments = wrapper + [binary, action, "\(nr)", "\(mask)", "\(mib)"]
        let argv: [String]
        if let cgroup {
            let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
            argv = ["/bin/sh", "-c", "echo $$ > '\(cgroup.path)/cgroup.procs' && exec \(quoted)"]
        } else {
            argv = arguments
        }
        let process = try ChildProcess(argv, environment: environment, descriptors: [3: fds[0]])
        guard let line = process.readLine(timeout: 60) else {
            close(fds[1])
            throw CleaveError.message("no ready line from seccomp_target: \((try? process.wait(timeout: 5))?.stderr ?? "")")
        }
        let fields = line.split(separator: " ").compactMap { Int($0) }
        guard line.hasPrefix("ready "), fields.count == 2 else {
            close(fds[1])
            throw CleaveError.message("seccomp_target said: \(line)")
        }
        return Target(process: process, pid: Int32(fields[0]), mappings: fields[1], feed: fds[1])
    }

    /// Fixtures/seccomp_allowlist.py: a container-like allowlist built by libseccomp, when the
    /// host has python3 and libseccomp.
    static var allowlist: [String]? {
        let libraries = ["/usr/lib/x86_64-linux-gnu/libseccomp.so.2", "/lib/x86_64-linux-gnu/libseccomp.so.2", "/usr/lib64/libseccomp.so.2"]
        guard access("/usr/bin/python3", X_OK) == 0, libraries.contains(where: { access($0, R_OK) == 0 }) else { return nil }
        return ["/usr/bin/python3", TestEnvironment.repositoryRoot + "/Tests/CleaveRuntimeTests/Fixtures/seccomp_allowlist.py"]
    }

    static func mappingCount(_ pid: Int32) -> Int {
        (FileIO.read("/proc/\(pid)/maps") ?? "").split(separator: "\n").count
    }

    /// `cleave attach PID --json [extra...]`: the decoded report, or the exit status and stderr.
    static func attach(_ pid: Int32, _ extra: [String] = []) throws -> (status: Int32, report: InjectedHelper?, stderr: String) {
        let result = try ChildProcess([TestEnvironment.cleave, "attach", "\(pid)", "--json"] + extra).wait(timeout: 60)
        let report = result.status == 0 ? try? JSONDecoder().decode(InjectedHelper.self, from: Data(result.stdout.utf8)) : nil
        return (result.status, report, result.stderr)
    }
}
