import Foundation
import Testing
@testable import CleaveOCI
import CleaveJSON

/// The shape of `runc spec` output (runc's specconv.Example), adapted to a process workload:
/// root "/", no namespaces, no mounts, plus the sections cleave reads (resources, hooks,
/// annotations) and an opaque seccomp profile.
let runcStyleConfig = """
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": false,
		"consoleSize": {
			"height": 24,
			"width": 80
		},
		"user": {
			"uid": 1000,
			"gid": 1000,
			"umask": 18,
			"additionalGids": [5, 27]
		},
		"args": [
			"sh", "-c", "exec sleep 30"
		],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/tmp",
		"capabilities": {
			"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"inheritable": [],
			"permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"ambient": ["CAP_NET_BIND_SERVICE"]
		},
		"rlimits": [
			{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
			{"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}
		],
		"noNewPrivileges": true,
		"oomScoreAdj": 500,
		"apparmorProfile": "unconfined",
		"selinuxLabel": ""
	},
	"root": {
		"path": "/",
		"readonly": false
	},
	"hostname": "runc",
	"mounts": [],
	"hooks": {
		"poststart": [
			{"path": "/usr/local/bin/cleave", "args": ["cleave", "hook"], "env": ["LOG=1"], "timeout": 5}
		],
		"poststop": [
			{"path": "/usr/local/bin/cleave", "args": ["cleave", "hook"]}
		]
	},
	"annotations": {
		"io.cleave.teardown": "sync",
		"org.example.team": "storage"
	},
	"linux": {
		"cgroupsPath": "/cleave/web-1",
		"resources": {
			"devices": [
				{"allow": false, "access": "rwm"},
				{"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}
			],
			"memory": {
				"limit": 536870912,
				"reservation": 268435456,
				"swap": -1,
				"swappiness": 10,
				"disableOOMKiller": false
			},
			"cpu": {
				"shares": 512,
				"quota": 50000,
				"period": 100000,
				"cpus": "0-1",
				"mems": "0"
			},
			"pids": {
				"limit": 256
			},
			"unified": {
				"memory.high": "402653184",
				"io.weight": "default 100"
			},
			"blockIO": {"weight": 10}
		},
		"namespaces": [],
		"maskedPaths": [
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
			"/proc/scsi", "/sys/devices/virtual/tpm"
		],
		"readonlyPaths": [
			"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
		],
		"seccomp": {
			"defaultAction": "SCMP_ACT_ALLOW",
			"architectures": ["SCMP_ARCH_X86_64"],
			"syscalls": [
				{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
				 "args": [{"index": 0, "value": 18446744073709551615, "op": "SCMP_CMP_EQ"}]}
			]
		}
	}
}
"""

@Suite struct SpecDecodingTests {
    @Test func starterSpecLoadsAndValidates() throws {
        let text = StarterSpec.json()
        let spec = try loadBundle(text)
        #expect(spec.ociVersion == "1.0.2")
        #expect(spec.root == RuntimeSpec.Root(path: "/"))
        #expect(spec.mounts == nil)
        #expect(spec.linux?.namespaces == nil)
        let process = try #require(spec.process)
        #expect(process.args == ["cleave", "probe", "alloc", "256M"])
        #expect(process.env?.first?.hasPrefix("PATH=") == true)
        #expect(process.cwd == "/")
        #expect(process.user == User(uid: 0, gid: 0))
        #expect(process.noNewPrivileges == true)
        #expect(process.rlimits == [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
        let caps = try #require(process.capabilities)
        #expect(caps.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
        #expect(caps.effective == caps.bounding && caps.permitted == caps.bounding)
        #expect(spec.linux?.cgroupsPath == "/cleave/example")
        #expect(spec.linux?.resources?.memory?.limit == 1 << 30)
        #expect(spec.linux?.resources?.pids?.limit == 1024)
        #expect(spec.linux?.resources?.cpu?.shares == 1024)
        #expect(spec.annotations == [CleaveAnnotations.teardown: "async"])
        #expect(CleaveAnnotations.teardownMode(in: spec.annotations) == .async)
        #expect(SpecValidation.problems(spec, file: "x").isEmpty)
        #expect(SpecValidation.ignoredSettings(spec).isEmpty)
    }

    @Test func starterSpecRoundTripsThroughJSONEncoder() throws {
        let spec = try BundleLoader.decode(Data(StarterSpec.json().utf8), file: "starter")
        let encoded = try JSONEncoder().encode(spec)
        let again = try BundleLoader.decode(encoded, file: "re-encoded")
        #expect(again == spec)
        // And Foundation's own decoder reads what we wrote.
        #expect(try JSONDecoder().decode(RuntimeSpec.self, from: encoded) == spec)
    }

    @Test func starterSpecEscapesCustomArguments() throws {
        let args = ["/usr/bin/env", "printf", "a \"quoted\", comma\\n", "é"]
        let spec = try BundleLoader.decode(Data(StarterSpec.json(args: args).utf8), file: "starter")
        #expect(spec.process?.args == args)
    }

    @Test func runcStyleConfigDecodesEveryField() throws {
        let spec = try loadBundle(runcStyleConfig)
        #expect(spec.ociVersion == "1.0.2-dev")
        #expect(spec.root == RuntimeSpec.Root(path: "/", readonly: false))
        #expect(spec.hostname == "runc")
        #expect(spec.mounts == [])

        let process = try #require(spec.process)
        #expect(process.terminal == false)
        #expect(process.consoleSize == Process.ConsoleSize(height: 24, width: 80))
        #expect(process.user == User(uid: 1000, gid: 1000, umask: 0o022, additionalGids: [5, 27]))
        #expect(process.args == ["sh", "-c", "exec sleep 30"])
        #expect(process.env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"])
        #expect(process.cwd == "/tmp")
        let three = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        #expect(process.capabilities == Capabilities(bounding: three, effective: three, inheritable: [],
                                                     permitted: three, ambient: ["CAP_NET_BIND_SERVICE"]))
        #expect(process.rlimits == [Rlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024),
                                    Rlimit(type: "RLIMIT_CORE", hard: UInt64.max, soft: 0)])
        #expect(process.noNewPrivileges == true)
        #expect(process.oomScoreAdj == 500)
        #expect(process.apparmorProfile == "unconfined")
        #expect(process.selinuxLabel == "")

        let hooks = try #require(spec.hooks)
        #expect(hooks.poststart == [Hook(path: "/usr/local/bin/cleave", args: ["cleave", "hook"], env: ["LOG=1"], timeout: 5)])
        #expect(hooks.poststop == [Hook(path: "/usr/local/bin/cleave", args: ["cleave", "hook"])])
        #expect(hooks.prestart == nil && hooks.createRuntime == nil)
        #expect(hooks.createContainer == nil && hooks.startContainer == nil)
        #expect(hooks.byStage.map(\.stage) == ["poststart", "poststop"])

        #expect(spec.annotations == ["io.cleave.teardown": "sync", "org.example.team": "storage"])
        #expect(CleaveAnnotations.teardownMode(in: spec.annotations) == .sync)

        let linux = try #require(spec.linux)
        #expect(linux.cgroupsPath == "/cleave/web-1")
        #expect(linux.namespaces == [])
        #expect(linux.uidMappings == nil && linux.gidMappings == nil && linux.devices == nil && linux.sysctl == nil)
        #expect(linux.maskedPaths?.count == 11)
        #expect(linux.maskedPaths?.last == "/sys/devices/virtual/tpm")
        #expect(linux.readonlyPaths == ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])

        let resources = try #require(linux.resources)
        #expect(resources.devices == [Resources.DeviceRule(allow: false, access: "rwm"),
                                      Resources.DeviceRule(allow: true, type: "c", major: 1, minor: 3, access: "rwm")])
        #expect(resources.memory == Resources.Memory(limit: 536_870_912, reservation: 268_435_456, swap: -1,
                                                     swappiness: 10, disableOOMKiller: false))
        #expect(resources.cpu == Resources.CPU(shares: 512, quota: 50_000, period: 100_000, cpus: "0-1", mems: "0"))
        #expect(resources.pids == Resources.Pids(limit: 256))
        #expect(resources.unified == ["memory.high": "402653184", "io.weight": "default 100"])

        let seccomp = try #require(linux.seccomp)
        #expect(seccomp["defaultAction"] == .string("SCMP_ACT_ALLOW"))
        #expect(seccomp["architectures"] == .array([.string("SCMP_ARCH_X86_64")]))
        guard case .array(let syscalls)? = seccomp["syscalls"], let rule = syscalls.first else {
            Issue.record("seccomp.syscalls is not a non-empty array")
            return
        }
        #expect(rule["errnoRet"] == .integer(1))
        guard case .array(let args)? = rule["args"], let arg = args.first else {
            Issue.record("seccomp.syscalls[0].args is not a non-empty array")
            return
        }
        #expect(arg["value"] == .unsignedInteger(UInt64.max))

        // Accepted, but cleave says what it does not apply.
        let notes = SpecValidation.ignoredSettings(spec)
        #expect(notes.contains { $0.hasPrefix("hostname 'runc'") })
        #expect(notes.contains { $0.hasPrefix("linux.maskedPaths (11)") })
        #expect(notes.contains { $0.hasPrefix("linux.readonlyPaths (5)") })
        #expect(notes.contains { $0.hasPrefix("process.apparmorProfile 'unconfined'") })
    }

    @Test func opaqueSeccompSurvivesReencoding() throws {
        let spec = try BundleLoader.decode(Data(runcStyleConfig.utf8), file: "runc")
        let again = try BundleLoader.decode(try JSONEncoder().encode(spec), file: "re-encoded")
        #expect(again.linux?.seccomp == spec.linux?.seccomp)
        #expect(again == spec)
    }

    @Test func foundationDecoderReadsTheSameModel() throws {
        // Other modules may decode with JSONDecoder; the opaque seccomp value must survive that too.
        let ours = try BundleLoader.decode(Data(runcStyleConfig.utf8), file: "runc")
        let foundations = try JSONDecoder().decode(RuntimeSpec.self, from: Data(runcStyleConfig.utf8))
        #expect(foundations == ours)
    }

    @Test func nullMeansAbsentForOptionalFields() throws {
        let spec = try BundleLoader.decode(Data(minimalConfig(extra: #""hooks": null, "linux": {"resources": null}"#).utf8),
                                           file: "x")
        #expect(spec.hooks == nil)
        #expect(spec.linux?.resources == nil)
    }

    @Test(arguments: ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1", "1.2.9+build.7", "1.0.0-rc.5"])
    func supportedVersions(version: String) throws {
        let spec = try BundleLoader.decode(Data(minimalConfig(ociVersion: version).utf8), file: "x")
        #expect(spec.ociVersion == version)
    }
}
