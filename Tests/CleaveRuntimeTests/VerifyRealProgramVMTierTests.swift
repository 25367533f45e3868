import Testing
import CleaveTestSupport

/// `cleave verify -- COMMAND` on programs that are not its probe: no --size (the
/// reference is what the program had charged), python3 (dynamically linked, so it
/// gets the preload's helper), and page cache that stays charged after the exit.
@Suite("VMTier: cleave verify on real programs", .serialized,
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct VerifyRealProgramVMTierTests {
    static let MiB = 1_048_576.0
    /// A file of a few MiB no other VM-tier test reads (qemu runs on the host, not in the guest).
    static let bigFile = "/usr/bin/qemu-system-x86_64"

    @Test("a program that reads 12 MiB of a file, then allocates 64 MiB: passes without --size, the cache is reported apart")
    func readsAFileFirst() throws {
        // DONTNEED first: the pages must be read in by (and charged to) this workload's cgroup.
        let script = """
        import os, time
        fd = os.open('\(Self.bigFile)', os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        left = 12 << 20
        while left > 0:
            got = len(os.read(fd, min(left, 1 << 20)))
            if got == 0: break
            left -= got
        data = bytearray(b'\\x01') * (64 << 20)
        time.sleep(300)
        """
        let (status, report, stderr) = try runVerify(["--mode", "both", "--", "/usr/bin/python3", "-c", script])
        #expect(status == 0, "\(report.summary) \(stderr)")
        #expect(report.verdict == "pass")
        for name in ["async", "sync"] {
            let mode = try #require(report.mode(name))
            #expect(mode.checks.allSatisfy { $0.status == "pass" }, "\(name): \(mode.checks.filter { $0.status != "pass" })")
            // The reference is what it had charged: the 64 MiB and the interpreter.
            let reference = try #require(mode.value("reference"))
            #expect(reference >= 64 * Self.MiB && reference < 160 * Self.MiB, "\(name): reference \(reference)")
            #expect(try #require(mode.value("memory.cache.before_end")) >= 10 * Self.MiB, "\(name): the file read is charged here")
            // After the teardown the process memory is back, the cache is not: memory.current
            // alone would count it as unreleased (the old check), the split does not.
            let process = try #require(mode.value("memory.process.final"))
            let current = try #require(mode.value("memory.current.final"))
            let cache = try #require(mode.value("memory.cache.final"))
            #expect(process < 8 * Self.MiB, "\(name): process memory left \(process)")
            #expect(cache >= 10 * Self.MiB, "\(name): the cache stays charged (\(cache))")
            #expect(current >= process + 10 * Self.MiB, "\(name): memory.current \(current) holds the cache")
        }
        #expect(report.mode("async")?.status("2.helper-present") == "pass")
    }

    @Test("python3 allocating 256 MiB with --size 256M: has a helper, passes, async reaps far faster than sync")
    func python256M() throws {
        let script = "import time\ndata = bytearray(b'\\x01') * (256 << 20)\ntime.sleep(300)\n"
        let (status, report, stderr) = try runVerify(["--size", "256M", "--mode", "both", "--", "/usr/bin/python3", "-c", script])
        #expect(status == 0, "\(report.summary) \(stderr)")
        let async = try #require(report.mode("async"))
        #expect(async.checks.allSatisfy { $0.status == "pass" }, "\(async.checks.filter { $0.status != "pass" })")
        #expect(async.status("2.helper-present") == "pass")
        #expect(try #require(async.value("memory.process.after_reap")) >= 0.9 * 256 * Self.MiB)
        let reference = try #require(async.value("reference"))
        #expect(reference == 256 * Self.MiB, "reference \(reference)")
        let sync = try #require(report.mode("sync"))
        #expect(sync.status("5.freed-before-reap") == "pass")
        let ratio = try #require(report.exitLatencyRatio)
        #expect(ratio < 0.5, "async exit should be far faster than sync: ratio \(ratio)")
    }

    @Test("without --size a command that allocates nothing fails the allocation check")
    func allocatesNothing() throws {
        let (status, report, _) = try runVerify(["--mode", "sync", "--", "sleep", "300"])
        #expect(status == 1)
        #expect(report.mode("sync")?.status("1.memory-charged") == "fail")
    }
}
