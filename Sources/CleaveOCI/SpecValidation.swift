import CleaveSystem
import CleaveJSON
/// What cleave accepts in a config.json beyond the JSON types: cleave runs process
/// workloads in a cgroup, so container features are refused with a pointer to the tools that
/// do run containers, and values the kernel would refuse later are refused now, by field.
public enum SpecValidation {
    /// Appended to every refusal of a container feature.
    public static let containerHint =
        "cleave runs process workloads; run containers with crun or runc and add cleave's hook (cleave hook, manifests/oci/hooks.d)"

    /// Throws the first problem `problems(_:file:)` finds.
    public static func validate(_ spec: RuntimeSpec, file: String) throws {
        if let first = problems(spec, file: file).first { throw first }
    }

    /// Every problem, in document order of importance: version, process, refused container
    /// features, then the details.
    public static func problems(_ spec: RuntimeSpec, file: String) -> [OCIError] {
        var found: [OCIError] = []
        func problem(_ field: String?, _ message: String) {
            found.append(OCIError(file: file, field: field, message: message))
        }

        if !isSupportedVersion(spec.ociVersion) {
            let what = semanticVersion(spec.ociVersion) == nil ? "is not a SemVer version" : "is not supported"
            problem("ociVersion", "ociVersion '\(spec.ociVersion)' \(what) (cleave reads 1.0.0 to 1.2.x)")
        }

        checkContainerFeatures(spec, problem)

        if let process = spec.process {
            checkProcess(process, problem)
        } else {
            problem("process", "missing (a process workload needs a process to run)")
        }

        if let hooks = spec.hooks { checkHooks(hooks, problem) }
        if let linux = spec.linux { checkLinux(linux, problem) }

        if let mode = spec.annotations?[CleaveAnnotations.teardown], CleaveAnnotations.teardownMode(in: spec.annotations) == nil {
            problem(FieldPath.format([.key("annotations"), .key(CleaveAnnotations.teardown)]),
                    "'\(mode)' is not a teardown mode (expected 'async', 'sync' or 'inject')")
        }
        return found
    }

    /// Settings cleave accepts but does not apply, worded for a log line. Not errors: runc's
    /// own `runc spec` writes some of them, and they are harmless for a process.
    public static func ignoredSettings(_ spec: RuntimeSpec) -> [String] {
        var notes: [String] = []
        if let hostname = spec.hostname, !hostname.isEmpty {
            notes.append("hostname '\(hostname)' is not set: it needs a UTS namespace")
        }
        if spec.process?.terminal == true {
            notes.append("process.terminal: no terminal is allocated; the workload inherits cleave's stdio")
        }
        if let profile = spec.process?.apparmorProfile, !profile.isEmpty {
            notes.append("process.apparmorProfile '\(profile)' is not applied")
        }
        if let label = spec.process?.selinuxLabel, !label.isEmpty {
            notes.append("process.selinuxLabel '\(label)' is not applied")
        }
        if let linux = spec.linux {
            if let paths = linux.maskedPaths, !paths.isEmpty {
                notes.append("linux.maskedPaths (\(paths.count)) are not masked: that needs a mount namespace")
            }
            if let paths = linux.readonlyPaths, !paths.isEmpty {
                notes.append("linux.readonlyPaths (\(paths.count)) are not made read-only: that needs a mount namespace")
            }
            if let devices = linux.devices, !devices.isEmpty {
                notes.append("linux.devices (\(devices.count)) are not created: the workload sees the host's /dev")
            }
            if let sysctl = linux.sysctl, !sysctl.isEmpty {
                notes.append("linux.sysctl (\(sysctl.count)) is not applied: most sysctls belong to a namespace")
            }
        }
        return notes
    }

    // MARK: - Name tables

    /// "CAP_CHOWN" -> 0 ... "CAP_CHECKPOINT_RESTORE" -> 40 (linux/capability.h).
    public static func capabilityNumber(_ name: String) -> Int? {
        LinuxNames.capabilityNumbers[name]
    }

    /// "RLIMIT_CPU" -> 0 ... "RLIMIT_NOFILE" -> 7 ... "RLIMIT_RTTIME" -> 15 (Linux x86_64).
    public static func rlimitNumber(_ name: String) -> Int32? {
        LinuxNames.rlimitNumbers[name]
    }

    // MARK: - Version

    /// Major 1, minor 0 to 2, any patch and pre-release ("1.0.2-dev"). A 1.3 config may use
    /// fields this reader does not know, so it is refused rather than half-read.
    public static func isSupportedVersion(_ version: String) -> Bool {
        guard let (major, minor, _) = semanticVersion(version) else { return false }
        return major == 1 && minor <= 2
    }

    /// MAJOR.MINOR.PATCH with an optional "-pre-release" and "+build" (SemVer 2.0.0).
    static func semanticVersion(_ version: String) -> (Int, Int, Int)? {
        var core = Substring(version)
        if let plus = core.firstIndex(of: "+") { core = core[..<plus] }
        if let dash = core.firstIndex(of: "-") {
            guard core.index(after: dash) < core.endIndex else { return nil }
            core = core[..<dash]
        }
        let parts = core.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(part) else {
                return nil
            }
            numbers.append(n)
        }
        return (numbers[0], numbers[1], numbers[2])
    }

    // MARK: - Checks

    private typealias Report = (String?, String) -> Void

    private static func checkContainerFeatures(_ spec: RuntimeSpec, _ problem: Report) {
        if let namespaces = spec.linux?.namespaces, !namespaces.isEmpty {
            let types = namespaces.map(\.type).joined(separator: ", ")
            problem("linux.namespaces", "namespaces (\(types)) are not supported: \(containerHint)")
        }
        if let root = spec.root {
            if !isHostRoot(root.path) {
                problem("root.path", "'\(root.path)' is not supported, only the host's '/': \(containerHint)")
            } else if root.readonly == true {
                problem("root.readonly", "a read-only root needs a mount namespace: \(containerHint)")
            }
        }
        if let mounts = spec.mounts, !mounts.isEmpty {
            let shown = mounts.prefix(3).map(\.destination).joined(separator: ", ")
            let more = mounts.count > 3 ? ", ..." : ""
            problem("mounts", "\(mounts.count) mount(s) (\(shown)\(more)) are not supported: \(containerHint)")
        }
        if let mappings = spec.linux?.uidMappings, !mappings.isEmpty {
            problem("linux.uidMappings", "ID mappings need a user namespace: \(containerHint)")
        }
        if let mappings = spec.linux?.gidMappings, !mappings.isEmpty {
            problem("linux.gidMappings", "ID mappings need a user namespace: \(containerHint)")
        }
    }

    /// "/", and spellings of it such as "//" or "/.".
    private static func isHostRoot(_ path: String) -> Bool {
        path.hasPrefix("/") && path.split(separator: "/").allSatisfy { $0 == "." }
    }

    private static func checkProcess(_ process: Process, _ problem: Report) {
        if let args = process.args {
            if args.isEmpty {
                problem("process.args", "empty (a process workload needs at least one argument)")
            } else if args[0].isEmpty {
                problem("process.args[0]", "empty (it names the program to run)")
            }
        } else {
            problem("process.args", "missing (a process workload needs at least one argument)")
        }
        checkNoNUL("process.args", process.args ?? [], problem)
        checkNoNUL("process.env", process.env ?? [], problem)
        if hasNUL(process.cwd) {
            problem("process.cwd", "contains a NUL byte (it would cut the path short)")
        } else if !process.cwd.hasPrefix("/") {
            problem("process.cwd", "'\(Escaped.text(process.cwd))' is not an absolute path")
        }
        if let umask = process.user.umask, umask > 0o777 {
            problem("process.user.umask", "\(umask) is not a permission mask (0 to 0o777, 511 in decimal)")
        }
        if let adj = process.oomScoreAdj, !(-1000...1000).contains(adj) {
            problem("process.oomScoreAdj", "\(adj) is outside -1000...1000")
        }
        if let caps = process.capabilities {
            let sets: [(String, [String]?)] = [("bounding", caps.bounding), ("effective", caps.effective),
                                               ("inheritable", caps.inheritable), ("permitted", caps.permitted),
                                               ("ambient", caps.ambient)]
            for (set, names) in sets {
                for (i, name) in (names ?? []).enumerated() where capabilityNumber(name) == nil {
                    problem("process.capabilities.\(set)[\(i)]",
                            "unknown capability '\(name)' (expected a name from linux/capability.h, CAP_CHOWN to CAP_CHECKPOINT_RESTORE)")
                }
            }
        }
        var seen: [String: Int] = [:]
        for (i, limit) in (process.rlimits ?? []).enumerated() {
            if rlimitNumber(limit.type) == nil {
                problem("process.rlimits[\(i)].type",
                        "unknown rlimit '\(limit.type)' (expected RLIMIT_CPU ... RLIMIT_RTTIME, e.g. RLIMIT_NOFILE)")
            } else if let first = seen[limit.type] {
                problem("process.rlimits[\(i)].type", "\(limit.type) is set twice (also process.rlimits[\(first)])")
            } else {
                seen[limit.type] = i
            }
            if limit.soft > limit.hard {
                problem("process.rlimits[\(i)]", "soft limit \(limit.soft) is above the hard limit \(limit.hard)")
            }
        }
    }

    /// A year: the hook's deadline (in nanoseconds) must not overflow.
    public static let maximumHookTimeout = 365 * 86_400

    private static func checkHooks(_ hooks: Hooks, _ problem: Report) {
        for (stage, list) in hooks.byStage {
            for (i, hook) in list.enumerated() {
                if hasNUL(hook.path) {
                    problem("hooks.\(stage)[\(i)].path", "contains a NUL byte (it would cut the path short)")
                } else if !hook.path.hasPrefix("/") {
                    problem("hooks.\(stage)[\(i)].path", "'\(Escaped.text(hook.path))' is not an absolute path")
                }
                checkNoNUL("hooks.\(stage)[\(i)].args", hook.args ?? [], problem)
                checkNoNUL("hooks.\(stage)[\(i)].env", hook.env ?? [], problem)
                if let timeout = hook.timeout, timeout <= 0 {
                    problem("hooks.\(stage)[\(i)].timeout", "\(timeout) is not a timeout (seconds, greater than zero)")
                } else if let timeout = hook.timeout, timeout > maximumHookTimeout {
                    problem("hooks.\(stage)[\(i)].timeout", "\(timeout) seconds is too long (at most \(maximumHookTimeout), a year)")
                }
            }
        }
    }

    /// A NUL byte ends a C string: "tr\u0000ue" would run tr. Every string that reaches
    /// execve or chdir is refused whole instead.
    private static func hasNUL(_ s: String) -> Bool { s.utf8.contains(0) }

    private static func checkNoNUL(_ field: String, _ strings: [String], _ problem: Report) {
        for (i, s) in strings.enumerated() where hasNUL(s) {
            problem("\(field)[\(i)]", "contains a NUL byte (execve would cut the string there)")
        }
    }

    private static func checkLinux(_ linux: Linux, _ problem: Report) {
        if let path = linux.cgroupsPath {
            if path.split(separator: "/").contains("..") {
                problem("linux.cgroupsPath", "'\(path)' contains '..' (it must stay inside the cgroup tree)")
            } else if path.utf8.contains(0) {
                problem("linux.cgroupsPath", "contains a NUL byte")
            }
        }
        guard let resources = linux.resources else { return }
        let base = "linux.resources"
        if let memory = resources.memory {
            let values: [(String, Int64?)] = [("limit", memory.limit), ("reservation", memory.reservation),
                                              ("swap", memory.swap)]
            for (name, value) in values {
                if let value, value < -1 {
                    problem("\(base).memory.\(name)", "\(value) is not a size in bytes (or -1 for unlimited)")
                }
            }
            if let swappiness = memory.swappiness, swappiness > 100 {
                problem("\(base).memory.swappiness", "\(swappiness) is outside 0...100")
            }
        }
        if let quota = resources.cpu?.quota, quota < -1 {
            problem("\(base).cpu.quota", "\(quota) is not a quota in microseconds (or -1 for unlimited)")
        }
        if let limit = resources.pids?.limit, limit < -1 {
            problem("\(base).pids.limit", "\(limit) is not a number of tasks (or -1 for unlimited)")
        }
        for key in (resources.unified ?? [:]).keys.sorted() {
            let field = FieldPath.format([.key("linux"), .key("resources"), .key("unified"), .key(key)])
            let parts = key.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            if key.utf8.contains(UInt8(ascii: "/")) || key.utf8.contains(0) {
                problem(field, "a cgroup file name must not contain '/'")
            } else if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty {
                problem(field, "is not a cgroup file name of the form <controller>.<setting>")
            }
        }
    }
}
