import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// An isolated parent cgroup and run-record directory for one fault test, so `cleave gc`
/// only ever sees what that test made (tests run in parallel).
struct GCFixture {
    let parent: String
    let stateDirectory: String
    var environment: [String: String] { ["CLEAVE_STATE_DIR": stateDirectory, "CLEAVE_EVENT_LOG": eventLog] }
    var eventLog: String { stateDirectory + "/events.log" }

    init(_ label: String) {
        let tag = "\(label)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        parent = "cleave-test/gc-\(tag)"
        stateDirectory = "/tmp/cleave-test-state-\(tag)"
        AtomicFile.makeDirectories(stateDirectory)
    }

    func cgroupPath(_ name: String) -> String { parent + "/" + name }

    func cgroup(_ name: String) throws -> Cgroup {
        try Cgroup(mount: TestEnvironment.mount!, path: cgroupPath(name))
    }

    /// `cleave run --cgroup <parent>/<name> ARGS -- COMMAND`, with this fixture's records and log.
    func run(_ name: String, _ args: [String] = [], _ command: [String]) throws -> ChildProcess {
        try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", cgroupPath(name)] + args + ["--"] + command,
                         environment: environment)
    }

    /// `cleave run ARGS -- cleave probe alloc 8M` in <parent>/<name>: the run, the probe's pid
    /// (from its ready line) and the cgroup.
    func runProbe(_ name: String, _ args: [String] = []) throws -> (run: ChildProcess, workload: Int32, cgroup: Cgroup) {
        let run = try self.run(name, args, [TestEnvironment.cleave, "probe", "alloc", "8M"])
        guard let line = run.readLine(), line.hasPrefix("ready "), let pid = Int32(line.dropFirst("ready ".count)) else {
            throw CleaveError.message("the probe never said ready")
        }
        return (run, pid, try cgroup(name))
    }

    /// The cgroup is removed, no record is left, and `cleave gc` finds nothing.
    func expectNothingLeft(_ cgroup: Cgroup, timeout: Double = 10, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(TestEnvironment.eventually(timeout: timeout) { !cgroup.exists }, "cgroup left", sourceLocation: sourceLocation)
        #expect(TestEnvironment.eventually { records().isEmpty }, "records left: \(records())", sourceLocation: sourceLocation)
        let gc = try self.gc()
        #expect(gc.status == 0 && gc.findings.isEmpty, "gc: \(gc.findings) \(gc.stderr)", sourceLocation: sourceLocation)
    }

    /// A workload that holds none of the test's pipes (a killed cleave must not leave them
    /// open in a process that outlives it): `command` exec'd with stdio on /dev/null.
    static func detached(_ command: [String]) -> [String] {
        ["sh", "-c", "exec \"$0\" \"$@\" </dev/null >/dev/null 2>&1"] + command
    }

    /// The workload's pid, once its helper (cleanup/<pid>) has appeared in `cgroup`; the
    /// helper follows the sh's exec, so the pid named is the exec'd command's.
    static func workloadAndHelper(in cgroup: Cgroup, comm: String) -> (workload: Int32, helper: Int32)? {
        var found: (Int32, Int32)?
        _ = TestEnvironment.eventually(timeout: 20) {
            let procs = (try? cgroup.processes()) ?? []
            for helper in TeardownHelpers.helpers(among: procs) {
                if let pid = ProcFS.comm(helper).flatMap(TeardownHelpers.workloadPid(fromComm:)),
                   procs.contains(pid), ProcFS.comm(pid) == comm {
                    found = (pid, helper)
                    return true
                }
            }
            return false
        }
        return found
    }

    struct Finding: Decodable { var kind: String; var path: String; var action: String; var detail: String }

    /// `cleave gc --json` over this fixture: its status and findings.
    func gc(_ flags: [String] = []) throws -> (status: Int32, findings: [Finding], stderr: String) {
        let result = try ChildProcess([TestEnvironment.cleave, "gc", "--json", "--parent", parent,
                                       "--state-dir", stateDirectory] + flags, environment: environment).wait(timeout: 60)
        let findings = (try? JSONDecoder().decode([Finding].self, from: Data(result.stdout.utf8))) ?? []
        return (result.status, findings, result.stderr + (findings.isEmpty && !result.stdout.hasPrefix("[") ? result.stdout : ""))
    }

    /// The run records (*.json) in the state directory.
    func records() -> [String] {
        guard let dir = opendir(stateDirectory) else { return [] }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".json") { names.append(name) }
        }
        return names.sorted()
    }

    func events() -> [String] { EventLog(path: eventLog).events().map(\.event) }

    /// Thaws, kills and removes every cgroup below the parent, the parent, and the records
    /// (after the teardown watchers of its runs are gone: they write the event log last).
    func cleanup() {
        _ = TestEnvironment.eventually(timeout: 15) {
            !ProcFS.allPids().contains { pid in
                (FileIO.read("/proc/\(pid)/cmdline")?.contains("/\(parent)/") ?? false) && ProcFS.isAlive(pid)
                    && FileIO.read("/proc/\(pid)/cmdline")?.contains("__watch-teardown") == true
            }
        }
        if let mount = TestEnvironment.mount, let root = try? Cgroup(mount: mount, path: parent), root.exists {
            var queue = [root], all = [Cgroup]()
            while let c = queue.popLast() { all.append(c); queue += (try? c.children()) ?? [] }
            for c in all { try? c.freeze(false) }
        }
        TestEnvironment.removeCgroup(parent)
        TestEnvironment.removeTree(stateDirectory)
    }

    /// The detached `cleave __watch-teardown` waiting on `cgroup`, once it runs (nil after
    /// `timeout` seconds): cleave starts it just before it exits, so it is waited for.
    static func watcherPid(for cgroup: Cgroup, timeout: Double = 10) -> Int32? {
        var found: Int32?
        _ = TestEnvironment.eventually(timeout: timeout) {
            found = ProcFS.allPids().first { pid in
                guard let cmdline = FileIO.read("/proc/\(pid)/cmdline") else { return false }
                let args = cmdline.split(separator: "\0").map(String.init)
                return args.count > 3 && args[1] == "__watch-teardown" && args.contains(cgroup.path) && ProcFS.isAlive(pid)
            }
            return found != nil
        }
        return found
    }

    /// Freezes `cgroup` and waits until the kernel says it is frozen.
    static func freeze(_ cgroup: Cgroup) throws -> Bool {
        try cgroup.freeze(true)
        return TestEnvironment.eventually(timeout: 10) {
            ((try? cgroup.read("cgroup.events")) ?? nil).map { $0.contains("frozen 1") } ?? false
        }
    }
}
