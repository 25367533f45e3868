import FoundationEssentials
import Glibc
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// Fixtures/inject_target.c built with `cc -static` (no PT_INTERP: LD_PRELOAD cannot reach
/// it), and what the attach tests read about a process.
enum InjectFixture {
    private static let built = CFixture.build("inject_target", flags: ["-O1", "-static", "-pthread"])

    static func path() throws -> String { try built.get() }

    /// `cleave attach PID --json`: the decoded report, or the exit status and stderr.
    static func attach(_ pid: Int32) throws -> (status: Int32, report: InjectedHelper?, stderr: String) {
        let result = try ChildProcess([TestEnvironment.cleave, "attach", "\(pid)", "--json"]).wait(timeout: 60)
        let report = result.status == 0 ? try? JSONDecoder().decode(InjectedHelper.self, from: Data(result.stdout.utf8)) : nil
        return (result.status, report, result.stderr)
    }

    /// Live children of `pid` (any thread's) named cleanup/<something>.
    static func helpers(of pid: Int32) -> [Int32] {
        var children = [Int32]()
        for task in tasks(of: pid) {
            let text = FileIO.read("/proc/\(pid)/task/\(task)/children") ?? ""
            children += text.split(separator: " ").compactMap { Int32($0.trimmed()) }
        }
        return TeardownHelpers.helpers(among: children).filter(ProcFS.isAlive)
    }

    static func tasks(of pid: Int32) -> [Int32] {
        guard let dir = opendir("/proc/\(pid)/task") else { return [] }
        defer { closedir(dir) }
        var out = [Int32]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let t = Int32(name) { out.append(t) }
        }
        return out.sorted()
    }

    /// What an injection could change in a process: its mappings and its descriptors.
    static func footprint(_ pid: Int32) -> String {
        let maps = FileIO.read("/proc/\(pid)/maps") ?? "gone"
        return maps + "fds=\(ProcFS.openDescriptorCount(pid) ?? -1)"
    }

    /// A kernel thread (PF_KTHREAD in /proc/<pid>/stat), if this PID namespace shows one.
    static func kernelThread() -> Int32? {
        guard let dir = opendir("/proc") else { return nil }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), let stat = FileIO.read("/proc/\(pid)/stat"),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 6, let flags = UInt(fields[6]), flags & 0x0020_0000 != 0 { return pid }
        }
        return nil
    }
}
