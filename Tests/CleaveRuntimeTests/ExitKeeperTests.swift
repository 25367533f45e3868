import CCleaveContract
import CCleaveSystem
import FoundationEssentials
import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// The keeper of cleave's own address space (every run, cleave_exit_keeper.h): it holds
/// that memory and nothing else, so that cleave's exit reaches the manager before the unmapping.
@Suite("the exit keeper of cleave's own memory", .serialized,
       .enabled(if: getuid() == 0 && TestEnvironment.hasCgroup2, "needs root and cgroup2"))
struct ExitKeeperTests {
    static let name = CLEAVE_EXIT_KEEPER_NAME

    /// cleave run of a `sleep 30`, and its keeper once it has one.
    private static func start(path: String, teardown: String = "async",
                              environment: [String: String] = [:]) throws -> (run: ChildProcess, workload: Int32, keeper: Int32) {
        let run = try ChildProcess([TestEnvironment.cleave, "run", "--teardown", teardown, "--cgroup", path, "--",
                                    "sh", "-c", "echo $$; exec sleep 30 </dev/null >/dev/null 2>&1"], environment: environment)
        let workload = try #require(run.readLine().flatMap { Int32($0) }, "no pid from the workload")
        var keeper: Int32?
        _ = TestEnvironment.eventually(timeout: 10) {
            keeper = ProcFS.children(of: run.pid).first { ProcFS.comm($0) == name }
            return keeper != nil
        }
        guard let keeper else {
            kill(workload, SIGKILL)
            _ = try? run.wait(timeout: 30)
            Issue.record("cleave \(run.pid) started no \(name) child")
            throw CleaveError.message("no keeper")
        }
        return (run, workload, keeper)
    }

    /// Gone, or a zombie waiting for whichever process it was reparented to.
    private static func ended(_ pid: Int32) -> Bool { !ProcFS.isAlive(pid) }

    @Test("the keeper shares cleave's address space and cgroup, holds only a pidfd, blocks every signal, sits in / at SCHED_IDLE")
    func keeperHoldsOnlyTheMemory() throws {
        let path = TestEnvironment.uniqueCgroupPath("keeper")
        defer { TestEnvironment.removeCgroup(path) }
        let (run, workload, keeper) = try Self.start(path: path)
        defer { kill(workload, SIGKILL); _ = try? run.wait(timeout: 30) }
        #expect(cleave_same_address_space(run.pid, keeper) == 1, "the keeper must share cleave's memory (kcmp KCMP_VM)")
        #expect(cleave_same_address_space(workload, keeper) == 0)
        #expect(ProcFS.cgroupPath(keeper) == ProcFS.cgroupPath(run.pid), "the keeper stays in cleave's cgroup, not the workload's")
        // Its descriptors settle before it waits; then exactly one: the pidfd of cleave.
        var fds: [String] = []
        #expect(TestEnvironment.eventually(timeout: 10) {
            fds = Self.descriptorTargets(keeper)
            return fds == ["anon_inode:[pidfd]"]
        }, "keeper's descriptors: \(fds)")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(keeper)/cwd")) == "/")
        // Set right after its descriptors are closed: wait for it as for them.
        #expect(TestEnvironment.eventually(timeout: 10) { sched_getscheduler(keeper) == 5 /* SCHED_IDLE */ },
                "the keeper must take no CPU the helper or the manager wants (policy \(sched_getscheduler(keeper)))")
        let blocked = UInt64(ProcFS.status(keeper, field: "SigBlk") ?? "", radix: 16) ?? 0
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGCHLD, SIGTSTP, SIGPIPE] {
            #expect(blocked & (1 << UInt64(sig - 1)) != 0, "signal \(sig) not blocked in the keeper (SigBlk \(String(blocked, radix: 16)))")
        }
        kill(keeper, SIGTERM)
        kill(keeper, SIGINT)
        #expect(ProcFS.isAlive(keeper), "a blocked signal ended the keeper")
    }

    @Test("the keeper ends when cleave exits: after the workload's end (a sync run), and after cleave is killed (async)")
    func keeperEndsWithCleave() throws {
        let path = TestEnvironment.uniqueCgroupPath("keeper-end")
        defer { TestEnvironment.removeCgroup(path) }
        let (run, workload, keeper) = try Self.start(path: path, teardown: "sync")
        #expect(cleave_same_address_space(run.pid, keeper) == 1)
        kill(workload, SIGKILL)
        let result = try run.wait(timeout: 30)
        #expect(result.status == 137, "stderr: \(result.stderr)")
        #expect(TestEnvironment.eventually(timeout: 10) { Self.ended(keeper) }, "keeper \(keeper) outlived cleave")

        let killedPath = TestEnvironment.uniqueCgroupPath("keeper-killed")
        defer { TestEnvironment.removeCgroup(killedPath) }
        // A SIGKILLed cleave leaves its run record for `cleave gc`: keep it out of /run/cleave.
        let state = "/tmp/cleave-test-state-keeper-\(getpid())"
        AtomicFile.makeDirectories(state)
        defer { _ = try? ChildProcess.run(["/bin/rm", "-rf", state]) }
        let second = try Self.start(path: killedPath, environment: ["CLEAVE_STATE_DIR": state])
        defer { kill(second.workload, SIGKILL) }
        kill(second.run.pid, SIGKILL)
        _ = try? second.run.wait(timeout: 30)
        #expect(TestEnvironment.eventually(timeout: 10) { Self.ended(second.keeper) }, "keeper \(second.keeper) outlived a killed cleave")
    }

    private static func descriptorTargets(_ pid: Int32) -> [String] {
        let dir = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\($0)") }.sorted()
    }
}
