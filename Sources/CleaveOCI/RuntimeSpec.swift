import CleaveJSON
/// The parts of an OCI runtime-spec config.json (1.0–1.2) that cleave reads, plus the
/// container-only parts it must see in order to refuse them. Field names and types follow
/// runtime-spec's specs-go/config.go; keys cleave does not model are ignored on decoding.
///
/// Note: `Process` shares its name with Foundation.Process; a file importing both modules
/// writes `CleaveOCI.Process`.
public struct RuntimeSpec: Codable, Sendable, Equatable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    /// Needs a UTS namespace, which cleave does not create: accepted but not applied.
    public var hostname: String?
    /// Refused when non-empty: mounts need a mount namespace.
    public var mounts: [Mount]?
    public var hooks: Hooks?
    public var annotations: [String: String]?
    public var linux: Linux?

    public init(ociVersion: String, process: Process? = nil, root: Root? = nil, hostname: String? = nil,
                mounts: [Mount]? = nil, hooks: Hooks? = nil, annotations: [String: String]? = nil,
                linux: Linux? = nil) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }

    public struct Root: Codable, Sendable, Equatable {
        public var path: String
        public var readonly: Bool?

        public init(path: String, readonly: Bool? = nil) {
            self.path = path
            self.readonly = readonly
        }
    }

    public struct Mount: Codable, Sendable, Equatable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?

        public init(destination: String, type: String? = nil, source: String? = nil, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }
}

public struct Process: Codable, Sendable, Equatable {
    public var terminal: Bool?
    public var consoleSize: ConsoleSize?
    public var user: User
    /// Optional in the schema, required by cleave (SpecValidation): a workload needs a program.
    public var args: [String]?
    public var env: [String]?
    /// Absolute; required by the spec.
    public var cwd: String
    public var capabilities: Capabilities?
    public var rlimits: [Rlimit]?
    public var noNewPrivileges: Bool?
    public var oomScoreAdj: Int?
    /// LSM labels: modelled so that cleave can say it does not apply them.
    public var apparmorProfile: String?
    public var selinuxLabel: String?

    public init(terminal: Bool? = nil, consoleSize: ConsoleSize? = nil, user: User = User(), args: [String]?,
                env: [String]? = nil, cwd: String = "/", capabilities: Capabilities? = nil,
                rlimits: [Rlimit]? = nil, noNewPrivileges: Bool? = nil, oomScoreAdj: Int? = nil,
                apparmorProfile: String? = nil, selinuxLabel: String? = nil) {
        self.terminal = terminal
        self.consoleSize = consoleSize
        self.user = user
        self.args = args
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.oomScoreAdj = oomScoreAdj
        self.apparmorProfile = apparmorProfile
        self.selinuxLabel = selinuxLabel
    }

    public struct ConsoleSize: Codable, Sendable, Equatable {
        public var height: UInt
        public var width: UInt

        public init(height: UInt, width: UInt) {
            self.height = height
            self.width = width
        }
    }
}

public struct User: Codable, Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    public var umask: UInt32?
    public var additionalGids: [UInt32]?

    public init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32]? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
    }
}

/// Capability sets by name ("CAP_NET_BIND_SERVICE"); `SpecValidation.capabilityNumber` maps them.
public struct Capabilities: Codable, Sendable, Equatable {
    public var bounding: [String]?
    public var effective: [String]?
    public var inheritable: [String]?
    public var permitted: [String]?
    public var ambient: [String]?

    public init(bounding: [String]? = nil, effective: [String]? = nil, inheritable: [String]? = nil,
                permitted: [String]? = nil, ambient: [String]? = nil) {
        self.bounding = bounding
        self.effective = effective
        self.inheritable = inheritable
        self.permitted = permitted
        self.ambient = ambient
    }
}

public struct Rlimit: Codable, Sendable, Equatable {
    /// "RLIMIT_NOFILE"; `SpecValidation.rlimitNumber` maps it.
    public var type: String
    public var hard: UInt64
    public var soft: UInt64

    public init(type: String, hard: UInt64, soft: UInt64) {
        self.type = type
        self.hard = hard
        self.soft = soft
    }
}

/// Lifecycle hooks. Order at run time: createRuntime, createContainer, startContainer,
/// poststart, poststop (prestart is the deprecated predecessor of the first three).
public struct Hooks: Codable, Sendable, Equatable {
    public var prestart: [Hook]?
    public var createRuntime: [Hook]?
    public var createContainer: [Hook]?
    public var startContainer: [Hook]?
    public var poststart: [Hook]?
    public var poststop: [Hook]?

    public init(prestart: [Hook]? = nil, createRuntime: [Hook]? = nil, createContainer: [Hook]? = nil,
                startContainer: [Hook]? = nil, poststart: [Hook]? = nil, poststop: [Hook]? = nil) {
        self.prestart = prestart
        self.createRuntime = createRuntime
        self.createContainer = createContainer
        self.startContainer = startContainer
        self.poststart = poststart
        self.poststop = poststop
    }

    /// Stage names as they appear in config.json and in hooks.d `stages`, in run order.
    public static let stageNames = ["prestart", "createRuntime", "createContainer", "startContainer",
                                    "poststart", "poststop"]

    /// The hooks of each stage, keyed by stage name, in run order.
    public var byStage: [(stage: String, hooks: [Hook])] {
        [("prestart", prestart), ("createRuntime", createRuntime), ("createContainer", createContainer),
         ("startContainer", startContainer), ("poststart", poststart), ("poststop", poststop)]
            .compactMap { stage, hooks in hooks.map { (stage, $0) } }
    }
}

public struct Hook: Codable, Sendable, Equatable {
    /// Absolute path of the executable.
    public var path: String
    /// argv, including argv[0].
    public var args: [String]?
    public var env: [String]?
    /// Seconds; greater than zero when set.
    public var timeout: Int?

    public init(path: String, args: [String]? = nil, env: [String]? = nil, timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}

public struct Linux: Codable, Sendable, Equatable {
    /// Refused when non-empty: cleave runs processes, not containers.
    public var namespaces: [Namespace]?
    /// An absolute path is relative to the cgroup v2 mount.
    public var cgroupsPath: String?
    public var resources: Resources?
    /// Refused when non-empty: they only mean something with a user namespace.
    public var uidMappings: [IDMapping]?
    public var gidMappings: [IDMapping]?
    /// Device nodes to create in a container's /dev: not applied to a process.
    public var devices: [Device]?
    /// Need a mount namespace: accepted (runc spec writes them) but not applied.
    public var maskedPaths: [String]?
    public var readonlyPaths: [String]?
    /// Most sysctls are namespaced to a container: accepted but not applied.
    public var sysctl: [String: String]?
    /// Kept as opaque JSON; whoever installs a filter interprets it.
    public var seccomp: JSONValue?

    public init(namespaces: [Namespace]? = nil, cgroupsPath: String? = nil, resources: Resources? = nil,
                uidMappings: [IDMapping]? = nil, gidMappings: [IDMapping]? = nil, devices: [Device]? = nil,
                maskedPaths: [String]? = nil, readonlyPaths: [String]? = nil, sysctl: [String: String]? = nil,
                seccomp: JSONValue? = nil) {
        self.namespaces = namespaces
        self.cgroupsPath = cgroupsPath
        self.resources = resources
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.devices = devices
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.sysctl = sysctl
        self.seccomp = seccomp
    }

    public struct Namespace: Codable, Sendable, Equatable {
        /// "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time".
        public var type: String
        public var path: String?

        public init(type: String, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    public struct IDMapping: Codable, Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32

        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    public struct Device: Codable, Sendable, Equatable {
        public var path: String
        public var type: String
        public var major: Int64
        public var minor: Int64
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?

        public init(path: String, type: String, major: Int64, minor: Int64, fileMode: UInt32? = nil,
                    uid: UInt32? = nil, gid: UInt32? = nil) {
            self.path = path
            self.type = type
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }
    }
}

/// linux.resources: modelled and validated here, turned into cgroup v2 files elsewhere.
public struct Resources: Codable, Sendable, Equatable {
    public var memory: Memory?
    public var cpu: CPU?
    public var pids: Pids?
    /// cgroup v2 files by name ("memory.high": "1G").
    public var unified: [String: String]?
    /// Device access rules (the devices controller).
    public var devices: [DeviceRule]?

    public init(memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil, unified: [String: String]? = nil,
                devices: [DeviceRule]? = nil) {
        self.memory = memory
        self.cpu = cpu
        self.pids = pids
        self.unified = unified
        self.devices = devices
    }

    /// Bytes; -1 means unlimited.
    public struct Memory: Codable, Sendable, Equatable {
        public var limit: Int64?
        public var reservation: Int64?
        /// Memory plus swap, as in cgroup v1's memsw.
        public var swap: Int64?
        /// Deprecated in the spec; no cgroup v2 equivalent.
        public var kernel: Int64?
        public var kernelTCP: Int64?
        public var swappiness: UInt64?
        public var disableOOMKiller: Bool?

        public init(limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil, kernel: Int64? = nil,
                    kernelTCP: Int64? = nil, swappiness: UInt64? = nil, disableOOMKiller: Bool? = nil) {
            self.limit = limit
            self.reservation = reservation
            self.swap = swap
            self.kernel = kernel
            self.kernelTCP = kernelTCP
            self.swappiness = swappiness
            self.disableOOMKiller = disableOOMKiller
        }
    }

    public struct CPU: Codable, Sendable, Equatable {
        public var shares: UInt64?
        /// Microseconds per period; -1 means unlimited.
        public var quota: Int64?
        public var burst: UInt64?
        public var period: UInt64?
        public var realtimeRuntime: Int64?
        public var realtimePeriod: UInt64?
        public var cpus: String?
        public var mems: String?
        public var idle: Int64?

        public init(shares: UInt64? = nil, quota: Int64? = nil, burst: UInt64? = nil, period: UInt64? = nil,
                    realtimeRuntime: Int64? = nil, realtimePeriod: UInt64? = nil, cpus: String? = nil,
                    mems: String? = nil, idle: Int64? = nil) {
            self.shares = shares
            self.quota = quota
            self.burst = burst
            self.period = period
            self.realtimeRuntime = realtimeRuntime
            self.realtimePeriod = realtimePeriod
            self.cpus = cpus
            self.mems = mems
            self.idle = idle
        }
    }

    public struct Pids: Codable, Sendable, Equatable {
        /// Required by the spec when `pids` is present; -1 means unlimited.
        public var limit: Int64

        public init(limit: Int64) { self.limit = limit }
    }

    public struct DeviceRule: Codable, Sendable, Equatable {
        public var allow: Bool
        /// "a", "c" or "b".
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        /// Some of "rwm".
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil,
                    access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }
}
