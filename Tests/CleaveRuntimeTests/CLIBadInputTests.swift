import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// Huge, negative and malformed values on the command line end with a clear error and exit
/// 125 (a hook: exit 0 and the error on stderr), never a Swift trap (SIGILL 132, SIGTRAP 133).
@Suite("bad command-line values never trap (host tier)")
struct CLIBadInputTests {
    static func cleave(_ args: [String], stdin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try ChildProcess([TestEnvironment.cleave] + args, stdin: stdin).wait()
    }

    static let hugeSizes = ["8388608T", "16384T", "65T", "18446744073709551615", "9223372036854775808", "99999999999999999999T", "1.7e19", "0"]

    @Test("cleave probe alloc with a size no machine can map: exit 125 naming SIZE", arguments: hugeSizes)
    func probeAlloc(size: String) throws {
        let result = try Self.cleave(["probe", "alloc", size])
        #expect(result.status == 125, "\(size): \(result.status) \(result.stderr)")
        #expect(result.stderr.hasPrefix("cleave: ") && result.stderr.contains("SIZE"), "\(size): \(result.stderr)")
    }

    @Test("cleave verify --size out of range: exit 125 before anything runs", arguments: hugeSizes)
    func verifySize(size: String) throws {
        let result = try Self.cleave(["verify", "--size", size])
        #expect(result.status == 125, "\(size): \(result.status) \(result.stderr)")
        #expect(result.stderr.contains("--size"), "\(size): \(result.stderr)")
    }

    @Test("probe --threads out of range, durations past a year, the watcher's --timeout-ms: exit 125", arguments: [
        ["probe", "alloc", "1M", "--threads", "9223372036854775807"],
        ["probe", "alloc", "1M", "--threads", "-1"],
        ["run", "--teardown-timeout", "1e308", "--", "true"],
        ["run", "--teardown-timeout", "99999999999999999999h", "--", "true"],
        ["run", "--cpus", "1e308", "--", "true"],
        ["run", "--memory-max", "8388608T", "--", "true"],
        ["__watch-teardown", "--cgroup", "/nonexistent", "--timeout-ms", "9223372036854775807"],
        ["__watch-teardown", "--cgroup", "/nonexistent", "--timeout-ms", "-5"],
    ])
    func outOfRange(args: [String]) throws {
        let result = try Self.cleave(args)
        #expect(result.status == 125, "\(args): \(result.status) \(result.stderr)")
        #expect(result.stderr.hasPrefix("cleave: "), "\(args): \(result.stderr)")
    }

    @Test("cleave hook --wait past a year and a container id with a newline: a clear, escaped message, exit 0")
    func hookMessages() throws {
        let wait = try Self.cleave(["hook", "poststop", "--wait", "99999999999999h"], stdin: "{}")
        #expect(wait.status == 0)
        #expect(wait.stderr.contains("--wait"), "\(wait.stderr)")
        let state = #"{"ociVersion": "1.0.2", "id": "a\nFORGED LINE/x", "status": "running", "bundle": "/tmp", "pid": 1}"#
        let id = try Self.cleave(["hook", "poststart"], stdin: state)
        #expect(id.status == 0)
        #expect(id.stderr.contains(#"a\nFORGED LINE/x"#), "\(id.stderr)")
        #expect(!id.stderr.contains("\nFORGED"), "the id's newline reached stderr: \(id.stderr)")
    }
}
