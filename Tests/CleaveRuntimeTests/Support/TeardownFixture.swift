import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// Fixtures/teardown_fixture.c, compiled once per test process with cc, and
/// what the tests read about a helper.
enum TeardownFixture {
    private static let built = CFixture.build("teardown_fixture", flags: ["-O1", "-g"], libraries: ["-ldl"])

    /// The compiled fixture's path (world-executable: launcher tests run it as nobody).
    static func path() throws -> String { try built.get() }

    /// The environment for running the fixture with the library preloaded and no
    /// designated pid (so the fixture itself is the designated process).
    static var preloaded: [String: String] {
        ["LD_PRELOAD": TestEnvironment.teardownLibrary, "CLEAVE_TEARDOWN_PID": ""]
    }
}

enum HelperInspection {
    /// What a helper may hold open: the parent's pidfd, its exec pipe and two statm
    /// files (its own and the parent's); with the parallel release, its own maps and
    /// its cgroup's cgroup.procs. Anything else was inherited and leaked.
    static func holdsOnlyItsOwnDescriptors(_ helper: Int32) -> Bool {
        guard let dir = opendir("/proc/\(helper)/fd") else { return false }
        defer { closedir(dir) }
        var pipes = 0, pidfds = 0, statms = 0, release = 0, others = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            var buf = [CChar](repeating: 0, count: 256)
            let n = readlink("/proc/\(helper)/fd/\(name)", &buf, buf.count - 1)
            let target = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            if target == "anon_inode:[pidfd]" { pidfds += 1 }
            else if target.hasPrefix("pipe:") { pipes += 1 }
            else if target.hasPrefix("/proc/") && target.hasSuffix("/statm") { statms += 1 }
            else if target == "/proc/\(helper)/maps" || target.hasSuffix("/cgroup.procs") { release += 1 }
            else { others += 1 }
        }
        return others == 0 && pipes <= 1 && pidfds <= 1 && statms <= 2 && release <= 2
    }

    /// Live (not zombie) helpers named cleanup/<workload> among `pids`.
    static func liveHelpers(of workload: Int32, among pids: [Int32]) -> [Int32] {
        TeardownHelpers.helpers(of: workload, among: pids).filter(ProcFS.isAlive)
    }
}
