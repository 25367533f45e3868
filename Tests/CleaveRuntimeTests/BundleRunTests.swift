import CleaveCgroups
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory
import CleaveVerify
import CleaveTestSupport

/// `cleave run --bundle` against the real hierarchy: the config's process settings reach the
/// workload, hooks run in order with the state on stdin, and bad bundles leave nothing.
@Suite("cleave run --bundle (host tier)", .enabled(if: TestEnvironment.hasCgroup2, "no cgroup2 mount on this machine"))
struct BundleRunTests {
    /// Runs the bundle with a unique cgroup; returns the result and the cgroup path.
    func run(_ config: (String) -> String, extraArgs: [String] = [], environment: [String: String] = [:],
             _ body: (TestBundle, (status: Int32, stdout: String, stderr: String), String) throws -> Void) throws {
        let path = TestEnvironment.uniqueCgroupPath("bundle")
        defer { TestEnvironment.removeCgroup(path) }
        let bundle = try TestBundle(config("/" + path))
        defer { bundle.remove() }
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory] + extraArgs,
                                      environment: environment).wait()
        try body(bundle, result, path)
    }

    static func statusField(_ output: String, _ name: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { $0.dropFirst(name.count + 1).trimmingSpaces() }
    }

    @Test("capabilities are dropped and kept as configured, with no_new_privs")
    func capabilities() throws {
        let caps = #""capabilities": {"bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}, "noNewPrivileges": true"#
        try run({ TestBundle.config(args: ["cat", "/proc/self/status"], process: caps, cgroupsPath: $0) }) { _, result, _ in
            #expect(result.status == 0, "stderr: \(result.stderr)")
            // CAP_KILL is 5 (0x20), CAP_NET_BIND_SERVICE is 10 (0x400).
            #expect(Self.statusField(result.stdout, "CapBnd") == "0000000000000420")
            #expect(Self.statusField(result.stdout, "CapEff") == "0000000000000020")
            #expect(Self.statusField(result.stdout, "CapPrm") == "0000000000000020")
            #expect(Self.statusField(result.stdout, "CapAmb") == "0000000000000020")
            #expect(Self.statusField(result.stdout, "NoNewPrivs") == "1")
        }
    }

    @Test("without process.capabilities the workload gets none, as with runc and crun (not cleave's own)")
    func noCapabilitiesByDefault() throws {
        try run({ TestBundle.config(args: ["cat", "/proc/self/status"], cgroupsPath: $0) }) { _, result, _ in
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(Self.statusField(result.stdout, "NoNewPrivs") == "0")
            for set in ["CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb"] {
                #expect(Self.statusField(result.stdout, set) == "0000000000000000", "\(set)")
            }
        }
    }

    @Test("descriptors are closed before chdir: a cwd of /proc/self/fd/N reaches nothing cleave held open")
    func cwdThroughInheritedDescriptor() throws {
        for fd in 3...9 {
            try run({ TestBundle.config(args: ["/bin/pwd"], cgroupsPath: $0)
                .replacingOccurrences(#""cwd": "/""#, #""cwd": "/proc/self/fd/\#(fd)""#) }) { _, result, _ in
                // chdir fails (exit 127, "chdir"), so pwd never runs in a directory cleave had open.
                #expect(result.status != 0, "fd \(fd): the workload ran in \(result.stdout)")
                #expect(result.stdout.isEmpty, "fd \(fd): \(result.stdout)")
            }
        }
    }

    @Test("a NUL byte in process.args, env or cwd is refused with the field named; nothing runs")
    func nulBytes() throws {
        let cases: [(String, (String) -> String)] = [
            ("process.args[0]", { TestBundle.config(args: ["tr\u{0}ue"], cgroupsPath: $0) }),
            ("process.args[1]", { TestBundle.config(args: ["sh", "-c\u{0}", "exit 0"], cgroupsPath: $0) }),
            ("process.env[0]", { TestBundle.config(args: ["true"], cgroupsPath: $0).replacingOccurrences("PATH=/usr/bin:/bin", #"PATH=/usr/bin:/bin\u0000X=1"#) }),
            ("process.cwd", { TestBundle.config(args: ["true"], cgroupsPath: $0).replacingOccurrences(#""cwd": "/""#, #""cwd": "/tmp\u0000/x""#) }),
            ("hooks.poststart[0].path", { TestBundle.config(args: ["true"], cgroupsPath: $0, extra: #""hooks": {"poststart": [{"path": "/bin/true\u0000x"}]}"#) }),
            ("hooks.poststart[0].args[1]", { TestBundle.config(args: ["true"], cgroupsPath: $0, extra: #""hooks": {"poststart": [{"path": "/bin/sh", "args": ["sh", "-c\u0000", "exit 0"]}]}"#) }),
        ]
        for (field, config) in cases {
            try run({ config($0).replacingOccurrences("\u{0}", "\\u0000") }) { _, result, path in
                #expect(result.status == 125, "\(field): \(result.stderr)")
                #expect(result.stderr.contains(field) && result.stderr.contains("NUL"), "\(field): \(result.stderr)")
                let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
                #expect(!cgroup.exists, "\(field): nothing is created")
            }
        }
    }

    @Test("uid, gid, additional gids, umask, rlimits and cwd are applied")
    func userAndLimits() throws {
        let process = #""user": {"uid": 65534, "gid": 65533, "additionalGids": [4242], "umask": 63}, "cwd": "/tmp", "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 333, "hard": 444}]"#
        let script = "id -u; id -g; grep ^Groups: /proc/self/status; umask; pwd; ulimit -Sn; ulimit -Hn"
        try run({ path in
            TestBundle.config(args: ["sh", "-c", script], cgroupsPath: path)
                .replacingOccurrences(#""cwd": "/", "user": {"uid": 0, "gid": 0},"#, "")
                .replacingOccurrences(#""env": ["PATH=/usr/bin:/bin"]"#, #""env": ["PATH=/usr/bin:/bin"], "# + process)
        }) { _, result, _ in
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map { $0.trimmingSpaces() }
            #expect(lines == ["65534", "65533", "Groups:\t4242".trimmingSpaces(), "0077", "/tmp", "333", "444"])
        }
    }

    @Test("process.env is the workload's whole environment, plus the teardown library")
    func environment() throws {
        try run({ TestBundle.config(args: ["env"], cgroupsPath: $0).replacingOccurrences(#""PATH=/usr/bin:/bin""#, #""PATH=/usr/bin:/bin", "FOO=bar""#) },
                environment: ["CLEAVE_TEST_LEAK": "1"]) { _, result, _ in
            #expect(result.status == 0, "stderr: \(result.stderr)")
            let names = Set(result.stdout.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
            #expect(result.stdout.contains("FOO=bar\n"))
            #expect(!names.contains("CLEAVE_TEST_LEAK"), "cleave's own environment leaked: \(names)")
            #expect(names.contains("LD_PRELOAD"), "async is the default: \(result.stdout)")
        }
    }

    @Test("the io.cleave.teardown annotation selects sync: nothing is preloaded")
    func teardownAnnotation() throws {
        try run({ TestBundle.config(args: ["env"], cgroupsPath: $0, extra: #""annotations": {"io.cleave.teardown": "sync"}"#) }) { _, result, _ in
            #expect(result.status == 0, "stderr: \(result.stderr)")
            #expect(!result.stdout.contains("LD_PRELOAD="))
        }
    }

    @Test("linux.resources become cgroup files; the exit status is relayed")
    func resources() throws {
        let resources = #""pids": {"limit": 77}, "cpu": {"quota": 50000, "period": 100000}"#
        try run({ path in
            TestBundle.config(args: ["sh", "-c", "cat /sys/fs/cgroup/unified\(path)/pids.max /sys/fs/cgroup/unified\(path)/cpu.max 2>/dev/null; exit 3"])
                .replacingOccurrences("}}", "}, \"linux\": {\"cgroupsPath\": \"\(path)\", \"resources\": {\(resources)}}}")
        }) { _, result, path in
            let available = ((try? TestEnvironment.mount?.availableControllers()) ?? nil) ?? []
            if available.isSuperset(of: ["pids", "cpu"]) {
                #expect(result.status == 3, "stderr: \(result.stderr)")
                #expect(result.stdout.contains("77\n50000 100000"), "stdout: \(result.stdout)")
            } else {
                // A hybrid host without those controllers in cgroup2: refused before anything exists.
                #expect(result.status == 125)
                #expect(result.stderr.contains("not available in the cgroup2 hierarchy"), "stderr: \(result.stderr)")
                let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
                #expect(!cgroup.exists)
            }
        }
    }

    @Test("hooks run in spec order with the container state on stdin")
    func hookOrder() throws {
        func hook(_ stage: String, _ bundleDir: String) -> String {
            #"{"path": "/bin/sh", "args": ["sh", "-c", "printf '\#(stage) ' >> \#(bundleDir)/hooks.log; cat >> \#(bundleDir)/hooks.log; echo >> \#(bundleDir)/hooks.log"]}"#
        }
        let path = TestEnvironment.uniqueCgroupPath("hooks")
        defer { TestEnvironment.removeCgroup(path) }
        let bundle = try TestBundle("{}")
        defer { bundle.remove() }
        let d = bundle.directory
        let hooks = #""hooks": {"poststop": [\#(hook("poststop", d))], "poststart": [\#(hook("poststart", d))], "createRuntime": [\#(hook("createRuntime", d)), \#(hook("createRuntime2", d))], "startContainer": [\#(hook("startContainer", d))]}"#
        try AtomicFile.write(Array(TestBundle.config(args: ["sh", "-c", "echo $$ > \(d)/workload.pid"], cgroupsPath: "/" + path, extra: hooks).utf8),
                             to: bundle.configPath)
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", d, "--id", "hook-order"]).wait()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = (bundle.read("hooks.log") ?? "").split(separator: "\n").map(String.init)
        #expect(lines.map { $0.split(separator: " ").first.map(String.init) ?? "" } ==
                ["createRuntime", "createRuntime2", "startContainer", "poststart", "poststop"])
        let pid = bundle.read("workload.pid")?.trimmingSpaces() ?? "?"
        #expect(lines.first?.contains(#""status":"creating""#) == true)
        #expect(lines.first?.contains(#""pid":\#(pid)"#) == true, "the create hooks see the workload's pid: \(lines)")
        #expect(lines.first?.contains(#""id":"hook-order""#) == true)
        #expect(lines.first?.contains(#""bundle":"\#(d)""#) == true)
        #expect(lines.dropFirst(2).first?.contains(#""status":"created""#) == true)
        #expect(lines.dropFirst(3).first?.contains(#""status":"running""#) == true)
        #expect(lines.last?.contains(#""status":"stopped""#) == true)
    }

    @Test("a failing createRuntime hook stops the start: the workload never runs, nothing is left")
    func failingCreateRuntime() throws {
        let path = TestEnvironment.uniqueCgroupPath("hookfail")
        defer { TestEnvironment.removeCgroup(path) }
        let bundle = try TestBundle("{}")
        defer { bundle.remove() }
        let hooks = #""hooks": {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]}"#
        try AtomicFile.write(Array(TestBundle.config(args: ["touch", bundle.file("ran")], cgroupsPath: "/" + path, extra: hooks).utf8),
                             to: bundle.configPath)
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory]).wait()
        #expect(result.status == 125)
        #expect(result.stderr.contains("hooks.createRuntime[0] (/bin/sh) failed: /bin/sh exited with status 4"), "stderr: \(result.stderr)")
        #expect(bundle.read("ran") == nil, "the workload must not have run")
        #expect(!(try Cgroup(mount: #require(TestEnvironment.mount), path: path)).exists)
    }

    @Test("a hook past its timeout is killed and the start fails")
    func hookTimeout() throws {
        try run({ TestBundle.config(args: ["true"], cgroupsPath: $0, extra: #""hooks": {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}"#) }) { _, result, path in
            #expect(result.status == 125)
            #expect(result.stderr.contains("timed out after 1s"), "stderr: \(result.stderr)")
            let cgroup = try Cgroup(mount: #require(TestEnvironment.mount), path: path)
            #expect(!cgroup.exists)
        }
    }

    @Test("a failing poststop hook is a warning; the workload's status stands")
    func failingPoststop() throws {
        try run({ TestBundle.config(args: ["sh", "-c", "exit 6"], cgroupsPath: $0, extra: #""hooks": {"poststop": [{"path": "/bin/false"}]}"#) }) { _, result, _ in
            #expect(result.status == 6)
            #expect(result.stderr.contains("warning: hooks.poststop[0] (/bin/false) failed"), "stderr: \(result.stderr)")
        }
    }

    @Test("bad bundles are refused with the file, the field and exit 125, leaving no cgroup", arguments: [
        (#"{"ociVersion": "1.0.2", "process": {"args": ["true"],, }}"#, "line 1, column 54: invalid JSON"),
        (#"{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "linux": {"resources": {"memory": {"limit": "1G"}}}}"#,
         "linux.resources.memory.limit: expected an integer, found a string"),
        (#"{"ociVersion": "1.0.2", "process": {"cwd": "/", "user": {"uid": 0, "gid": 0}}}"#, "process.args: missing"),
        (#"{"ociVersion": "2.0.0", "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}}"#, "ociVersion '2.0.0' is not supported"),
        (#"{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "linux": {"namespaces": [{"type": "pid"}]}}"#,
         "linux.namespaces: namespaces (pid) are not supported: cleave runs process workloads; run containers with crun or runc"),
        (#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}}"#, "root.path: 'rootfs' is not supported"),
        (#"{"ociVersion": "1.0.2", "mounts": [{"destination": "/proc", "type": "proc"}], "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}}"#, "mounts: 1 mount(s) (/proc)"),
        (#"{"ociVersion": "1.0.2", "process": {"args": ["true"], "cwd": "/", "user": {"uid": 0, "gid": 0}}, "linux": {"resources": {"memory": {"limit": 100, "swap": 50}}}}"#,
         "linux.resources.memory.swap: 50 is less than memory.limit 100"),
    ])
    func badBundles(config: String, message: String) throws {
        let bundle = try TestBundle(config)
        defer { bundle.remove() }
        let id = "bad-\(UInt32.random(in: 0...UInt32.max))"
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory, "--id", id]).wait()
        #expect(result.status == 125)
        #expect(result.stderr.contains("cleave: \(bundle.configPath): \(message)"), "stderr: \(result.stderr)")
        #expect(!(try Cgroup(mount: #require(TestEnvironment.mount), path: "cleave/\(id)")).exists)
    }

    @Test("a missing bundle, a command after --bundle and limit flags with --bundle are refused")
    func badInvocations() throws {
        let missing = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", "/nonexistent-cleave-bundle"]).wait()
        #expect(missing.status == 125)
        #expect(missing.stderr.contains("--bundle /nonexistent-cleave-bundle: No such file or directory"))
        let bundle = try TestBundle(TestBundle.config(args: ["true"]))
        defer { bundle.remove() }
        let extra = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory, "--", "echo"]).wait()
        #expect(extra.status == 125)
        #expect(extra.stderr.contains("remove the command after --bundle"))
        let flags = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory, "--memory-max", "1G"]).wait()
        #expect(flags.status == 125)
        #expect(flags.stderr.contains("--memory-max cannot be combined with --bundle"))
        let id = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory, "--id", "../x"]).wait()
        #expect(id.status == 125)
        #expect(id.stderr.contains("--id: '../x' is not a container id"))
    }

    @Test("cleave spec prints a config that cleave run --bundle accepts")
    func starterSpec() throws {
        let spec = try ChildProcess([TestEnvironment.cleave, "spec", "--", "sh", "-c", "exit 0"]).wait()
        #expect(spec.status == 0)
        let path = TestEnvironment.uniqueCgroupPath("spec")
        defer { TestEnvironment.removeCgroup(path) }
        let bundle = try TestBundle(spec.stdout)
        defer { bundle.remove() }
        // The starter asks for memory and pids limits; the host may lack those controllers.
        let result = try ChildProcess([TestEnvironment.cleave, "run", "--bundle", bundle.directory, "--cgroup", path]).wait()
        let available = ((try? TestEnvironment.mount?.availableControllers()) ?? nil) ?? []
        if available.isSuperset(of: ["memory", "pids", "cpu"]) {
            #expect(result.status == 0, "stderr: \(result.stderr)")
        } else {
            #expect(result.status == 125)
            #expect(result.stderr.contains("not available in the cgroup2 hierarchy"), "stderr: \(result.stderr)")
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String { String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
}

extension String {
    func trimmingSpaces() -> String { self[...].trimmingSpaces() }
}
