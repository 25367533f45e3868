import AsyncTeardown
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// The linked API, in this test process: the helper shares our address
/// space, and leaves when the test runner exits.
@Suite("AsyncTeardown.enable()")
struct AsyncTeardownTests {
    @Test("starts one helper named cleanup/<pid>, holding none of our descriptors; a second call returns it")
    func enableFromSwift() throws {
        guard getenv("CLEAVE_TEARDOWN_PID") == nil || String(cString: getenv("CLEAVE_TEARDOWN_PID")) == String(getpid()) else {
            return  // run under cleave: this process is a child of the workload and rightly skips
        }
        let outcome = AsyncTeardown.enable()
        guard case .enabled(let helper) = outcome else {
            Issue.record("expected a helper, got \(outcome)")
            return
        }
        // clone() returns before the helper has named itself and closed what it inherited.
        #expect(TestEnvironment.eventually(timeout: 5) { ProcFS.comm(helper) == "cleanup/\(getpid())" },
                "comm: \(ProcFS.comm(helper) ?? "gone")")
        #expect(ProcFS.parentPid(helper) == getpid())
        // Only what it waits on (our pidfd, its exec pipe, two statm files): nothing it inherited.
        #expect(HelperInspection.holdsOnlyItsOwnDescriptors(helper), "descriptors: \(ProcFS.openDescriptorCount(helper) ?? -1)")
        #expect(AsyncTeardown.helperPID == helper)
        #expect(AsyncTeardown.enable() == .enabled(helper: helper))
        // It shares our address space: a page we touch now counts in its resident set too.
        let before = ProcFS.status(helper, field: "VmRSS").flatMap { Int($0.split(separator: " ")[0]) } ?? 0
        let block = UnsafeMutableRawPointer.allocate(byteCount: 64 << 20, alignment: 4096)
        defer { block.deallocate() }
        for offset in stride(from: 0, to: 64 << 20, by: 4096) { block.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self) }
        let after = ProcFS.status(helper, field: "VmRSS").flatMap { Int($0.split(separator: " ")[0]) } ?? 0
        #expect(after - before >= 60 * 1024, "helper VmRSS \(before) -> \(after) kB")
    }
}
