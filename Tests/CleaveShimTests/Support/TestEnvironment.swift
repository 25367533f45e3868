import CleaveCgroups
import CleaveShim
import Glibc

/// Where the built binaries are, and the real cgroup2 hierarchy the tests use.
enum TestEnvironment {
    /// The test bundle lives in the bin directory next to cleave and
    /// libcleave-teardown.so (hack/build.sh puts it there).
    static let binDirectory: String = Executable.directory() ?? ".build/debug"
    static var cleave: String { binDirectory + "/cleave" }
    static var teardownLibrary: String { binDirectory + "/libcleave-teardown.so" }

    static let mount: CgroupMount? = try? CgroupMount.discover()
    static var hasCgroup2: Bool { mount != nil }
    static var hasMemoryController: Bool {
        ((try? mount?.availableControllers()) ?? nil)?.contains("memory") ?? false
    }

    /// A unique cgroup path below the test parent, for one test.
    static func uniqueCgroupPath(_ label: String) -> String {
        "cleave-test/\(label)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Kills and removes a test cgroup and, when empty, the test parent.
    static func removeCgroup(_ path: String) {
        guard let mount, let cgroup = try? Cgroup(mount: mount, path: path) else { return }
        if cgroup.exists { try? cgroup.remove(killFirst: true, timeout: .seconds(10)) }
        if let parent = cgroup.parentCgroup, parent.exists, (try? parent.children().isEmpty) == true,
           (try? parent.processes().isEmpty) == true {
            try? parent.remove()
        }
    }

    /// rm -rf, for the scratch directories tests make under /tmp and /run.
    static func removeTree(_ path: String) {
        _ = try? ChildProcess(["/bin/rm", "-rf", "--", path]).wait()
    }

    /// Polls until `condition` holds or `timeout` seconds pass.
    static func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Clock.monotonicNanoseconds() + UInt64(timeout * 1e9)
        while Clock.monotonicNanoseconds() < deadline {
            if condition() { return true }
            usleep(2000)
        }
        return condition()
    }
}
