import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// `cleave run --teardown-workers N`: parsed in both parsers, range-checked, and
/// handed to the workload as CLEAVE_TEARDOWN_WORKERS.
@Suite("cleave run --teardown-workers")
struct TeardownWorkersOptionTests {
    @Test("the fast path takes --teardown-workers N and the request carries it")
    func parsed() throws {
        let options = try #require(RunFlags.parseFast(["--teardown-workers", "3", "--", "true"]))
        #expect(options.teardownWorkers == "3")
        #expect(try options.request().teardownWorkers == 3)
        #expect(try #require(RunFlags.parseFast(["--", "true"])).request().teardownWorkers == nil)
    }

    @Test("out of range or not a number: an error naming the option and the value", arguments: ["0", "65", "-1", "two", "1.5", ""])
    func refused(value: String) throws {
        var options = RunFlags()
        options.command = ["true"]
        options.teardownWorkers = value
        #expect {
            _ = try options.request()
        } throws: { error in
            "\(error)".contains("--teardown-workers") && "\(error)".contains("'\(value)'")
        }
    }

    @Test("cleave run sets CLEAVE_TEARDOWN_WORKERS for the workload; a bad value exits 125 before anything runs",
          .enabled(if: getuid() == 0 && TestEnvironment.hasCgroup2, "needs root and cgroup2"))
    func passedToTheWorkload() throws {
        let set = try ChildProcess([TestEnvironment.cleave, "run", "--teardown-workers", "3", "--", "/bin/sh", "-c",
                                    "echo \"workers=$CLEAVE_TEARDOWN_WORKERS\""]).wait()
        #expect(set.status == 0, "stderr: \(set.stderr)")
        #expect(set.stdout.contains("workers=3"), "stdout: \(set.stdout)")
        let bad = try ChildProcess([TestEnvironment.cleave, "run", "--teardown-workers", "0", "--", "/bin/sh", "-c", "echo ran"]).wait()
        #expect(bad.status == 125)
        #expect(bad.stderr.contains("--teardown-workers"), "stderr: \(bad.stderr)")
        #expect(!bad.stdout.contains("ran"))
    }
}
