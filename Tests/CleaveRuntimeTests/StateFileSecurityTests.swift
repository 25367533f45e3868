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

/// Files cleave writes as root cannot be redirected by a link planted where it writes, and
/// state directories others can write to are refused before anything is acted on.
@Suite("state files and directories cannot be redirected or forged (host tier)",
       .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct StateFileSecurityTests {
    /// A root-only scratch directory with a victim file (root-owned, as /etc/shadow would be).
    struct Scratch {
        let directory: String
        var victim: String { directory + "/victim" }
        static let precious = "precious, root-owned\n"

        init() throws {
            var template = Array("/tmp/cleave-test-sec-XXXXXX".utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw CleaveError.message("mkdtemp: \(SystemError.reason(errno))")
            }
            directory = String(cString: made)
            let fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            _ = Self.precious.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }

        func path(_ name: String) -> String { directory + "/" + name }
        var victimIntact: Bool { FileIO.read(victim) == Self.precious }
        /// Removed once no process names it any more (a detached hook follower or watcher
        /// still writing there would recreate it after the rm).
        func remove() {
            _ = TestEnvironment.eventually(timeout: 15) { !Self.anyProcessMentions(directory) }
            TestEnvironment.removeTree(directory)
        }

        static func anyProcessMentions(_ text: String) -> Bool {
            guard let proc = opendir("/proc") else { return false }
            defer { closedir(proc) }
            let me = getpid()
            while let entry = readdir(proc) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard let pid = Int32(name), pid != me else { continue }
                for file in ["cmdline", "environ"] {
                    if let content = FileIO.read("/proc/\(pid)/\(file)"), content.contains(text) { return true }
                }
            }
            return false
        }

        /// A real directory of `mode` (umask aside) inside the scratch directory.
        func makeDirectory(_ name: String, mode: mode_t = 0o755) -> String {
            let dir = path(name)
            mkdir(dir, 0o700)
            chmod(dir, mode)
            return dir
        }
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// A run record as cleave writes one (its memberwise initialiser is internal).
    static func record(id: String, cgroup: String) throws -> RunState {
        let json = #"{"id": "\#(id)", "name": "\#(id)", "cgroup": "\#(cgroup)", "helperPids": [], "teardown": "async", "status": "running", "createdAt": 1}"#
        return try JSONDecoder().decode(RunState.self, from: Data(json.utf8))
    }

    static func entries(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    @Test("a run record is written through neither a symlink at the old temporary name nor one at its final name")
    func recordWrite() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let dir = scratch.makeDirectory("runs")
        let record = dir + "/r-1.json"
        #expect(symlink(scratch.victim, record + ".tmp.\(getpid())") == 0)
        #expect(symlink(scratch.victim, record) == 0)
        let state = try Self.record(id: "r", cgroup: "/sys/fs/cgroup/x")
        try state.write(to: record)
        #expect(scratch.victimIntact, "the victim was overwritten")
        #expect(Self.isRegularFile(record), "the planted link is replaced by cleave's own file")
        #expect(try RunState.read(from: record).id == "r")
        #expect(Self.entries(dir) == ["r-1.json", "r-1.json.tmp.\(getpid())"], "no temporary file is left: \(Self.entries(dir))")
    }

    @Test("the event log refuses a symlink, a hard link, a FIFO and another user's file; the target is unchanged")
    func appendRefusesPlantedFiles() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let line = Array("{\"event\":\"x\"}\n".utf8)
        let link = scratch.path("symlinked.log")
        #expect(symlink(scratch.victim, link) == 0)
        #expect(throws: CleaveError.self) { try AtomicFile.append(line, to: link) }
        let hard = scratch.path("hardlinked.log")
        #expect(Glibc.link(scratch.victim, hard) == 0)
        #expect(throws: CleaveError.self) { try AtomicFile.append(line, to: hard) }
        let fifo = scratch.path("fifo.log")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: CleaveError.self) { try AtomicFile.append(line, to: fifo) }   // and does not block
        let foreign = scratch.path("foreign.log")
        close(open(foreign, O_WRONLY | O_CREAT, 0o666))
        #expect(chown(foreign, 65534, 65534) == 0)
        #expect(throws: CleaveError.self) { try AtomicFile.append(line, to: foreign) }
        #expect(FileIO.read(foreign) == "")
        #expect(scratch.victimIntact)
        let own = scratch.path("own.log")
        try AtomicFile.append(line, to: own)
        try AtomicFile.append(line, to: own)
        #expect(FileIO.read(own) == String(decoding: line + line, as: UTF8.self))
    }

    @Test("cleave run --state-file replaces a symlink planted at its name and leaves the target alone")
    func stateFileSymlink() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = TestEnvironment.uniqueCgroupPath("statefile")
        defer { TestEnvironment.removeCgroup(path) }
        let stateFile = scratch.path("state.json")
        #expect(symlink(scratch.victim, stateFile) == 0)
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--state-file", stateFile, "--", "true"],
                                      environment: ["CLEAVE_STATE_DIR": scratch.makeDirectory("runs"),
                                                    "CLEAVE_EVENT_LOG": scratch.path("events.log")]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(scratch.victimIntact)
        #expect(Self.isRegularFile(stateFile))
        #expect(try RunState.read(from: stateFile).status != .created)
    }

    @Test("cleave hook poststop writes its report and log line through no planted symlink")
    func hookReportAndEventLog() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hooks = scratch.makeDirectory("hooks")
        mkdir(hooks + "/reports", 0o755)
        let id = "sec-\(getpid())"
        #expect(symlink(scratch.victim, hooks + "/reports/\(id).json") == 0)
        #expect(symlink(scratch.victim, hooks + "/events.log") == 0)
        let state = #"{"ociVersion": "1.0.2", "id": "\#(id)", "status": "stopped", "bundle": "/tmp"}"#
        let result = try ChildProcess([TestEnvironment.cleave, "hook", "poststop"],
                                      environment: ["CLEAVE_HOOK_DIR": hooks, "CLEAVE_EVENT_LOG": hooks + "/events.log"],
                                      stdin: state).wait()
        #expect(result.status == 0)
        #expect(scratch.victimIntact, "stderr: \(result.stderr)")
        #expect(Self.isRegularFile(hooks + "/reports/\(id).json"), "the report replaces the link")
        #expect(result.stderr.contains("events.log") && result.stderr.contains("symlink"), "the refused log is said: \(result.stderr)")
    }

    @Test("cleave hook poststart never writes its record through a symlink at the record's name")
    func hookRecord() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hooks = scratch.makeDirectory("hooks")
        let sleeper = try ChildProcess(["/bin/sleep", "30"])
        defer { kill(sleeper.pid, SIGKILL); _ = try? sleeper.wait() }
        let id = "rec-\(getpid())"
        #expect(symlink(scratch.victim, hooks + "/\(id).json") == 0)
        let state = #"{"ociVersion": "1.0.2", "id": "\#(id)", "status": "running", "bundle": "/tmp", "pid": \#(sleeper.pid)}"#
        let result = try ChildProcess([TestEnvironment.cleave, "hook", "poststart"],
                                      environment: ["CLEAVE_HOOK_DIR": hooks, "CLEAVE_EVENT_LOG": hooks + "/events.log"],
                                      stdin: state).wait()
        #expect(result.status == 0)
        #expect(scratch.victimIntact, "stderr: \(result.stderr)")
        #expect(Self.isRegularFile(hooks + "/\(id).json"), "stderr: \(result.stderr)")
    }

    @Test("cleave prepare --output replaces a symlink at the output name; the target is unchanged")
    func prepareOutput() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let bundle = try TestBundle(TestBundle.config(args: ["true"]))
        defer { bundle.remove() }
        let output = scratch.path("config.out.json")
        #expect(symlink(scratch.victim, output) == 0)
        let result = try ChildProcess([TestEnvironment.cleave, "prepare", "--bundle", bundle.directory,
                                       "--library", "/opt/lib/libcleave-teardown.so", "--output", output]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(scratch.victimIntact)
        #expect(Self.isRegularFile(output))
        #expect(FileIO.read(output)?.contains("LD_PRELOAD") == true)
    }

    /// The unsafe state directories: a symlink to a good one, group- or world-writable, another uid's.
    static func unsafeDirectories(_ scratch: Scratch) -> [(String, String)] {
        let good = scratch.makeDirectory("good")
        let link = scratch.path("linked")
        symlink(good, link)
        let foreign = scratch.makeDirectory("foreign")
        chown(foreign, 65534, 65534)
        return [(link, "symbolic link"), (scratch.makeDirectory("world", mode: 0o777), "writable by group or others"),
                (scratch.makeDirectory("group", mode: 0o775), "writable by group or others"), (foreign, "owned by uid 65534")]
    }

    @Test("cleave run refuses an unsafe CLEAVE_STATE_DIR with exit 125 naming it, and creates nothing")
    func runRefusesUnsafeStateDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for (dir, why) in Self.unsafeDirectories(scratch) {
            let path = TestEnvironment.uniqueCgroupPath("statedir")
            defer { TestEnvironment.removeCgroup(path) }
            let result = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", path, "--", "true"],
                                          environment: ["CLEAVE_STATE_DIR": dir, "CLEAVE_EVENT_LOG": scratch.path("events.log")]).wait()
            #expect(result.status == 125, "\(dir): \(result.stderr)")
            #expect(result.stderr.contains("state directory \(dir): ") && result.stderr.contains(why), "\(result.stderr)")
            #expect(try !Cgroup(mount: #require(TestEnvironment.mount), path: path).exists, "\(dir): no cgroup is created")
            #expect(Self.entries(dir).isEmpty, "\(dir): nothing is written there")
        }
    }

    @Test("cleave hook refuses an unsafe CLEAVE_HOOK_DIR and writes no record there")
    func hookRefusesUnsafeDirectory() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let sleeper = try ChildProcess(["/bin/sleep", "30"])
        defer { kill(sleeper.pid, SIGKILL); _ = try? sleeper.wait() }
        for (dir, why) in Self.unsafeDirectories(scratch) {
            let state = #"{"ociVersion": "1.0.2", "id": "bad", "status": "running", "bundle": "/tmp", "pid": \#(sleeper.pid)}"#
            let result = try ChildProcess([TestEnvironment.cleave, "hook", "poststart"],
                                          environment: ["CLEAVE_HOOK_DIR": dir, "CLEAVE_EVENT_LOG": scratch.path("events.log")],
                                          stdin: state).wait()
            #expect(result.status == 0, "a hook never fails the runtime")
            #expect(result.stderr.contains("state directory \(dir): ") && result.stderr.contains(why), "\(result.stderr)")
            #expect(Self.entries(dir).isEmpty, "\(dir): \(Self.entries(dir))")
        }
    }

    @Test("cleave gc never acts on a forged record in an unsafe state directory (exit 125, the cgroup's process lives)")
    func gcIgnoresForgedRecords() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let parent = TestEnvironment.uniqueCgroupPath("gcforge")
        let victimPath = parent + "/victim"
        let mount = try #require(TestEnvironment.mount)
        let victim = try Cgroup(mount: mount, path: victimPath)
        _ = try ChildProcess(["/bin/mkdir", "-p", victim.path]).wait()
        defer { TestEnvironment.removeCgroup(victimPath); TestEnvironment.removeCgroup(parent) }
        let sleeper = try ChildProcess(["/bin/sleep", "60"])
        defer { kill(sleeper.pid, SIGKILL); _ = try? sleeper.wait() }
        try victim.write("cgroup.procs", "\(sleeper.pid)")
        for (dir, why) in Self.unsafeDirectories(scratch) {
            var forged = try Self.record(id: "forged", cgroup: victim.path)
            forged.supervisorPid = 0x3fffff   // no such process: a stale record
            forged.supervisorStartTime = 1
            let real = dir.hasSuffix("linked") ? scratch.path("good") : dir
            try? forged.write(to: real + "/forged-1.json")
            let result = try ChildProcess([TestEnvironment.cleave, "gc", "--parent", parent, "--state-dir", dir, "--force"]).wait()
            #expect(result.status == 125, "\(dir): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("state directory \(dir): ") && result.stderr.contains(why), "\(result.stderr)")
            #expect(kill(sleeper.pid, 0) == 0 && victim.exists, "\(dir): gc acted on the forged record")
            unlink(real + "/forged-1.json")
        }
    }

    @Test("hook input over 16 MiB says so")
    func hookInputOverCap() throws {
        let script = "head -c \((16 << 20) + 4096) /dev/zero | exec \"$0\" hook poststart"
        let result = try ChildProcess(["/bin/sh", "-c", script, TestEnvironment.cleave]).wait()
        #expect(result.status == 0)
        #expect(result.stderr.contains("input over 16 MiB"), "stderr: \(result.stderr)")
    }
}
