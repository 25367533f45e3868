import CleaveRuntime
import CleaveTestSupport
import Glibc
import Testing

/// `cleave run`'s command line behaves as every other tool's: help is help, an unknown option
/// is an error that names it, and the fast path and swift-argument-parser know the same options.
@Suite("cleave run's command line (host tier)")
struct RunCommandLineTests {
    static func cleave(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try ChildProcess([TestEnvironment.cleave] + args).wait()
    }

    @Test("cleave run --help and -h print the usage and exit 0", arguments: ["--help", "-h"])
    func help(flag: String) throws {
        let result = try Self.cleave(["run", flag])
        #expect(result.status == 0, "\(flag): \(result.status) \(result.stderr)")
        #expect(result.stdout.contains("USAGE: cleave run") && result.stdout.contains("--memory-max"), "\(result.stdout)")
    }

    @Test("an unknown option before -- is refused with exit 125 naming it; nothing is executed")
    func unknownOption() throws {
        let marker = "/tmp/cleave-test-unknown-option-\(getpid())"
        let result = try Self.cleave(["run", "--bogus", "--", "/bin/touch", marker])
        #expect(result.status == 125, "\(result.status) \(result.stderr)")
        #expect(result.stderr.contains("unknown option '--bogus'"), "\(result.stderr)")
        #expect(access(marker, F_OK) != 0, "the command ran")
        unlink(marker)
    }

    @Test("a command after -- may start with '-' and keeps its own options")
    func commandOptionsPassThrough() throws {
        let result = try Self.cleave(["run", "--teardown", "sync", "--", "/bin/sh", "-c", "echo $0 $1", "-x", "--help"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "-x --help\n")
    }

    @Test("every valued option of the fast path's table is an option of swift-argument-parser's, and back")
    func oneTable() throws {
        let help = try Self.cleave(["run", "--help"]).stdout
        var declared = Set<String>()
        for word in help.split(whereSeparator: { " \n,[]=<>".contains($0) }) {
            let name = word.dropFirst(2)
            if word.hasPrefix("--"), let first = name.first, first.isLetter, name.allSatisfy({ $0.isLetter || $0 == "-" }) {
                declared.insert(String(name))
            }
        }
        let table = Set(RunFlags.valued.map(\.name))
        // Options outside the valued table: a bundle's own, the flags, the repeatable --set, help.
        let outside: Set<String> = ["bundle", "id", "keep-cgroup", "inject", "set", "help", "version"]
        #expect(table.subtracting(declared).isEmpty, "in the table, not in --help: \(table.subtracting(declared))")
        #expect(declared.subtracting(table).subtracting(outside).isEmpty, "in --help, not in the table: \(declared.subtracting(table).subtracting(outside))")
        for name in RunFlags.bundleConflicts where name != "set" {
            #expect(table.contains(name), "bundle conflict \(name) is not a valued option")
        }
    }
}
