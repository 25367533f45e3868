import CleaveCgroups
import Foundation
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// The parts of verify's JSON the tests read.
struct VerifyJSON: Decodable {
    struct Mode: Decodable {
        struct Reading: Decodable { var name: String; var value: Double?; var unit: String }
        struct Check: Decodable { var id: String; var status: String; var expected: String; var observed: String }
        var mode: String
        var readings: [Reading]
        var checks: [Check]
        var verdict: String
        func value(_ name: String) -> Double? { readings.first { $0.name == name }?.value }
        func status(_ id: String) -> String? { checks.first { $0.id == id }?.status }
    }
    var modes: [Mode]
    var verdict: String
    var exitLatencyRatio: Double?
    var summary: String
    func mode(_ m: String) -> Mode? { modes.first { $0.mode == m } }
}

func runVerify(_ args: [String]) throws -> (status: Int32, report: VerifyJSON, stderr: String) {
    let result = try ChildProcess([TestEnvironment.cleave, "verify", "--json", "--parent", "cleave-test-verify"] + args).wait(timeout: 600)
    let report = try JSONDecoder().decode(VerifyJSON.self, from: Data(result.stdout.utf8))
    return (result.status, report, result.stderr)
}

@Suite("VMTier: cleave verify", .serialized,
       .enabled(if: TestEnvironment.hasMemoryController, "needs the memory controller in cgroup2: run through hack/test.sh (VM tier)"))
struct VerifyVMTierTests {
    @Test("verify --size 256M --mode both passes, with the readings to prove it")
    func passes() throws {
        let size = 256.0 * 1_048_576
        let (status, report, stderr) = try runVerify(["--size", "256M", "--mode", "both"])
        #expect(status == 0, "\(report.summary) \(stderr)")
        #expect(report.verdict == "pass")
        let async = try #require(report.mode("async"))
        let sync = try #require(report.mode("sync"))
        let before = try #require(async.value("memory.current.before_end"))
        #expect(before >= 0.9 * size)
        // Right after the reap the memory is still charged; the helper alone holds the cgroup.
        #expect(try #require(async.value("memory.current.after_reap")) >= 0.9 * before)
        #expect(async.value("cgroup.procs.after_reap") == 1)
        #expect(try #require(async.value("memory.current.final")) < 16 * 1_048_576)
        #expect(try #require(async.value("cpu.stat.system_usec.teardown")) > 0)
        // Sync: freed before the reap.
        #expect(try #require(sync.value("memory.current.after_reap")) < 16 * 1_048_576)
        let ratio = try #require(report.exitLatencyRatio)
        #expect(ratio < 0.5, "async exit should be far faster than sync: ratio \(ratio)")
        #expect(async.checks.allSatisfy { $0.status == "pass" })
    }

    @Test("negative control: a helper outside the workload's cgroup fails the cgroup checks")
    func helperOutside() throws {
        let (status, report, _) = try runVerify(["--size", "64M", "--mode", "async", "--fault", "helper-outside"])
        #expect(status == 1)
        #expect(report.verdict == "fail")
        let async = try #require(report.mode("async"))
        #expect(async.status("2.helper-in-cgroup") == "fail")
        #expect(async.status("3.populated-after-reap") == "fail")
    }

    @Test("negative control: a helper killed before the end fails the post-reap checks")
    func helperKilled() throws {
        let (status, report, _) = try runVerify(["--size", "64M", "--mode", "async", "--fault", "helper-killed"])
        #expect(status == 1)
        let async = try #require(report.mode("async"))
        #expect(async.status("3.populated-after-reap") == "fail")
        #expect(async.status("3.memory-still-charged") == "fail")
    }

    @Test("negative control: a workload that never allocates fails the allocation check")
    func neverAllocates() throws {
        let (status, report, _) = try runVerify(["--size", "64M", "--mode", "sync", "--", "sleep", "300"])
        #expect(status == 1)
        #expect(report.mode("sync")?.status("1.memory-charged") == "fail")
    }
}

@Suite("cleave verify on a hybrid host", .enabled(if: TestEnvironment.hasCgroup2 && !TestEnvironment.hasMemoryController,
                                                   "this host's cgroup2 hierarchy has the memory controller"))
struct VerifyHostTests {
    @Test("the verdict is partial and the memory checks say unavailable; the rest pass")
    func partialVerdict() throws {
        let (status, report, _) = try runVerify(["--size", "64M", "--mode", "async"])
        #expect(status == 2)
        #expect(report.verdict == "partial")
        #expect(report.summary.contains("partial"))
        let async = try #require(report.mode("async"))
        #expect(async.status("1.memory-charged") == "unavailable")
        #expect(async.status("4.memory-released") == "unavailable")
        #expect(async.status("2.helper-present") == "pass")
        #expect(async.status("3.populated-after-reap") == "pass")
        #expect(async.status("4.teardown-cpu-charged") == "pass")
        #expect(!async.checks.contains { $0.status == "fail" })
    }
}
