import CleaveCgroups
import CleaveSystem
import Glibc

/// Where the built binaries are, the real cgroup2 hierarchy the tests use, and the Python
/// that hack/setup.sh prepares (prometheus_client, kubernetes-validate, promql-parser).
public enum TestEnvironment {
    /// The test bundle lives in the bin directory next to cleave and
    /// libcleave-teardown.so (hack/build.sh puts it there).
    public static let binDirectory: String = executableDirectory() ?? ".build/debug"
    public static var cleave: String { binDirectory + "/cleave" }
    public static var teardownLibrary: String { binDirectory + "/libcleave-teardown.so" }

    /// The repository root, from this file's path (the same path in the VM guest).
    public static let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)   // Tests/CleaveTestSupport/<file>
        return parts.joined(separator: "/")
    }()
    public static let pythonEnvironment = getenv("CLEAVE_PYTHON_ENV").map { String(cString: $0) } ?? "/var/tmp/cleave-py"
    public static var python: String { pythonEnvironment + "/bin/python3" }
    public static var hasPython: Bool { access(python, X_OK) == 0 }

    public static let mount: CgroupMount? = try? CgroupMount.discover()
    public static var hasCgroup2: Bool { mount != nil }
    public static var hasMemoryController: Bool {
        ((try? mount?.availableControllers()) ?? nil)?.contains("memory") ?? false
    }

    /// A unique cgroup path below the test parent, for one test.
    public static func uniqueCgroupPath(_ label: String) -> String {
        "cleave-test/\(label)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// A fresh top-level cgroup for one test, "cleave-test-<label>-<hex>".
    public static func makeTestCgroup(_ label: String) throws -> Cgroup {
        guard let mount else { throw SystemError("no cgroup2 mount", errno: ENOENT) }
        let cgroup = try Cgroup(mount: mount, path: "cleave-test-\(label)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))")
        try cgroup.create()
        return cgroup
    }

    /// Kills and removes a test cgroup and, when empty, the test parent.
    public static func removeCgroup(_ path: String) {
        guard let mount, let cgroup = try? Cgroup(mount: mount, path: path) else { return }
        if cgroup.exists { try? cgroup.remove(killFirst: true, timeout: .seconds(10)) }
        if let parent = cgroup.parentCgroup, parent.exists, (try? parent.children().isEmpty) == true,
           (try? parent.processes().isEmpty) == true {
            try? parent.remove()
        }
    }

    /// Kills what is left in the cgroup and below, thaws it, removes it.
    public static func removeCgroupTree(_ cgroup: Cgroup) {
        for child in (try? cgroup.children()) ?? [] {
            try? child.freeze(false)
            removeCgroupTree(child)
        }
        try? cgroup.remove(killFirst: true, timeout: .seconds(10))
    }

    /// rm -rf, for the scratch directories tests make under /tmp and /run.
    public static func removeTree(_ path: String) {
        _ = try? ChildProcess(["/bin/rm", "-rf", "--", path]).wait()
    }

    /// Polls until `condition` holds or `timeout` seconds pass.
    public static func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if try condition() { return true }
            usleep(2000)
        }
        return try condition()
    }

    /// The directory of the running executable (the test bundle), from /proc/self/exe.
    static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
