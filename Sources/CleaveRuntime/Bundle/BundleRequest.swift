import CleaveCgroups
import CleaveOCI
import Glibc
import CleaveSystem

/// `cleave run --bundle`: a config.json turned into the same RunRequest the flags build,
/// so one Runner serves both. Every refusal names the file and the field (exit 125).
public enum BundleRequest {
    public static func make(bundle: String, id: String?, cgroupParent: String = "cleave") throws -> RunRequest {
        let directory = try absoluteDirectory(bundle)
        let file = BundleLoader.configPath(bundle: directory)
        let spec: RuntimeSpec
        do { spec = try BundleLoader.load(bundle: directory) } catch let error as OCIError {
            throw CleaveError.wrapped(context: "", error)
        }
        // Validation guarantees process and process.args.
        guard let process = spec.process, let args = process.args else {
            throw CleaveError.message("\(file): process.args: missing")
        }
        let containerID = try id.map(validatedID) ?? generatedID()

        var request = RunRequest(command: args)
        request.id = containerID
        request.name = containerID
        request.cgroupParent = cgroupParent
        request.cgroupPath = try cgroupPath(spec.linux?.cgroupsPath, parent: cgroupParent, id: containerID, file: file)
        request.environment = EnvironmentList(strings: process.env ?? [])
        request.settings = try settings(process, file: file)
        if let resources = spec.linux?.resources {
            request.limits = try limits(resources, file: file)
        }
        if let mode = CleaveAnnotations.teardownMode(in: spec.annotations) { request.teardown = mode }
        if CleaveAnnotations.asksForInjection(in: spec.annotations) { request.inject = true }
        if let hooks = spec.hooks {
            let lifecycle = LifecycleHooks(hooks: hooks, ociVersion: spec.ociVersion, id: containerID,
                                           bundle: directory, annotations: spec.annotations)
            if !lifecycle.isEmpty { request.hooks = lifecycle }
        }
        for note in SpecValidation.ignoredSettings(spec) { Console.warning("\(file): \(note)") }
        return request
    }

    /// runc's rule for container ids: letters, digits and `_+-.`, not `.` or `..`.
    package static func validatedID(_ id: String) throws -> String {
        let allowed = id.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_+-.".unicodeScalars.contains($0)
        }
        guard !id.isEmpty, id.count <= 128, allowed, id != ".", id != ".." else {
            throw CleaveError.message("--id: '\(Escaped.text(id))' is not a container id (1 to 128 of letters, digits and _+-.)")
        }
        return id
    }

    package static func generatedID() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(16)
    }

    /// Absolute paths are below the cgroup2 mount (runtime-spec); relative ones below
    /// cleave's parent; none gives `<parent>/<id>`. systemd's "slice:prefix:name" is refused.
    package static func cgroupPath(_ path: String?, parent: String, id: String, file: String) throws -> String {
        guard let path, !path.isEmpty else { return "\(parent)/\(id)" }
        if path.contains(":") {
            throw CleaveError.message("\(file): linux.cgroupsPath: '\(path)' looks like systemd's slice:prefix:name form; cleave manages cgroupfs paths (e.g. /cleave/\(id))")
        }
        let relative = path.hasPrefix("/") ? String(path.drop { $0 == "/" }) : "\(parent)/\(path)"
        do { return try CgroupPath.validate(relative) } catch {
            throw CleaveError.wrapped(context: "\(file): linux.cgroupsPath", error)
        }
    }

    package static func settings(_ process: CleaveOCI.Process, file: String) throws -> ProcessSettings {
        var settings = ProcessSettings()
        settings.cwd = process.cwd
        settings.user = .init(uid: process.user.uid, gid: process.user.gid,
                              additionalGids: process.user.additionalGids ?? [])
        settings.umask = process.user.umask
        settings.noNewPrivileges = process.noNewPrivileges ?? false
        settings.oomScoreAdj = process.oomScoreAdj.map(Int32.init)
        settings.rlimits = (process.rlimits ?? []).compactMap { limit in
            SpecValidation.rlimitNumber(limit.type).map { .init(resource: $0, soft: limit.soft, hard: limit.hard) }
        }
        // Names were checked by SpecValidation; a set left out is empty, and so is every set
        // when process.capabilities is absent: runc (an empty configs.Capabilities) and crun
        // (libcrun_set_caps with NULL) both drop them all rather than keep the runtime's own.
        let caps = process.capabilities
        func mask(_ names: [String]?) -> UInt64 {
            (names ?? []).reduce(0) { bits, name in
                SpecValidation.capabilityNumber(name).map { bits | (1 << UInt64($0)) } ?? bits
            }
        }
        settings.capabilities = .init(bounding: mask(caps?.bounding), effective: mask(caps?.effective),
                                      permitted: mask(caps?.permitted), inheritable: mask(caps?.inheritable),
                                      ambient: mask(caps?.ambient))
        return settings
    }

    package static func limits(_ resources: Resources, file: String) throws -> ResourceLimits {
        do {
            return try ResourceLimits.fromOCI(
                memoryLimit: resources.memory?.limit, memoryReservation: resources.memory?.reservation,
                memorySwap: resources.memory?.swap, cpuShares: resources.cpu?.shares,
                cpuQuota: resources.cpu?.quota, cpuPeriod: resources.cpu?.period,
                pidsLimit: resources.pids?.limit, unified: resources.unified)
        } catch let error as ParseError {
            // fromOCI names the field as the error's input.
            throw CleaveError.message("\(file): \(error.input): \(error.message)")
        }
    }

    private static func absoluteDirectory(_ path: String) throws -> String {
        guard let resolved = realpath(path, nil) else {
            throw CleaveError.system(context: "--bundle \(Escaped.text(path))", SystemError("stat", path: path))
        }
        defer { free(resolved) }
        var info = stat()
        let absolute = String(cString: resolved)
        guard stat(absolute, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw CleaveError.message("--bundle \(Escaped.text(path)): not a directory (an OCI bundle is a directory holding config.json)")
        }
        return absolute
    }
}

extension EnvironmentList {
    /// From "NAME=value" strings; entries without '=' are dropped, as execve would ignore them.
    public init(strings: [String]) {
        self.init(entries: strings.compactMap { entry in
            entry.firstIndex(of: "=").map { (String(entry[..<$0]), String(entry[entry.index(after: $0)...])) }
        })
    }
}
