@testable import CleaveCgroups
import Foundation
import CleaveSystem
import Glibc
import Testing

let hostMount: CgroupMount? = try? CgroupMount.discover()
func uniqueTestCgroup(_ label: String) -> String { "cleave-test-cg/\(label)-\(UInt32.random(in: 0...UInt32.max))" }

/// Kills and removes a test cgroup and its parent when that is empty.
func removeTestCgroup(_ cgroup: Cgroup) {
    try? cgroup.remove(killFirst: true, timeout: .seconds(10))
    if let parent = cgroup.parentCgroup, (try? parent.children().isEmpty) == true { try? parent.remove() }
}

/// A sleeping child process, reaped by `stop()`.
struct Sleeper {
    let pid: pid_t
    init() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("300"), nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ)
        guard rc == 0 else { throw CgroupError(operation: "spawn", path: "/bin/sleep", message: SystemError.reason(rc)) }
        self.pid = pid
    }
    func stop() {
        kill(pid, SIGKILL)
        var st: Int32 = 0
        waitpid(pid, &st, 0)
    }
}

/// The real cgroup2 hierarchy of this machine (hybrid here: no memory controller).
@Suite("cgroup lifecycle (host tier)", .enabled(if: hostMount != nil, "no cgroup2 mount on this machine"))
struct CgroupHostTests {
    @Test("create, place, populated, kill, wait through inotify, remove")
    func lifecycle() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("life"))
        defer { removeTestCgroup(cgroup) }
        try cgroup.create()
        #expect(cgroup.exists)
        #expect(try cgroup.isPopulated() == false)
        let child = try Sleeper()
        defer { child.stop() }
        try cgroup.write("cgroup.procs", String(child.pid))
        #expect(try cgroup.isPopulated())
        #expect(try cgroup.processes() == [child.pid])
        #expect(try Cgroup.ofProcess(child.pid, mount: mount) == cgroup)
        // Not empty yet: the wait times out.
        #expect(try cgroup.waitUntilEmpty(timeout: .milliseconds(50)) == false)
        try cgroup.kill()
        #expect(try cgroup.waitUntilEmpty(timeout: .seconds(10)))
        try cgroup.remove()
        #expect(!cgroup.exists)
    }

    /// The kernel sends cgroup.events' IN_MODIFY at most once per 10 ms and defers the next; an
    /// rmdir cancels a deferred one. A cgroup emptied and removed by someone else right after it
    /// was populated sends its waiter nothing on that file: the waiter must see the rmdir on the
    /// directory. Its re-read is set to a minute here, so only an event wakes it within the wait.
    @Test("a waiter wakes when someone else empties and removes the cgroup within the kernel's 10 ms notification interval")
    func waiterWakesOnRemoval() throws {
        let mount = try #require(hostMount)
        for round in 0..<5 {
            let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("rmwait-\(round)"))
            defer { removeTestCgroup(cgroup) }
            try cgroup.create()
            let child = try Sleeper()
            defer { child.stop() }
            try cgroup.write("cgroup.procs", String(child.pid))  // populated 1: notified now
            var fds: [Int32] = [-1, -1]
            try #require(pipe(&fds) == 0)
            defer { close(fds[0]) }
            let writer = fds[1]
            let thread = try OSThread.start {
                let empty = (try? cgroup.waitUntilEmpty(timeout: .seconds(120), recheck: .seconds(60))) ?? false
                var byte: UInt8 = empty ? 1 : 0
                _ = write(writer, &byte, 1)
                close(writer)
            }
            usleep(2_000)  // the waiter armed; still within 10 ms of the last notification
            let root = try Cgroup(mount: mount, path: "")
            try root.write("cgroup.procs", String(child.pid))  // populated 0: deferred
            #expect(rmdir(cgroup.path) == 0, "rmdir: \(String(cString: strerror(errno)))")  // cancels it
            var pfd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 30_000)
            #expect(ready == 1, "round \(round): the waiter still sleeps 30 s after the cgroup's removal")
            var byte: UInt8 = 0
            if ready == 1 { #expect(read(fds[0], &byte, 1) == 1 && byte == 1, "the waiter reports the removed cgroup empty") }
            OSThread.join(thread)
        }
    }

    @Test("a populated cgroup is not removed unless asked to kill first")
    func refusesPopulated() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("busy"))
        defer { removeTestCgroup(cgroup) }
        try cgroup.create()
        let child = try Sleeper()
        defer { child.stop() }
        try cgroup.write("cgroup.procs", String(child.pid))
        do {
            try cgroup.remove()
            Issue.record("removed a populated cgroup")
        } catch {
            #expect("\(error)".contains("populated"))
        }
        #expect(cgroup.exists)
        try cgroup.remove(killFirst: true)
        #expect(!cgroup.exists)
    }

    @Test("freeze and thaw")
    func freeze() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("freeze"))
        defer { removeTestCgroup(cgroup) }
        try cgroup.create()
        let child = try Sleeper()
        defer { child.stop() }
        try cgroup.write("cgroup.procs", String(child.pid))
        try cgroup.freeze(true)
        // A deadline in time, not a count of polls: under load each poll takes longer.
        var frozen = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !frozen && ContinuousClock.now < deadline {
            frozen = (try? StatParsers.flatKeyed(cgroup.read("cgroup.events") ?? ""))?["frozen"] == 1
            if !frozen { usleep(1000) }
        }
        #expect(frozen)
        try cgroup.freeze(false)
    }

    @Test("an unavailable controller is named with the available ones")
    func unknownController() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("ctl"))
        defer { removeTestCgroup(cgroup) }
        do {
            try cgroup.create(enabling: ["nosuch"])
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("nosuch"))
            #expect("\(error)".contains("available"))
        }
        #expect(!cgroup.exists)
    }

    @Test("a write error names the file and the errno")
    func writeErrors() throws {
        let mount = try #require(hostMount)
        let cgroup = try Cgroup(mount: mount, path: uniqueTestCgroup("werr"))
        defer { removeTestCgroup(cgroup) }
        try cgroup.create()
        do {
            try cgroup.write("cgroup.procs", "999999999")
            Issue.record("expected an error")
        } catch let e as CgroupError {
            #expect(e.path.hasSuffix("/cgroup.procs"))
            #expect(e.errno != nil)
        }
        #expect(throws: CgroupError.self) { try cgroup.apply(ResourceLimits(unified: ["nosuch.knob": "1"])) }
    }
}
