import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// The programs people give big heaps to, started through `cleave run` as a user
/// would: the JVM, Redis, Node and Python (all dynamically linked against glibc, so
/// the preload reaches them). Each gets a few hundred MiB (CI time matters). Per
/// program: the exit status when cleave forwards SIGTERM, the helper's name and
/// cgroup, nothing left; then SIGKILL with sync and async teardown in the same test:
/// async reaps before the freeing (the helper outlives the reap) and sooner than sync.
/// Serialized: the timing comparison must not share the two CPUs with its siblings.
@Suite("Real programs (host tier)", .serialized, .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct RealProgramTests {
    enum Program: String, CaseIterable, CustomTestStringConvertible {
        case java, redis, node, python
        var testDescription: String { rawValue }

        var binary: String? {
            switch self {
            case .java: RealPrograms.which("java")
            case .redis: RealPrograms.which("redis-cli") == nil ? nil : RealPrograms.which("redis-server")
            case .node: RealPrograms.which("node") ?? RealPrograms.which("nodejs")
            case .python: RealPrograms.which("python3")
            }
        }

        /// What each does on SIGTERM: the JVM runs its shutdown hooks and exits 143;
        /// Redis shuts down cleanly (exit 0); Node and Python die of the signal (143).
        var sigtermStatus: Int32 { self == .redis ? 0 : 128 + SIGTERM }

        /// Starts the program with about `mib` MiB touched.
        func start(teardown: String, mib: Int) throws -> (RealProgramRun, cleanup: () -> Void) {
            guard let binary else { throw CleaveError.message("\(rawValue) is not installed (hack/setup.sh installs it)") }
            switch self {
            case .java:
                let dir = try RealPrograms.javaProgram()
                // A pre-touched heap of mib MiB (4 KiB pages: the JVM asks for THP only with
                // -XX:+UseTransparentHugePages); the source launcher compiles Prog.java in memory.
                let run = try RealProgramRun("java", teardown: teardown,
                                             [binary, "-Xms\(mib)m", "-Xmx\(mib)m", "-XX:+AlwaysPreTouch", "-XX:+UseSerialGC",
                                              "-Xshare:auto", dir + "/Prog.java"],
                                             ready: RealProgramRun.readyLine(timeout: 240))
                return (run, { TestEnvironment.removeTree(dir) })
            case .redis:
                let port = try RealPrograms.freePort()
                let cli = RealPrograms.which("redis-cli")!
                let run = try RealProgramRun("redis", teardown: teardown,
                                             [binary, "--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no",
                                              "--daemonize", "no", "--enable-debug-command", "local", "--dir", "/tmp",
                                              "--logfile", ""], ready: { run in
                    let up = TestEnvironment.eventually(timeout: 60) {
                        (try? ChildProcess([cli, "-h", "127.0.0.1", "-p", String(port), "ping"]).wait(timeout: 10).stdout)?.hasPrefix("PONG") == true
                    }
                    guard up else { throw CleaveError.message("redis on 127.0.0.1:\(port) did not answer PING within 60 s") }
                    // Keys of 1 KiB values: about 1.3 KiB each with Redis's overhead.
                    let keys = mib * 1024 * 1024 / 1300
                    let filled = try ChildProcess([cli, "-h", "127.0.0.1", "-p", String(port), "debug", "populate", String(keys), "k", "1024"]).wait(timeout: 180)
                    guard filled.stdout.hasPrefix("OK") else { throw CleaveError.message("DEBUG POPULATE: \(filled.stdout) \(filled.stderr)") }
                })
                return (run, {})
            case .node:
                let script = "const b = Buffer.alloc(\(mib) * 1048576, 1); console.log('ready'); setInterval(() => b[0]++, 1e6);"
                let run = try RealProgramRun("node", teardown: teardown, [binary, "-e", script],
                                             ready: RealProgramRun.readyLine(timeout: 120))
                return (run, {})
            case .python:
                let script = "import time\ndata = bytearray(b'\\x01') * (\(mib) << 20)\nprint('ready', flush=True)\ntime.sleep(600)\n"
                let run = try RealProgramRun("python", teardown: teardown, [binary, "-c", script],
                                             ready: RealProgramRun.readyLine(timeout: 120))
                return (run, {})
            }
        }
    }

    static let mib = 256

    @Test("SIGTERM is forwarded and the status relayed; the helper is cleanup/<pid> in the program's cgroup; nothing is left",
          arguments: Program.allCases)
    func sigterm(_ program: Program) throws {
        try #require(program.binary != nil, "\(program) is not installed: hack/setup.sh installs it")
        let (run, cleanup) = try program.start(teardown: "async", mib: Self.mib)
        defer { run.cleanup(); cleanup() }
        let helpers = run.helpers
        #expect(helpers.count == 1, "\(program): \(run.describeCgroup())")
        let helper = try #require(helpers.first)
        #expect(ProcFS.comm(helper) == "cleanup/\(run.workload)")
        #expect(ProcFS.cgroupPath(helper) == "/" + run.path)
        // It shares the program's address space, so it holds the touched memory.
        let rssKiB = ProcFS.status(helper, field: "VmRSS").flatMap { UInt64($0.split(separator: " ").first ?? "") } ?? 0
        #expect(rssKiB >= UInt64(Self.mib) * 1024 * 8 / 10, "\(program): helper VmRSS \(rssKiB) KiB")

        let stop = try run.stop(SIGTERM)
        #expect(stop.status == program.sigtermStatus, "\(program): stderr \(stop.stderr.suffix(2000))")
        let left = run.waitForNothingLeft()
        #expect(left.helperGone, "\(program): the helper is still there")
        #expect(left.cgroupGone, "\(program): cleave's watcher did not remove \(run.path)")
    }

    @Test("SIGKILL: the status is 137; async reaps at once while the helper frees, sync frees on the exit path and reaps later",
          arguments: Program.allCases)
    func sigkillAsyncAgainstSync(_ program: Program) throws {
        try #require(program.binary != nil, "\(program) is not installed: hack/setup.sh installs it")
        var reap = ["sync": [Double](), "async": [Double]()]
        // Interleaved, two rounds: the best of each is compared (one slow scheduling
        // decision on a loaded machine must not decide).
        for _ in 0..<2 {
            for mode in ["sync", "async"] {
                let (run, cleanup) = try program.start(teardown: mode, mib: Self.mib)
                defer { run.cleanup(); cleanup() }
                if mode == "sync" {
                    #expect(run.helpers.isEmpty, "\(program): sync has no helper: \(run.describeCgroup())")
                } else {
                    #expect(run.helpers.count == 1, "\(program): \(run.describeCgroup())")
                }
                let stop = try run.stop(SIGKILL)
                #expect(stop.status == 137, "\(program) \(mode): stderr \(stop.stderr.suffix(2000))")
                if mode == "async" {
                    // Structural, not timed: the program was reaped while the helper still
                    // held (and freed) its memory.
                    #expect(stop.helperOutlivedReap, "\(program): the helper was gone before cleave reaped the program")
                }
                reap[mode]!.append(stop.reapSeconds)
                let left = run.waitForNothingLeft()
                #expect(left.helperGone && left.cgroupGone, "\(program) \(mode): left \(left)")
            }
        }
        let sync = reap["sync"]!.min()!, async = reap["async"]!.min()!
        let ratio = async / sync
        print("real programs: \(program) \(Self.mib) MiB SIGKILL→reap: sync \(reap["sync"]!.map { Int($0 * 1000) }) ms, async \(reap["async"]!.map { Int($0 * 1000) }) ms, best-of ratio \(ratio)")
        #expect(async < sync, "\(program): async reap \(async) s is not below sync \(sync) s")
    }
}
