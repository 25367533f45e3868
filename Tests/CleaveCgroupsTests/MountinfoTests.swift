@testable import CleaveCgroups
import Testing

@Suite("mountinfo parsing")
struct MountinfoTests {
    static let hybrid = """
    31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
    32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
    35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
    41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
    """
    static let unified = """
    22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
    25 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
    26 25 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:7 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
    """

    @Test func hybridHost() throws {
        let m = try CgroupMount.parse(mountinfo: Self.hybrid)
        #expect(m.mountPoint == "/sys/fs/cgroup/unified")
        #expect(!m.isUnified)
    }

    @Test func unifiedHostWithOptionalFields() throws {
        let m = try CgroupMount.parse(mountinfo: Self.unified)
        #expect(m.mountPoint == "/sys/fs/cgroup")
        #expect(m.isUnified)
    }

    @Test func noCgroup2IsAnError() {
        #expect(throws: ParseError.self) {
            try CgroupMount.parse(mountinfo: "22 1 252:1 / / rw - ext4 /dev/vda1 rw\n32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu")
        }
    }

    @Test func escapedMountPoint() throws {
        let m = try CgroupMount.parse(mountinfo: "40 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw")
        #expect(m.mountPoint == "/mnt/my cgroups")
    }

    @Test func garbageLinesAreSkipped() throws {
        let m = try CgroupMount.parse(mountinfo: "nonsense\n\n- - -\n" + Self.unified)
        #expect(m.mountPoint == "/sys/fs/cgroup")
    }

    @Test("statfs at systemd's places finds what the mount table says")
    func conventionalPlacesAgreeWithMountinfo() throws {
        let fromTable = try CgroupMount.discover(mountinfoPath: "/proc/self/mountinfo")
        #expect(try CgroupMount.discover() == fromTable)
        // This is the path taken on systemd's layouts, not the mount table's fallback.
        #expect(CgroupMount.conventional() == fromTable)
    }

    @Test("statfs: a cgroup2 directory is unified, a tmpfs without cgroup2 below is not a mount")
    func conventionalNeedsCgroup2() throws {
        let mount = try CgroupMount.discover()
        #expect(CgroupMount.conventional(root: mount.mountPoint) == CgroupMount(mountPoint: mount.mountPoint, isUnified: true))
        #expect(CgroupMount.conventional(root: "/dev/shm") == nil)   // tmpfs, no "unified" under it
        #expect(CgroupMount.conventional(root: "/proc") == nil)
        #expect(CgroupMount.conventional(root: "/nonexistent") == nil)
    }

    @Test func discoverNamesTheFileWhenMissing() {
        do {
            _ = try CgroupMount.discover(mountinfoPath: "/nonexistent/mountinfo")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("/nonexistent/mountinfo"))
        }
    }
}

@Suite("cgroup path validation")
struct CgroupPathTests {
    @Test("accepted", arguments: [
        ("a", "a"), ("/a/b", "a/b"), ("a/b/", "a/b"), ("cleave/job-1.x_y", "cleave/job-1.x_y"), ("/", ""),
    ])
    func accepted(input: String, normalised: String) throws {
        #expect(try CgroupPath.validate(input) == normalised)
    }

    @Test("refused with the rule named", arguments: [
        ("..", "'..'"), ("a/../b", "'..'"), ("a/./b", "'.'"), ("a//b", "empty component"),
        ("a\0b", "NUL"), ("a\nb", "newline"), ("../../etc", "'..'"),
    ])
    func refused(input: String, rule: String) {
        do {
            _ = try CgroupPath.validate(input)
            Issue.record("\(input) should be refused")
        } catch {
            #expect("\(error)".contains(rule), "\(error)")
            #expect("\(error)".hasPrefix("validate "))
        }
    }

    @Test func parentIsEnforced() throws {
        #expect(try CgroupPath.validate("/cleave/x", under: "cleave") == "cleave/x")
        #expect(try CgroupPath.validate("cleave", under: "cleave") == "cleave")
        #expect(throws: CgroupError.self) { try CgroupPath.validate("cleaver/x", under: "cleave") }
        #expect(throws: CgroupError.self) { try CgroupPath.validate("/other", under: "/cleave") }
    }
}
