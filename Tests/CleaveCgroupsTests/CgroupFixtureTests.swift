import CleaveCgroups
import CleaveSystem
import Glibc
import Testing

/// The cgroup lifecycle on a temporary directory laid out like cgroupfs (control files made
/// by the fixture, since mkdir in an ordinary directory makes none): creation and its undo,
/// controller enabling, limits, emptiness and removal, without a real hierarchy. The
/// real-hierarchy tests (CgroupHostTests, OwnershipCgroupTests) cover what only the kernel does.
@Suite("cgroup lifecycle on a fixture directory (any tier)")
struct CgroupFixtureTests {
    /// A scratch "mount": cgroup.controllers and an empty cgroup.subtree_control at the root.
    final class Fixture {
        let root: String
        let mount: CgroupMount

        init(controllers: String = "cpu memory pids") throws {
            var template = Array("/tmp/cleave-test-cgfixture-XXXXXX".utf8CString)
            guard let dir = mkdtemp(&template) else { throw SystemError("mkdtemp", path: "/tmp") }
            root = String(cString: dir)
            mount = CgroupMount(mountPoint: root, isUnified: true)
            try file("cgroup.controllers", controllers + "\n")
            try file("cgroup.subtree_control", "")
        }

        deinit { _ = try? ChildRemover.removeTree(root) }

        /// Makes `relative` (a directory, or a file with `contents`).
        func directory(_ relative: String) throws {
            guard mkdir(root + "/" + relative, 0o755) == 0 || errno == EEXIST else { throw SystemError("mkdir", path: relative) }
        }

        func file(_ relative: String, _ contents: String) throws {
            let fd = open(root + "/" + relative, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SystemError("open", path: relative) }
            defer { close(fd) }
            _ = contents.withCString { write(fd, $0, strlen($0)) }
        }

        func read(_ relative: String) -> String? { FileIO.read(root + "/" + relative) }
        func exists(_ relative: String) -> Bool { access(root + "/" + relative, F_OK) == 0 }
        func cgroup(_ path: String) throws -> Cgroup { try Cgroup(mount: mount, path: path) }
    }

    /// rm -rf without a shell: the fixture holds a few files and directories.
    enum ChildRemover {
        static func removeTree(_ path: String) throws {
            if let dir = opendir(path) {
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if name == "." || name == ".." { continue }
                    let child = path + "/" + name
                    if entry.pointee.d_type == UInt8(DT_DIR) { try removeTree(child) } else { unlink(child) }
                }
                closedir(dir)
            }
            rmdir(path)
        }
    }

    @Test("create makes every missing level and returns exactly what it made, shallowest first")
    func createReturnsWhatItMade() throws {
        let f = try Fixture()
        try f.directory("outer")
        let made = try f.cgroup("outer/middle/leaf").create()
        #expect(made.map(\.relativePath) == ["outer/middle", "outer/middle/leaf"])
        #expect(f.exists("outer/middle/leaf"))
        #expect(try f.cgroup("outer/middle/leaf").create().isEmpty, "a second create made something again")
    }

    @Test("controllers are enabled in every ancestor's cgroup.subtree_control, never in the leaf")
    func enablesControllersInAncestors() throws {
        let f = try Fixture()
        try f.directory("outer")
        try f.file("outer/cgroup.subtree_control", "")
        try f.cgroup("outer/leaf").create(enabling: ["memory", "pids"])
        #expect(f.read("cgroup.subtree_control") == "+memory +pids")
        #expect(f.read("outer/cgroup.subtree_control") == "+memory +pids")
        #expect(!f.exists("outer/leaf/cgroup.subtree_control"), "the leaf, which holds the processes, got controllers")
    }

    @Test("a controller the root does not offer is refused before anything is made")
    func missingControllerRefused() throws {
        let f = try Fixture(controllers: "cpu pids")
        #expect {
            try f.cgroup("a/b").create(enabling: ["memory"])
        } throws: { error in
            "\(error)".contains("cgroup.controllers") && "\(error)".contains("memory not available")
        }
        #expect(!f.exists("a"))
    }

    @Test("a failure half-way removes exactly the levels this call made, deepest first")
    func failureUndoesOwnLevels() throws {
        let f = try Fixture()
        try f.directory("outer")
        try f.file("outer/cgroup.subtree_control", "")
        // outer/middle is made, but (unlike cgroupfs) has no cgroup.subtree_control to write.
        #expect(throws: CgroupError.self) { try f.cgroup("outer/middle/leaf").create(enabling: ["memory"]) }
        #expect(!f.exists("outer/middle"), "a level this call made was left behind")
        #expect(f.exists("outer"), "a level that existed before was removed")
    }

    @Test("limits are written to their files; a --set file that does not exist names its controller")
    func applyWritesLimits() throws {
        let f = try Fixture()
        let leaf = try f.cgroup("leaf")
        try leaf.create()
        for name in ["memory.max", "memory.high", "cpu.max", "pids.max"] { try f.file("leaf/" + name, "") }
        var limits = ResourceLimits()
        limits.memoryMax = .value(256 << 20)
        limits.memoryHigh = .max
        limits.cpuMax = CPUMax(quota: 150_000)
        limits.pidsMax = .value(64)
        try leaf.apply(limits)
        #expect(f.read("leaf/memory.max") == "268435456")
        #expect(f.read("leaf/memory.high") == "max")
        #expect(f.read("leaf/cpu.max") == "150000 100000")
        #expect(f.read("leaf/pids.max") == "64")
        #expect(try leaf.readLimits().memoryMax == .value(256 << 20))

        var unknown = ResourceLimits()
        unknown.unified["hugetlb.2MB.max"] = "0"
        #expect {
            try leaf.apply(unknown)
        } throws: { error in
            "\(error)".contains("hugetlb.2MB.max") && "\(error)".contains("controller 'hugetlb' is not enabled")
        }
    }

    @Test("a populated cgroup is not removed without killFirst; an empty one is, and a gone one counts as removed")
    func removeRespectsPopulated() throws {
        let f = try Fixture()
        let busy = try f.cgroup("busy")
        try busy.create()
        try f.file("busy/cgroup.events", "populated 1\nfrozen 0\n")
        try f.file("busy/cgroup.procs", "4242\n")
        #expect(try busy.isPopulated())
        #expect {
            try busy.remove()
        } throws: { error in
            "\(error)".contains("cgroup is populated (1 process in it or below)")
        }
        #expect(f.exists("busy"))

        let idle = try f.cgroup("idle")
        try idle.create()
        try idle.remove()
        #expect(!f.exists("idle"))
        try idle.remove()   // already gone: no error
    }

    @Test("removeCreated leaves a level someone else has put a child in")
    func removeCreatedKeepsForeignChildren() throws {
        let f = try Fixture()
        let made = try f.cgroup("ours/leaf").create()
        try f.directory("ours/stranger")
        Cgroup.removeCreated(made)
        #expect(!f.exists("ours/leaf"))
        #expect(f.exists("ours/stranger") && f.exists("ours"))
    }

    @Test("paths that leave the mount or hide a level are refused", arguments: ["../x", "a/../../x", "a/./b", "a//b", "a\nb"])
    func escapesRefused(path: String) throws {
        let f = try Fixture()
        #expect(throws: (any Error).self) { _ = try f.cgroup(path) }
    }
}
