import CleaveCgroups
import CleaveShim
import Glibc
import Testing

/// The built binaries, the real cgroup2 hierarchy, and the Python that
/// hack/setup.sh prepares (prometheus_client, kubernetes-validate).
enum AgentTestEnvironment {
    static let binDirectory: String = Executable.directory() ?? ".build/debug"
    static var cleave: String { binDirectory + "/cleave" }
    static let mount: CgroupMount? = try? CgroupMount.discover()
    static var hasCgroup2: Bool { mount != nil }
    static var hasMemoryController: Bool {
        ((try? mount?.availableControllers()) ?? nil)?.contains("memory") ?? false
    }
    /// The repository root, from this file's path (the same path in the VM guest).
    static let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)   // Tests/CleaveAgentTests/Support/<file>
        return parts.joined(separator: "/")
    }()
    static let pythonEnvironment = getenv("CLEAVE_PYTHON_ENV").map { String(cString: $0) } ?? "/var/tmp/cleave-py"
    static var python: String { pythonEnvironment + "/bin/python3" }
    static var hasPython: Bool { access(python, X_OK) == 0 }

    /// A fresh top-level cgroup for one test, "cleave-test-agent-<hex>".
    static func makeTestCgroup(_ label: String) throws -> Cgroup {
        let mount = try #require(mount)
        let cgroup = try Cgroup(mount: mount, path: "cleave-test-agent-\(label)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))")
        try cgroup.create()
        return cgroup
    }

    /// Kills what is left in the cgroup and below, thaws it, removes it.
    static func removeTree(_ cgroup: Cgroup) {
        for child in (try? cgroup.children()) ?? [] {
            try? child.freeze(false)
            removeTree(child)
        }
        try? cgroup.remove(killFirst: true, timeout: .seconds(10))
    }

    /// Polls until `condition` holds or `timeout` seconds pass.
    static func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }
}

