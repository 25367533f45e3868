import CCleaveContract
import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// Fixtures/release_fixture.c, compiled once per test process, run with the library
/// preloaded in a cgroup of its own (the helper frees in parallel only when it is
/// the last process there).
enum ReleaseFixture {
    private static let built = CFixture.build("release_fixture", flags: ["-O1", "-g"], libraries: ["-ldl"])

    /// The fixture started in `cgroup` (by a shell that moves itself there and execs it),
    /// with CLEAVE_TEARDOWN_WORKERS=`workers`; returns it and its "ready" line's numbers.
    static func start(_ arguments: [String], in cgroup: Cgroup, workers: Int,
                      environment: [String: String] = [:]) throws -> (process: ChildProcess, pid: Int32, helper: Int32, extra: Int32) {
        let binary = try built.get()
        let quoted = ([binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let script = "echo $$ > '\(cgroup.path)/cgroup.procs' && LD_PRELOAD='\(TestEnvironment.teardownLibrary)' CLEAVE_TEARDOWN_PID= exec \(quoted)"
        var env = environment
        env[CLEAVE_ENV_TEARDOWN_WORKERS] = String(workers)
        let process = try ChildProcess(["/bin/sh", "-c", script], environment: env)
        guard let line = process.readLine(timeout: 60) else {
            throw CleaveError.message("no ready line from the fixture: \((try? process.wait(timeout: 5))?.stderr ?? "")")
        }
        let fields = line.split(separator: " ").compactMap { Int32($0) }
        guard line.hasPrefix("ready "), fields.count == 3, fields[1] > 0 else { throw CleaveError.message("fixture said: \(line)") }
        return (process, fields[0], fields[1], fields[2])
    }

    /// `start`, then SIGKILL to the workload and its reap: the helper (and its workers) now hold
    /// the address space alone.
    static func startKilled(_ arguments: [String], in cgroup: Cgroup, workers: Int) throws
        -> (process: ChildProcess, pid: Int32, helper: Int32, extra: Int32) {
        let run = try start(arguments, in: cgroup, workers: workers)
        kill(run.pid, SIGKILL)
        _ = try run.process.wait(timeout: 30)
        return run
    }

    /// The byte the fixture writes at offset i of its pattern.
    static func patternByte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
    static let patternSize = 1 << 20
}

/// A cgroup made for one test, removed (killed first) at the end.
final class ScratchCgroup {
    let cgroup: Cgroup
    let relativePath: String

    init(_ label: String) throws {
        guard let mount = TestEnvironment.mount else { throw CleaveError.message("no cgroup2 mount") }
        relativePath = TestEnvironment.uniqueCgroupPath(label)
        cgroup = try Cgroup(mount: mount, path: relativePath)
        _ = try cgroup.create()
    }

    deinit { TestEnvironment.removeCgroup(relativePath) }
}
