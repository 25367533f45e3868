@testable import CleaveCgroups
import CleaveSystem
import Glibc
import Testing

/// The pieces of ownership below the shim: path limits, the exclusive claim, the lock,
/// and the kill without cgroup.kill.
@Suite("cgroup ownership (host tier)", .enabled(if: hostMount != nil, "no cgroup2 mount on this machine"))
struct OwnershipCgroupTests {
    static func scratchLock() -> String { "/tmp/cleave-test-lock-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).lock" }

    @Test("a path longer than PATH_MAX allows is refused with the length named; NAME_MAX per component")
    func pathLimits() throws {
        let mount = try #require(hostMount)
        let deep = Array(repeating: "a", count: 2500).joined(separator: "/")
        #expect {
            try Cgroup(mount: mount, path: deep)
        } throws: { "\($0)".contains("PATH_MAX") && "\($0)".contains("bytes") }
        #expect(throws: CgroupError.self) { try Cgroup(mount: mount, path: "x/" + String(repeating: "n", count: 256)) }
        _ = try Cgroup(mount: mount, path: Array(repeating: "a", count: 1000).joined(separator: "/"))
    }

    @Test("create returns exactly the directories it made; EEXIST is not ours")
    func createReportsWhatItMade() throws {
        let mount = try #require(hostMount)
        let base = try Cgroup(mount: mount, path: uniqueTestCgroup("made"))
        defer { removeTestCgroup(try! Cgroup(mount: mount, path: base.relativePath + "/x/y")); removeTestCgroup(base) }
        try base.create()
        let leaf = try Cgroup(mount: mount, path: base.relativePath + "/x/y")
        #expect(try leaf.create().map(\.relativePath) == [base.relativePath + "/x", base.relativePath + "/x/y"])
        #expect(try leaf.create().isEmpty)
    }

    @Test("a claim is exclusive while its lock is held, taken over once it is free; a created mark is adopted")
    func claimIsExclusive() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("claim"))
        defer { removeTestCgroup(cgroup) }
        try cgroup.create()
        let firstPath = Self.scratchLock(), secondPath = Self.scratchLock()
        defer { unlink(firstPath); unlink(secondPath) }
        let first = try OwnerLock.acquire(firstPath)
        let mine = OwnerMark(kind: .created, lock: firstPath)
        #expect(try cgroup.claim(mine, adoptAs: .created) == .claimed(mine))
        #expect(cgroup.ownerMark() == mine)
        let theirs = OwnerMark(kind: .claimed, lock: secondPath)
        #expect(try cgroup.claim(theirs, adoptAs: .created) == .owned(mine), "held: the second claim loses")
        #expect(OwnerLock.isHeld(firstPath))
        first.release()
        #expect(!OwnerLock.isHeld(firstPath))
        let second = try OwnerLock.acquire(secondPath)
        defer { second.release() }
        let adopted = OwnerMark(kind: .created, lock: secondPath)
        #expect(try cgroup.claim(theirs, adoptAs: .created) == .claimed(adopted), "free: taken over, and cleave-made stays cleave-made")
        cgroup.releaseMark(mine)
        #expect(cgroup.ownerMark() == adopted, "releasing someone else's mark does nothing")
        cgroup.releaseMark(adopted)
        #expect(cgroup.ownerMark() == nil)
    }

    @Test("a lock file owned by another user, or a symlink, proves nothing")
    func untrustedLockFiles() throws {
        let path = Self.scratchLock()
        defer { unlink(path) }
        let fd = open(path, O_CREAT | O_RDWR, 0o644)
        #expect(fd >= 0 && fchown(fd, 65534, 65534) == 0)
        #expect(flock(fd, LOCK_EX) == 0)
        defer { close(fd) }
        #expect(!OwnerLock.isHeld(path), "held, but by a file anyone could have made")
        let link = Self.scratchLock()
        defer { unlink(link) }
        #expect(symlink(path, link) == 0)
        #expect(throws: CgroupError.self) { try OwnerLock.acquire(link) }
    }

    @Test("without cgroup.kill: only processes confirmed in the cgroup are signalled, through pidfds; the cgroup is thawed after")
    func killEachProcessChecksMembership() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("killeach"))
        defer { removeTestCgroup(cgroup) }
        try cgroup.create()
        let inside = try Sleeper(), outside = try Sleeper()
        defer { inside.stop(); outside.stop() }
        try cgroup.write("cgroup.procs", String(inside.pid))
        // A stale listing that names a pid now outside the cgroup (as a reused pid would be).
        try cgroup.killEachProcess(listing: { [inside.pid, outside.pid] + ((try? cgroup.processes()) ?? []) })
        #expect(try cgroup.waitUntilEmpty(timeout: .seconds(10)), "the process in the cgroup is killed")
        let state = FileIO.read("/proc/\(outside.pid)/stat")?.split(separator: ")").last?.split(separator: " ").first
        #expect(state != nil && state != "Z", "a pid outside the cgroup is not signalled (state \(state.map(String.init) ?? "gone"))")
        #expect(try cgroup.read("cgroup.freeze")?.hasPrefix("0") == true)
    }
}
