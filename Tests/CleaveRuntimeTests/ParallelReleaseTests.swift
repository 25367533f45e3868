import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// The parallel release: once the workload is gone, its helper frees the private
/// memory with CLEAVE_TEARDOWN_WORKERS tasks (itself and CLONE_VM workers named like
/// it, its children, in the workload's cgroup).
@Suite("parallel release by the teardown helper (host tier)",
       .enabled(if: getuid() == 0 && TestEnvironment.hasCgroup2, "needs root and cgroup2"))
struct ParallelReleaseTests {
    /// Children of `helper` named like it, seen until `until` holds (polled every 2 ms).
    private static func workersSeen(of helper: Int32, workload: Int32, until done: () -> Bool, timeout: Double = 60) -> Set<Int32> {
        var seen = Set<Int32>()
        _ = TestEnvironment.eventually(timeout: timeout) {
            for child in ProcFS.children(of: helper) where ProcFS.comm(child) == "cleanup/\(workload)" { seen.insert(child) }
            return done()
        }
        return seen
    }

    /// The first worker seen (polled every 2 ms for up to 30 s), with `seen` done to it at
    /// once; nil when the helper left first.
    private static func firstWorker(of helper: Int32, workload: Int32, seen: (Int32) -> Void = { _ in }) -> Int32? {
        var worker: Int32?
        _ = TestEnvironment.eventually(timeout: 30) {
            worker = ProcFS.children(of: helper).first { ProcFS.comm($0) == "cleanup/\(workload)" }
            if let worker { seen(worker) }
            return worker != nil || !ProcFS.isAlive(helper)
        }
        return worker
    }

    @Test("with 2 workers, a worker named cleanup/<pid>, the helper's child in the workload's cgroup, frees beside the helper; the cgroup then empties")
    func workersFreeAndLeave() throws {
        let scratch = try ScratchCgroup("release")
        let run = try ReleaseFixture.start(["touch", "1024"], in: scratch.cgroup, workers: 2)
        #expect(ProcFS.comm(run.helper) == "cleanup/\(run.pid)")
        kill(run.pid, SIGKILL)
        _ = try run.process.wait(timeout: 30)
        var inCgroup = false
        let workers = Self.workersSeen(of: run.helper, workload: run.pid) {
            if !inCgroup, let procs = try? scratch.cgroup.processes() {
                inCgroup = ProcFS.children(of: run.helper).contains { procs.contains($0) }
            }
            return (try? scratch.cgroup.isPopulated()) == false
        }
        #expect(workers.count == 1, "workers seen: \(workers)")
        #expect(inCgroup, "no worker listed in the workload's cgroup.procs")
        #expect(TestEnvironment.eventually(timeout: 30) { (try? scratch.cgroup.isPopulated()) == false })
        #expect(!ProcFS.isAlive(run.helper))
    }

    @Test("the workers free at SCHED_IDLE, the helper at the workload's own policy")
    func workersRunIdle() throws {
        let scratch = try ScratchCgroup("release-idle")
        let run = try ReleaseFixture.startKilled(["touch", "1024"], in: scratch.cgroup, workers: 2)
        // Every policy each worker was seen with (one seen before its first instruction still has the helper's).
        var policies: [Int32: Set<Int32>] = [:]
        var helperPolicy: Int32 = -1
        _ = Self.workersSeen(of: run.helper, workload: run.pid) {
            for child in ProcFS.children(of: run.helper) {
                let policy = sched_getscheduler(child)
                if policy >= 0 { policies[child, default: []].insert(policy) }
            }
            let own = sched_getscheduler(run.helper)
            if own >= 0 { helperPolicy = own }
            return (try? scratch.cgroup.isPopulated()) == false
        }
        #expect(!policies.isEmpty, "no worker seen")
        let schedIdle: Int32 = 5 // SCHED_IDLE (Glibc's module leaves it out)
        #expect(policies.values.contains { $0.contains(schedIdle) }, "worker policies: \(policies)")
        #expect(helperPolicy == SCHED_OTHER, "the helper's policy: \(helperPolicy)")
    }

    @Test("a worker that gets no CPU holds back at most a chunk: with the worker stopped, the helper frees the rest, waits, and the release ends once the worker runs")
    func starvedWorkerHoldsBackAChunk() throws {
        let scratch = try ScratchCgroup("release-starved")
        let run = try ReleaseFixture.startKilled(["touch", "1024"], in: scratch.cgroup, workers: 2)
        // A SIGSTOPped worker is what a SCHED_IDLE worker on a busy CPU looks like, for as long as it lasts.
        let stopped = try #require(Self.firstWorker(of: run.helper, workload: run.pid) { kill($0, SIGSTOP) },
                                    "no worker appeared before the helper left")
        defer { kill(stopped, SIGCONT) }
        // The helper has taken every chunk left and waits for its worker (wait4 is system call 61).
        let waiting = TestEnvironment.eventually(timeout: 30) {
            FileIO.read("/proc/\(run.helper)/syscall")?.hasPrefix("61 ") == true
        }
        #expect(waiting, "the helper should end up waiting for the stopped worker")
        let rssKiB = Int(ProcFS.status(run.helper, field: "VmRSS")?.split(separator: " ").first ?? "") ?? -1
        // Of 1 GiB touched, what is left resident is the worker's one chunk (16 MiB) at most, and the fixture's own pages.
        #expect(rssKiB >= 0 && rssKiB < 48 * 1024, "resident while the worker is stopped: \(rssKiB) KiB")
        kill(stopped, SIGCONT)
        #expect(TestEnvironment.eventually(timeout: 30) { (try? scratch.cgroup.isPopulated()) == false })
        #expect(!ProcFS.isAlive(run.helper))
    }

    @Test("a worker killed with SIGKILL while it frees: the helper still exits and the cgroup empties")
    func killedWorkerDoesNotHangTheHelper() throws {
        let scratch = try ScratchCgroup("release-kill")
        let run = try ReleaseFixture.startKilled(["touch", "2048"], in: scratch.cgroup, workers: 2)
        let w = try #require(Self.firstWorker(of: run.helper, workload: run.pid), "no worker appeared before the helper left")
        #expect(kill(w, SIGKILL) == 0 || errno == ESRCH)
        #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(run.helper) }, "the helper outlived its killed worker")
        #expect(TestEnvironment.eventually(timeout: 30) { (try? scratch.cgroup.isPopulated()) == false })
    }

    @Test("a process sharing the memory (CLONE_VM, not a thread) that outlives the workload keeps its private memory intact: no parallel release under it")
    func sharerKeepsItsMemory() throws {
        let scratch = try ScratchCgroup("release-sharer")
        let result = "/tmp/cleave-test-release-sharer-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(result) }
        let run = try ReleaseFixture.startKilled(["sibling", "512", result], in: scratch.cgroup, workers: 2)
        // The sibling checks its pattern for a second after the workload's death, then writes the verdict.
        #expect(TestEnvironment.eventually(timeout: 60) { FileIO.read(result)?.hasSuffix("\n") == true })
        #expect(FileIO.read(result) == "intact\n", "sibling: \(FileIO.read(result) ?? "no verdict (it crashed?)")")
        #expect(TestEnvironment.eventually(timeout: 30) { (try? scratch.cgroup.isPopulated()) == false })
    }

    @Test("shared mappings and files keep their contents: a memfd held by another process, a MAP_SHARED file, and a file written through MAP_PRIVATE stays unchanged")
    func sharedAndFileMappingsKeepContents() throws {
        let scratch = try ScratchCgroup("release-shared")
        let file = "/tmp/cleave-test-release-file-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(file); unlink(file + ".private") }
        let run = try ReleaseFixture.start(["touch", "512"], in: scratch.cgroup, workers: 2, environment: ["RELEASE_FILE": file])
        // This process maps the workload's memfd too, and looks at it after the teardown.
        let memfd = open("/proc/\(run.pid)/fd/\(run.extra)", O_RDWR | O_CLOEXEC)
        try #require(memfd >= 0, "open the workload's memfd: \(SystemError.reason(errno))")
        defer { close(memfd) }
        let size = ReleaseFixture.patternSize
        let mapped = try #require(mmap(nil, size, PROT_READ, MAP_SHARED, memfd, 0).flatMap { $0 == MAP_FAILED ? nil : $0 })
        defer { munmap(mapped, size) }
        kill(run.pid, SIGKILL)
        _ = try run.process.wait(timeout: 30)
        #expect(TestEnvironment.eventually(timeout: 60) { (try? scratch.cgroup.isPopulated()) == false })
        let bytes = mapped.assumingMemoryBound(to: UInt8.self)
        let firstBadMemfd = (0..<size).first { bytes[$0] != ReleaseFixture.patternByte($0) }
        #expect(firstBadMemfd == nil, "memfd differs at \(firstBadMemfd ?? -1)")
        let shared = try #require(Self.readAll(file))
        #expect(shared.count == size)
        #expect(shared.indices.first { shared[$0] != ReleaseFixture.patternByte($0) } == nil, "MAP_SHARED file changed")
        let privateFile = try #require(Self.readAll(file + ".private"))
        #expect(privateFile.count == size && privateFile.allSatisfy { $0 == 0 }, "a MAP_PRIVATE write reached the file")
    }

    @Test("one worker behaves as before: the helper holds no maps or cgroup.procs descriptor, starts no worker, and leaves")
    func oneWorkerIsTodaysHelper() throws {
        let scratch = try ScratchCgroup("release-one")
        let run = try ReleaseFixture.start(["touch", "512"], in: scratch.cgroup, workers: 1)
        let links = try FileManagerless.links(of: run.helper)
        #expect(!links.contains { $0.hasSuffix("/maps") || $0.hasSuffix("/cgroup.procs") }, "descriptors: \(links)")
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(run.helper))
        kill(run.pid, SIGKILL)
        _ = try run.process.wait(timeout: 30)
        let workers = Self.workersSeen(of: run.helper, workload: run.pid) { (try? scratch.cgroup.isPopulated()) == false }
        #expect(workers.isEmpty, "workers seen: \(workers)")
        #expect(!ProcFS.isAlive(run.helper))
    }

    @Test("with 2 workers the helper holds its maps and cgroup.procs, and nothing else it inherited")
    func twoWorkerHelperDescriptors() throws {
        let scratch = try ScratchCgroup("release-fds")
        let run = try ReleaseFixture.start(["touch", "16"], in: scratch.cgroup, workers: 2)
        let links = try FileManagerless.links(of: run.helper)
        #expect(links.contains("/proc/\(run.helper)/maps"), "descriptors: \(links)")
        #expect(links.contains("\(scratch.cgroup.path)/cgroup.procs"), "descriptors: \(links)")
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(run.helper))
        #expect(ProcFS.status(run.helper, field: "Seccomp") == "2")
        kill(run.pid, SIGKILL)
        _ = try run.process.wait(timeout: 30)
        #expect(TestEnvironment.eventually(timeout: 30) { (try? scratch.cgroup.isPopulated()) == false })
    }

    private static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }
}
