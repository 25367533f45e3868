import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify

/// `cleave run`'s fast argument path: what it takes, and what it leaves to swift-argument-parser.
@Suite("cleave run fast argument path")
struct RunOptionsTests {
    @Test("the usual forms are parsed: --opt value, --opt=value, --keep-cgroup, repeated --set, the command after --")
    func accepted() throws {
        let parsed = try #require(RunFlags.parseFast([
            "--cgroup", "a/b", "--teardown=sync", "--memory-max", "1G", "--set", "pids.max=5", "--keep-cgroup",
            "--set=cpu.weight=7", "--teardown-timeout", "30s", "--state-file", "/tmp/s.json", "--",
            "sh", "-c", "exit 3", "--cgroup",
        ]))
        var expected = RunFlags()
        expected.cgroup = "a/b"
        expected.teardown = "sync"
        expected.memoryMax = "1G"
        expected.rawSettings = ["pids.max=5", "cpu.weight=7"]
        expected.keepCgroup = true
        expected.teardownTimeout = "30s"
        expected.stateFile = "/tmp/s.json"
        expected.command = ["sh", "-c", "exit 3", "--cgroup"]
        #expect(parsed == expected)
        #expect(RunFlags.parseFast(["--", "true"])?.command == ["true"])
    }

    @Test("anything else goes to the full parser", arguments: [
        ["true"],                                  // no --: swift-argument-parser's passthrough rules
        ["--cgroup", "x", "true"],
        ["--"],                                    // empty command
        ["--help", "--", "true"],                  // (swift-argument-parser runs "--help" as the command)
        ["-h", "--", "true"],
        ["--version", "--", "true"],
        ["--bogus", "1", "--", "true"],
        ["--cgroup", "a", "--cgroup", "b", "--", "true"],   // repeated single option
        ["--keep-cgroup", "--keep-cgroup", "--", "true"],
        ["--keep-cgroup=true", "--", "true"],
        ["--cgroup", "--", "true"],                // value that looks like an option
        ["--cpus", "-1", "--", "true"],
        ["--cgroup=", "--", "true"],               // empty value
        ["--cgroup"],                              // missing value
    ])
    func refused(arguments: [String]) {
        #expect(RunFlags.parseFast(arguments[...]) == nil)
    }

    @Test("swift-argument-parser and the fast path read the same values", arguments: [
        ["--cgroup", "a/b", "--teardown=sync", "--memory-max", "1G", "--set", "pids.max=5", "--keep-cgroup",
         "--set=cpu.weight=7", "--teardown-timeout", "30s", "--state-file", "/tmp/s.json", "--", "sh", "-c", "exit 3", "--cgroup"],
        ["--name", "web", "--memory-high", "1G", "--memory-low", "1M", "--memory-swap-max", "0", "--cpus", "1.5",
         "--cpu-max", "max 100000", "--cpu-weight", "7", "--pids-max", "9", "--teardown-workers", "2", "--inject",
         "--wait-memory", "8G", "--wait-timeout=90s", "--", "true"],
        ["--", "true"],
    ])
    func sameAsFullParser(arguments: [String]) throws {
        let full = try RunOptions.parse(arguments).flags
        let fast = try #require(RunFlags.parseFast(arguments[...]))
        #expect(fast == full)
        #expect(fast != RunFlags() && full.command == Array(arguments.drop { $0 != "--" }.dropFirst()))
    }

    @Test("both paths build the same request")
    func request() throws {
        let options = try #require(RunFlags.parseFast(["--name", "web", "--cpus", "1.5", "--teardown", "sync", "--", "true"]))
        let request = try options.request()
        #expect(request.command == ["true"])
        #expect(request.name == "web")
        #expect(request.teardown == .sync)
        #expect(request.limits.cpuMax?.quota == 150_000)
        #expect(request.teardownTimeout == .seconds(300))
    }
}
