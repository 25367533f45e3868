import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveOCI
import CleaveTestSupport

/// `cleave hook poststart --inject` and io.cleave.teardown=inject on the host: a static
/// program (LD_PRELOAD cannot reach it) in a cleave-test cgroup stands in for the container's
/// process, and the hook is fed the state a runtime would pass.
@Suite("cleave hook poststart --inject (host tier)", .serialized,
       .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct HookInjectTests {
    private static let built = CFixture.build("hook_target", flags: ["-O1", "-static"])

    /// The fixture in a cgroup of its own (a shell moves itself there and execs it), blocked in
    /// read(3) until `finish()`; `remove()` kills what is left and removes the cgroup.
    final class Target {
        let cgroup: Cgroup
        let process: ChildProcess
        private var wakeFD: Int32
        var pid: Int32 { process.pid }

        /// `program`: the static fixture by default; `environment`: e.g. LD_PRELOAD for a dynamic one.
        init(label: String, program: [String]? = nil, environment: [String: String] = [:]) throws {
            let path = TestEnvironment.uniqueCgroupPath(label)
            cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
            _ = try cgroup.create()
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw SystemError("pipe") }
            wakeFD = fds[1]
            let args = try program ?? [HookInjectTests.built.get(), "16", "7"]
            let script = #"echo $$ > "$0/cgroup.procs" && exec "$@""#
            do {
                process = try ChildProcess(["/bin/sh", "-c", script, cgroup.path] + args,
                                           environment: environment, descriptors: [3: fds[0]])
            } catch {
                close(fds[0]); close(fds[1])
                TestEnvironment.removeCgroup(path)
                throw error
            }
            close(fds[0])
        }

        /// Lets the fixture run to its end: its exit status and output.
        func finish() throws -> (status: Int32, stdout: String) {
            _ = write(wakeFD, "x", 1)
            close(wakeFD)
            wakeFD = -1
            let result = try process.wait(timeout: 60)
            return (result.status, result.stdout)
        }

        func remove() {
            if wakeFD >= 0 { close(wakeFD) }
            kill(process.pid, SIGKILL)
            _ = try? process.wait(timeout: 30)
            TestEnvironment.removeCgroup(cgroup.relativePath)
        }

        /// Helpers in the target's cgroup named for it: cleanup/<pid>.
        func helpersInCgroup() -> [Int32] {
            TeardownHelpers.helpers(of: pid, among: (try? cgroup.processes()) ?? [])
        }
    }

    static func state(id: String, pid: Int32, annotations: [String: String] = [:]) -> String {
        let members = annotations.map { #""\#($0.key)": "\#($0.value)""# }.joined(separator: ", ")
        let extra = annotations.isEmpty ? "" : #", "annotations": {\#(members)}"#
        return HookTests.state(id: id, status: "running", pid: pid, extra: extra)
    }

    /// poststart (`--inject` when `flag`) for `target`; the hook's result and record.
    static func poststart(_ target: Target, id: String, flag: Bool, annotations: [String: String] = [:],
                          dir: String) throws -> (status: Int32, stderr: String, record: PoststartRecord?) {
        let result = try HookTests.hook(["poststart"] + (flag ? ["--inject"] : []),
                                        stdin: state(id: id, pid: target.pid, annotations: annotations), dir: dir)
        let record = FileIO.read("\(dir)/\(id).json").flatMap { try? JSONDecoder().decode(PoststartRecord.self, from: Data($0.utf8)) }
        return (result.status, result.stderr, record)
    }

    /// poststop, so the follower poststart started has its answer and the record goes.
    static func poststop(id: String, dir: String) {
        _ = try? HookTests.hook(["poststop", "--wait", "5s"], stdin: HookTests.state(id: id, status: "stopped", pid: nil), dir: dir)
    }

    @Test("--inject gives the container's process a helper in its cgroup; it works on and exits with its own status")
    func flagInjects() throws {
        let target = try Target(label: "hookinj")
        defer { target.remove() }
        try #require(target.process.readLine(timeout: 60) == "ready \(target.pid)")
        #expect(target.helpersInCgroup().isEmpty, "a static program has no preloaded helper")
        try HookTests.withDirectory { dir in
            let id = "inj-\(getpid())"
            let hook = try Self.poststart(target, id: id, flag: true, dir: dir)
            #expect(hook.status == 0, "stderr: \(hook.stderr)")
            #expect(TestEnvironment.eventually(timeout: 30) { target.helpersInCgroup().count == 1 },
                    "cgroup: \(((try? target.cgroup.processes()) ?? []).map { "\($0) \(ProcFS.comm($0) ?? "?")" })")
            let helper = try #require(target.helpersInCgroup().first)
            #expect(ProcFS.parentPid(helper) == target.pid)
            #expect(ProcFS.cgroupPath(helper) == ProcFS.cgroupPath(target.pid))
            let record = try #require(hook.record, "stderr: \(hook.stderr)")
            #expect(record.injection?.outcome == "injected", "\(String(describing: record.injection))")
            #expect(record.injection?.helperPid == helper)
            #expect(record.helperPresent && record.helperPids == [helper])
            #expect(!record.notes.contains { $0.contains("no cleanup/* helper") }, "\(record.notes)")
            #expect(!hook.stderr.contains("warning"), "stderr: \(hook.stderr)")

            let end = try target.finish()
            #expect(end.status == 7, "fixture: \(end.stdout)")
            #expect(end.stdout.contains("worked"), "fixture: \(end.stdout)")
            #expect(TestEnvironment.eventually(timeout: 30) { !ProcFS.isAlive(helper) || ProcFS.comm(helper) != "cleanup/\(target.pid)" })
            Self.poststop(id: id, dir: dir)
        }
    }

    @Test("io.cleave.teardown=inject alone (no flag) gives the helper")
    func annotationInjects() throws {
        let target = try Target(label: "hookinj-ann")
        defer { target.remove() }
        try #require(target.process.readLine(timeout: 60) == "ready \(target.pid)")
        try HookTests.withDirectory { dir in
            let id = "inj-ann-\(getpid())"
            let hook = try Self.poststart(target, id: id, flag: false, annotations: ["io.cleave.teardown": "inject"], dir: dir)
            #expect(hook.status == 0, "stderr: \(hook.stderr)")
            #expect(TestEnvironment.eventually(timeout: 30) { target.helpersInCgroup().count == 1 })
            #expect(hook.record?.injection?.outcome == "injected", "stderr: \(hook.stderr)")
            let end = try target.finish()
            #expect(end.status == 7 && end.stdout.contains("worked"), "fixture: \(end.stdout)")
            Self.poststop(id: id, dir: dir)
        }
    }

    @Test("a process that already has a helper (injected earlier, or preloaded) keeps exactly one; a note, exit 0")
    func alreadyHasHelper() throws {
        // Injected by an earlier hook run.
        let target = try Target(label: "hookinj-twice")
        defer { target.remove() }
        try #require(target.process.readLine(timeout: 60) == "ready \(target.pid)")
        try HookTests.withDirectory { dir in
            let id = "inj-twice-\(getpid())"
            let first = try Self.poststart(target, id: id, flag: true, dir: dir)
            #expect(first.record?.injection?.outcome == "injected", "stderr: \(first.stderr)")
            #expect(TestEnvironment.eventually(timeout: 30) { target.helpersInCgroup().count == 1 })
            let helper = try #require(target.helpersInCgroup().first)
            let footprint = InjectFixture.footprint(target.pid)
            let second = try Self.poststart(target, id: id, flag: true, dir: dir)
            #expect(second.status == 0, "stderr: \(second.stderr)")
            #expect(second.stderr.contains("note: pid \(target.pid) already has a teardown helper: left as it is"), "stderr: \(second.stderr)")
            #expect(!second.stderr.contains("warning"), "stderr: \(second.stderr)")
            #expect(second.record?.injection?.outcome == "already-had-helper")
            #expect(InjectFixture.footprint(target.pid) == footprint)
            #expect(InjectFixture.helpers(of: target.pid) == [helper])
            #expect(target.helpersInCgroup() == [helper])
            let end = try target.finish()
            #expect(end.status == 7, "fixture: \(end.stdout)")
            Self.poststop(id: id, dir: dir)
        }

        // A dynamic program given libcleave-teardown.so by LD_PRELOAD, as `cleave prepare` does.
        let preloaded = try Target(label: "hookinj-pre", program: ["/usr/bin/sleep", "300"],
                                   environment: ["LD_PRELOAD": TestEnvironment.teardownLibrary])
        defer { preloaded.remove() }
        // sh's helper retires at the exec and sleep's starts after it: wait for sleep's (its exe is sleep's).
        #expect(TestEnvironment.eventually(timeout: 30) {
            let helpers = preloaded.helpersInCgroup()
            return ProcFS.comm(preloaded.pid) == "sleep" && helpers.count == 1 && HookTests.executable(helpers[0]) == HookTests.executable(preloaded.pid)
        }, "sleep's preloaded helper did not appear")
        let helper = try #require(preloaded.helpersInCgroup().first)
        try HookTests.withDirectory { dir in
            let id = "inj-pre-\(getpid())"
            let hook = try Self.poststart(preloaded, id: id, flag: true, dir: dir)
            #expect(hook.status == 0, "stderr: \(hook.stderr)")
            #expect(hook.record?.injection?.outcome == "already-had-helper", "stderr: \(hook.stderr)")
            #expect(InjectFixture.helpers(of: preloaded.pid) == [helper])
            #expect(hook.record?.helperPids == [helper])
            kill(preloaded.pid, SIGKILL)
            Self.poststop(id: id, dir: dir)
        }
    }

    @Test("io.cleave.teardown=sync wins over --inject: no helper, a note")
    func syncWins() throws {
        let target = try Target(label: "hookinj-sync")
        defer { target.remove() }
        try #require(target.process.readLine(timeout: 60) == "ready \(target.pid)")
        try HookTests.withDirectory { dir in
            let id = "inj-sync-\(getpid())"
            let footprint = InjectFixture.footprint(target.pid)
            let hook = try Self.poststart(target, id: id, flag: true, annotations: ["io.cleave.teardown": "sync"], dir: dir)
            #expect(hook.status == 0, "stderr: \(hook.stderr)")
            #expect(hook.stderr.contains("io.cleave.teardown=sync: no helper injected"), "stderr: \(hook.stderr)")
            #expect(hook.record?.injection?.outcome == "declined-sync")
            #expect(hook.record?.helperPresent == false)
            // Nothing appears later either: give an injection the time it would take.
            usleep(300_000)
            #expect(target.helpersInCgroup().isEmpty && InjectFixture.helpers(of: target.pid).isEmpty)
            #expect(InjectFixture.footprint(target.pid) == footprint)
            #expect(ProcFS.status(target.pid, field: "TracerPid") == "0")
            let end = try target.finish()
            #expect(end.status == 7, "fixture: \(end.stdout)")
            Self.poststop(id: id, dir: dir)
        }
    }

    @Test("an injection that fails (a process under another tracer) is a warning naming the pid and why; exit 0, nothing changed")
    func failureIsAWarning() throws {
        let target = try Target(label: "hookinj-traced")
        defer { target.remove() }
        try #require(target.process.readLine(timeout: 60) == "ready \(target.pid)")
        let strace = try ChildProcess(["/usr/bin/strace", "-o", "/dev/null", "-p", "\(target.pid)"])
        defer { kill(strace.pid, SIGKILL); _ = try? strace.wait(timeout: 30) }
        #expect(TestEnvironment.eventually(timeout: 20) { ProcFS.status(target.pid, field: "TracerPid") == "\(strace.pid)" })
        let footprint = InjectFixture.footprint(target.pid)
        try HookTests.withDirectory { dir in
            let id = "inj-fail-\(getpid())"
            let hook = try Self.poststart(target, id: id, flag: true, dir: dir)
            #expect(hook.status == 0)
            #expect(hook.stderr.contains("cleave: warning: hook poststart: \(id): no helper injected into pid \(target.pid): ") &&
                    hook.stderr.contains("already traced"), "stderr: \(hook.stderr)")
            #expect(hook.record?.injection?.outcome == "failed")
            #expect(EventLog(path: dir + "/events.log").events().contains { $0.event == "hook-warning" && $0.message.contains("pid \(target.pid)") })
            #expect(InjectFixture.footprint(target.pid) == footprint)
            #expect(ProcFS.status(target.pid, field: "TracerPid") == "\(strace.pid)")
            #expect(target.helpersInCgroup().isEmpty)
            kill(strace.pid, SIGKILL)
            _ = try strace.wait(timeout: 30)
            #expect(TestEnvironment.eventually(timeout: 20) { ProcFS.status(target.pid, field: "TracerPid") == "0" })
            let end = try target.finish()
            #expect(end.status == 7, "fixture: \(end.stdout)")
            Self.poststop(id: id, dir: dir)
        }
    }

    @Test("who asks for injection: --inject or io.cleave.teardown=inject; sync wins; a bundle's inject annotation sets --inject")
    func whoAsks() throws {
        let key = CleaveAnnotations.teardown
        #expect(HookInjection.wanted(flag: false, annotations: nil) == nil)
        #expect(HookInjection.wanted(flag: false, annotations: [key: "async"]) == nil)
        #expect(HookInjection.wanted(flag: true, annotations: nil) == true)
        #expect(HookInjection.wanted(flag: true, annotations: [key: "async"]) == true)
        #expect(HookInjection.wanted(flag: false, annotations: [key: "inject"]) == true)
        #expect(HookInjection.wanted(flag: true, annotations: [key: "sync"]) == false)
        #expect(HookInjection.wanted(flag: false, annotations: [key: "sync"]) == nil)
        #expect(CleaveAnnotations.teardownMode(in: [key: "inject"]) == .async)

        let bundle = try TestBundle(TestBundle.config(args: ["/bin/true"], extra: #""annotations": {"io.cleave.teardown": "inject"}"#))
        defer { bundle.remove() }
        let request = try BundleRequest.make(bundle: bundle.directory, id: "inj")
        #expect(request.inject && request.teardown == .async)
    }

    @Test("a bogus pid: a warning naming it, exit 0, no record")
    func bogusPid() throws {
        try HookTests.withDirectory { dir in
            let gone = try ChildProcess(["/bin/true"])
            _ = try gone.wait()
            let result = try HookTests.hook(["poststart", "--inject"], stdin: Self.state(id: "inj-bogus", pid: gone.pid), dir: dir)
            #expect(result.status == 0)
            #expect(result.stderr.contains("pid \(gone.pid) of container inj-bogus is gone"), "stderr: \(result.stderr)")
            #expect(FileIO.read("\(dir)/inj-bogus.json") == nil)
        }
    }
}
