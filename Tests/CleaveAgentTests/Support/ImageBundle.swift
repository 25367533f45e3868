import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// An OCI image tarball unpacked with umoci into a runtime bundle on a private tmpfs
/// (crun cannot pivot_root onto the VM guest's 9p root). `remove()` deletes the
/// container, the tmpfs and the container's cgroup.
struct ImageBundle {
    let id: String
    let directory: String
    /// org.opencontainers.image.ref.name of the image in the tarball's index.
    let referenceName: String
    var bundle: String { directory + "/bundle" }
    var rootfs: String { bundle + "/rootfs" }
    /// The container's cgroup: a top-level cleave-test* one, so the leftover check sees it.
    var cgroupPath: String { id + "/container" }

    init(archive: String, label: String) throws {
        // mkdtemp: a fresh directory of ours, never one someone placed (or linked) there first.
        var template = Array("/tmp/cleave-test-image-\(label)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CleaveError.system(context: "mkdtemp", SystemError("mkdtemp")) }
        directory = String(cString: made)
        id = String(directory.dropFirst("/tmp/".count))
        let dir = directory
        do {
            try Self.check(["/bin/mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", dir])
            try Self.check(["/bin/mkdir", dir + "/layout"])
            try Self.check(["/bin/tar", "-xf", archive, "-C", dir + "/layout"])
            let index = try #require(FileIO.read(dir + "/layout/index.json"), "no index.json in \(archive)")
            let document = try JSONDecoder().decode(OCIIndex.self, from: Data(index.utf8))
            try #require(document.manifests.count == 1, "\(archive) holds \(document.manifests.count) manifests, not one")
            referenceName = try #require(document.manifests[0].annotations?["org.opencontainers.image.ref.name"], "\(archive): no ref.name")
            try Self.check(["/usr/bin/umoci", "unpack", "--image", dir + "/layout:" + referenceName, dir + "/bundle"])
        } catch {
            _ = try? ChildProcess.run(["/bin/umount", "-l", dir])
            _ = rmdir(dir)
            throw error
        }
    }

    /// What the kubelet and the manifest change in the config umoci derived from the image:
    /// command + args replace entrypoint and cmd, env added, hostPath mounts (read-only,
    /// HostToContainer: rslave), no capability, read-only root, hostPID, the memory limit.
    /// The network namespace is left out so the test reaches the port on 127.0.0.1.
    /// The user is the image's own: the test checks it is the manifest's.
    func configure(as manifest: DaemonSetManifest) throws {
        let mounts = manifest.mounts.map { mount in
            ["destination": .string(mount.destination), "type": "bind", "source": .string(mount.source),
             "options": .array((mount.readOnly ? ["rbind", "ro", "rslave"] : ["rbind", "rslave"]).map { .string($0) })] as [String: JSONLiteral]
        }
        let encoder = JSONEncoder()
        let program = """
        .process.args = $args | .process.env += $env | .process.terminal = false
        | .process.noNewPrivileges = true
        | .process.capabilities = {bounding: [], effective: [], inheritable: [], permitted: [], ambient: []}
        | .root.readonly = $readonly
        | .linux.namespaces |= map(select(.type != "pid" and .type != "network"))
        | .mounts += $mounts
        | .linux.cgroupsPath = $cgroup
        | .linux.resources.memory = {limit: $memory}
        """
        let config = bundle + "/config.json"
        let result = try ChildProcess.run(["/usr/bin/jq", program,
            "--argjson", "args", String(decoding: try encoder.encode(manifest.command + manifest.args), as: UTF8.self),
            "--argjson", "env", String(decoding: try encoder.encode(manifest.env), as: UTF8.self),
            "--argjson", "mounts", String(decoding: try encoder.encode(mounts), as: UTF8.self),
            "--argjson", "readonly", manifest.readOnlyRoot ? "true" : "false",
            "--argjson", "memory", String(manifest.memoryLimitBytes),
            "--arg", "cgroup", "/" + cgroupPath, config])
        try #require(result.status == 0, "jq on \(config): \(result.stderr)")
        try AtomicFile.write(Array(result.stdout.utf8), to: config)
    }

    /// The bundle's process user as umoci derived it from the image's config.
    func processUser() throws -> (uid: Int, gid: Int) {
        let text = try #require(FileIO.read(bundle + "/config.json"))
        let user = try JSONDecoder().decode(BundleConfig.self, from: Data(text.utf8)).process.user
        return (user.uid, user.gid)
    }

    @discardableResult
    func crun(_ args: [String]) -> (status: Int32?, stdout: String, stderr: String) {
        (try? ChildProcess.run(["/usr/bin/crun", "--cgroup-manager=cgroupfs"] + args, timeout: 60)) ?? (nil, "", "")
    }

    func remove() {
        crun(["delete", "-f", id])
        _ = try? ChildProcess.run(["/bin/umount", "-l", directory])
        _ = rmdir(directory)
        if let mount = TestEnvironment.mount, let cgroup = try? Cgroup(mount: mount, path: id) {
            TestEnvironment.removeCgroupTree(cgroup)
        }
    }

    private static func check(_ argv: [String]) throws {
        let result = try ChildProcess.run(argv, timeout: 120)
        try #require(result.status == 0, "\(argv.joined(separator: " ")): status \(result.status.map(String.init) ?? "timeout"): \(result.stderr)")
    }

    struct OCIIndex: Decodable {
        struct Descriptor: Decodable { var annotations: [String: String]? }
        var manifests: [Descriptor]
    }
    struct BundleConfig: Decodable {
        struct Process: Decodable { var user: User }
        struct User: Decodable { var uid: Int; var gid: Int }
        var process: Process
    }
}

/// A string or an array of strings, enough for a runtime spec's mount entry.
enum JSONLiteral: Encodable, ExpressibleByStringLiteral {
    case string(String)
    case array([JSONLiteral])
    init(stringLiteral value: String) { self = .string(value) }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        }
    }
}
