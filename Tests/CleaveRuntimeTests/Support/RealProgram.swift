import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// A real program (JVM, Redis, Node, Python) started through `cleave run` by the
/// real-program tier: its cgroup, its workload pid, its helper, and how it stopped.
final class RealProgramRun {
    let path: String
    let cgroup: Cgroup
    let stateFile: String
    let run: ChildProcess
    /// The program's pid (the only process in the cgroup that is not a helper).
    private(set) var workload: Int32 = 0

    /// Starts `command` and waits until `ready` says it has allocated (at most `timeout` s).
    init(_ label: String, teardown: String, _ command: [String], timeout: Double = 180,
         ready: (RealProgramRun) throws -> Void) throws {
        path = TestEnvironment.uniqueCgroupPath("real-\(label)-\(teardown)")
        cgroup = try Cgroup(mount: TestEnvironment.mount!, path: path)
        stateFile = "/tmp/cleave-test-real-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json"
        run = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--teardown", teardown,
                                "--state-file", stateFile, "--"] + command)
        do {
            try ready(self)
            var found: Int32?
            _ = TestEnvironment.eventually(timeout: 10) {
                let procs = (try? self.cgroup.processes()) ?? []
                let programs = procs.filter { !TeardownHelpers.isHelper(comm: ProcFS.comm($0) ?? "cleanup/") }
                found = programs.count == 1 ? programs[0] : nil
                return found != nil
            }
            guard let found else {
                throw CleaveError.message("\(label): expected one program process in \(path): \(describeCgroup())")
            }
            workload = found
        } catch {
            cleanup()
            throw error
        }
    }

    /// Waits for a line starting with "ready" on the program's stdout.
    static func readyLine(timeout: Double) -> (RealProgramRun) throws -> Void {
        { run in
            let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
            while Clock.monotonicNanoseconds() < deadline {
                guard let line = run.run.readLine(timeout: Double(deadline - Clock.monotonicNanoseconds()) / 1e9) else { break }
                if line.hasPrefix("ready") { return }
            }
            let rest = try? run.run.wait(timeout: 1)
            throw CleaveError.message("the program never said ready within \(timeout) s: status \(rest?.status ?? -1), stderr: \(rest?.stderr.suffix(2000) ?? "")")
        }
    }

    var helpers: [Int32] { TeardownHelpers.helpers(of: workload, among: (try? cgroup.processes()) ?? []) }

    func describeCgroup() -> String {
        ((try? cgroup.processes()) ?? []).map { "\($0):\(ProcFS.comm($0) ?? "?")" }.joined(separator: " ")
    }

    struct Stop {
        var status: Int32
        var stderr: String
        /// From the signal to cleave's reap of the program (its state file's exitedAt).
        var reapSeconds: Double
        /// The helper was still seen after cleave's reap of the program: it, not the exit, frees.
        var helperOutlivedReap: Bool
    }

    /// SIGTERM goes to cleave (which forwards it), SIGKILL to the program (as a manager
    /// would: killing cleave would orphan it).
    func stop(_ signal: Int32) throws -> Stop {
        let helpersBefore = helpers
        let sent = Clock.wallSeconds()
        kill(signal == SIGKILL ? workload : run.pid, signal)
        // Watch the helper until it is gone (cleave's output waits in its pipes meanwhile).
        var helperLastSeen = 0.0
        let deadline = Clock.monotonicNanoseconds() + 60_000_000_000
        while helpersBefore.contains(where: ProcFS.isAlive) && Clock.monotonicNanoseconds() < deadline {
            helperLastSeen = Clock.wallSeconds()
            usleep(200)
        }
        let result = try run.wait(timeout: 120)
        let state = try RunState.read(from: stateFile)
        guard let exited = state.exitedAt else { throw CleaveError.message("no exitedAt in \(stateFile)") }
        return Stop(status: result.status, stderr: result.stderr, reapSeconds: exited - sent,
                    helperOutlivedReap: helperLastSeen > exited)
    }

    /// Nothing left: no helper of the program, the cgroup removed by cleave's watcher.
    func waitForNothingLeft(timeout: Double = 60) -> (helperGone: Bool, cgroupGone: Bool) {
        let helperGone = TestEnvironment.eventually(timeout: timeout) {
            !ProcFS.allPids().contains { TeardownHelpers.workloadPid(fromComm: ProcFS.comm($0) ?? "") == self.workload }
        }
        let cgroupGone = TestEnvironment.eventually(timeout: timeout) { !self.cgroup.exists }
        return (helperGone, cgroupGone)
    }

    func cleanup() {
        if run.status == nil { kill(run.pid, SIGKILL); _ = try? run.wait(timeout: 30) }
        TestEnvironment.removeCgroup(path)
        unlink(stateFile)
    }
}

/// Where the real programs are and whether this machine has them (hack/setup.sh installs them).
enum RealPrograms {
    static func which(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] where access("\(dir)/\(name)", X_OK) == 0 {
            return "\(dir)/\(name)"
        }
        return nil
    }

    /// A TCP port on 127.0.0.1 nothing listens on now (the kernel's pick for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CleaveError.message("socket: \(SystemError.reason(errno))") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw CleaveError.message("bind 127.0.0.1:0: \(SystemError.reason(errno))") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A scratch directory with the JVM's program, a single-file source (`java Prog.java`).
    static func javaProgram() throws -> String {
        let dir = "/tmp/cleave-test-java-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(dir, 0o700) == 0 else { throw CleaveError.message("mkdir \(dir): \(SystemError.reason(errno))") }
        let source = """
        public class Prog {
            public static void main(String[] args) throws Exception {
                System.out.println("ready");
                System.out.flush();
                Thread.sleep(600_000);
            }
        }

        """
        try AtomicFile.write(Array(source.utf8), to: dir + "/Prog.java")
        return dir
    }
}
