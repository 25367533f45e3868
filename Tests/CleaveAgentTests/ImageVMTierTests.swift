import CleaveCgroups
import FoundationEssentials
import Glibc
import Testing
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

/// The image hack/image.sh builds (CLEAVE_IMAGE_ARCHIVE, set by hack/test.sh), run as the
/// DaemonSet runs it: its name, user and command agree with manifests/kubernetes/daemonset.yaml,
/// skopeo reads the tarball, and under crun, with the manifest's command, user, hostPath mounts,
/// memory limit, no capability, hostPID and a read-only root, the agent serves /readyz and
/// reports a host cgroup's working set.
@Suite("VMTier: the agent's OCI image under crun",
       .enabled(if: TestEnvironment.hasMemoryController && access("/usr/bin/crun", X_OK) == 0,
                "needs the memory controller and /usr/bin/crun: run through hack/test.sh (VM tier)"))
struct ImageVMTierTests {
    static let probeSize: Double = 64 * 1024 * 1024

    @Test("the image from hack/image.sh runs the agent under crun with the DaemonSet's command, user and mounts: /readyz, a host cgroup's working set in /metrics")
    func agentFromImage() throws {
        let archive = try #require(getenv("CLEAVE_IMAGE_ARCHIVE").map { String(cString: $0) },
                                   "CLEAVE_IMAGE_ARCHIVE is not set: build the image with hack/image.sh (hack/test.sh does)")
        try #require(access(archive, R_OK) == 0, "cannot read \(archive)")
        let manifest = try DaemonSetManifest.load(TestEnvironment.repositoryRoot + "/manifests/kubernetes/daemonset.yaml")

        // skopeo accepts the tarball; the image's user is the one the manifest runs as.
        let inspected = try ChildProcess.run(["/usr/bin/skopeo", "inspect", "--config", "oci-archive:" + archive])
        try #require(inspected.status == 0, "skopeo inspect oci-archive:\(archive): \(inspected.stderr)")
        let image = try JSONDecoder().decode(ImageConfigDocument.self, from: Data(inspected.stdout.utf8))
        #expect(image.config.User == "\(manifest.runAsUser):\(manifest.runAsGroup)", "image user \(image.config.User ?? "none")")
        #expect(manifest.runAsUser != 0)

        let bundle = try ImageBundle(archive: archive, label: "agent")
        defer { bundle.remove() }
        // The name the manifest pulls is the name the image carries.
        #expect(bundle.referenceName == manifest.image, "image \(bundle.referenceName) but the DaemonSet runs \(manifest.image)")
        #expect(image.config.Labels?["org.opencontainers.image.version"].map { "cleave:" + $0 } == manifest.image,
                "labels: \(image.config.Labels ?? [:])")
        #expect(access(bundle.rootfs + manifest.command[0], X_OK) == 0, "\(manifest.command[0]) is not in the image")
        #expect(access(bundle.rootfs + "/usr/local/lib/cleave/libcleave-teardown.so", R_OK) == 0)

        // umoci derived the process user from the image's config: the manifest's runAsUser/runAsGroup.
        let user = try bundle.processUser()
        #expect(user.uid == manifest.runAsUser && user.gid == manifest.runAsGroup, "the image runs as \(user), the DaemonSet as \(manifest.runAsUser):\(manifest.runAsGroup)")
        try bundle.configure(as: manifest)
        let run = try ChildProcess(["/usr/bin/crun", "--cgroup-manager=cgroupfs", "run", "--bundle", bundle.bundle, bundle.id], output: .files)
        defer { _ = bundle.crun(["kill", bundle.id, "KILL"]); _ = run.exitStatus(timeout: 20) }
        let port = try #require(manifest.listenPort, "no --listen=:PORT in the DaemonSet's args: \(manifest.args)")
        // The initial scan of the guest's hierarchy under TCG; 120 s as for the agent's own tests under load.
        let ready = TestEnvironment.eventually(timeout: 120) {
            (try? HTTPClient.get(port: port, path: "/readyz").status) == 200 || run.poll() != nil
        }
        try #require(ready && run.poll() == nil, "the agent in the container did not become ready (status \(run.poll().map(String.init) ?? "running")): \(run.stderr)")
        #expect(try HTTPClient.get(port: port, path: "/healthz").status == 200)
        #expect(run.stderr.contains("{"), "--log-format=json: \(run.stderr)")

        // It runs as the manifest's user, with no capability.
        let state = try ChildProcess.run(["/usr/bin/crun", "--cgroup-manager=cgroupfs", "state", bundle.id])
        let pid = try #require(try? JSONDecoder().decode(CrunState.self, from: Data(state.stdout.utf8)).pid, "crun state: \(state.stdout)\(state.stderr)")
        let status = (FileIO.read("/proc/\(pid)/status") ?? "").split(separator: "\n")
        func field(_ name: String) -> [Substring] { status.first { $0.hasPrefix(name + ":") }?.split(separator: "\t").dropFirst().map { $0 } ?? [] }
        #expect(field("Uid").prefix(2) == ["\(manifest.runAsUser)", "\(manifest.runAsUser)"], "Uid: \(field("Uid"))")
        #expect(field("Gid").prefix(2) == ["\(manifest.runAsGroup)", "\(manifest.runAsGroup)"], "Gid: \(field("Gid"))")
        #expect(field("CapEff") == ["0000000000000000"], "CapEff: \(field("CapEff"))")

        // A workload in a host cgroup: the agent sees it through /host/sys/fs/cgroup.
        let parent = try TestEnvironment.makeTestCgroup("image-w")
        defer { TestEnvironment.removeCgroupTree(parent) }
        let workload = parent.relativePath + "/w"
        let probe = try ChildProcess([TestEnvironment.cleave, "run", "--cgroup", workload, "--",
                                 TestEnvironment.cleave, "probe", "alloc", "64M"], output: .files)
        #expect(TestEnvironment.eventually(timeout: 60) { probe.stdout.contains("ready ") || probe.poll() != nil },
                "probe: \(probe.stderr)")
        var ws: Double?
        #expect(TestEnvironment.eventually(timeout: 60) {
            let body = (try? HTTPClient.get(port: port, path: "/metrics"))?.body ?? ""
            ws = (try? PrometheusText.parse(body))?.value("cleave_cgroup_memory_working_set_bytes", ["cgroup": "/" + workload])
            return (ws ?? 0) >= 0.9 * Self.probeSize
        }, "working set of /\(workload): \(ws.map { String($0) } ?? "no series")")
        let families = try PrometheusText.parse(try HTTPClient.get(port: port, path: "/metrics").body)
        #expect((families.value("cleave_node_memory_total_bytes") ?? 0) > 0, "node memory from /host/proc/meminfo")
        #expect(families.value("cleave_teardowns_in_progress") != nil)
        kill(probe.pid, SIGTERM)
        _ = probe.exitStatus(timeout: 60)

        // SIGTERM (what the kubelet sends) stops it cleanly.
        #expect(bundle.crun(["kill", bundle.id, "TERM"]).status == 0)
        #expect(run.exitStatus(timeout: 30) == 0, "agent: \(run.stderr)")
    }
}

/// What the test takes from manifests/kubernetes/daemonset.yaml (converted with PyYAML).
struct DaemonSetManifest {
    var image: String
    var command: [String]
    var args: [String]
    var env: [String]
    var runAsUser: Int
    var runAsGroup: Int
    var memoryLimitBytes: Int
    var readOnlyRoot: Bool
    /// hostPath volumes at their mount points: (host path, container path, read-only).
    var mounts: [(source: String, destination: String, readOnly: Bool)]

    var listenPort: Int? {
        args.first { $0.hasPrefix("--listen=:") }.flatMap { Int($0.dropFirst("--listen=:".count)) }
    }

    static func load(_ path: String) throws -> DaemonSetManifest {
        let script = "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"
        let converted = try ChildProcess.run([TestEnvironment.python, "-c", script, path])
        try #require(converted.status == 0, "\(path): \(converted.stderr)")
        let doc = try JSONDecoder().decode(Document.self, from: Data(converted.stdout.utf8))
        let pod = doc.spec.template.spec
        let container = try #require(pod.containers.first, "\(path): no container")
        try #require(pod.hostPID == true, "\(path): the agent needs hostPID")
        let limit = try #require(container.resources?.limits?["memory"], "\(path): no memory limit")
        let mebibytes = try #require(limit.hasSuffix("Mi") ? Int(limit.dropLast(2)) : nil, "\(path): memory limit '\(limit)' is not N Mi")
        var mounts = [(source: String, destination: String, readOnly: Bool)]()
        for mount in container.volumeMounts ?? [] {
            let volume = try #require(pod.volumes?.first { $0.name == mount.name }?.hostPath, "\(path): volume \(mount.name) is not a hostPath")
            mounts.append((volume.path, mount.mountPath, mount.readOnly ?? false))
        }
        return DaemonSetManifest(image: container.image, command: container.command ?? [], args: container.args ?? [],
                                 env: (container.env ?? []).map { "\($0.name)=\($0.value ?? "")" },
                                 runAsUser: try #require(container.securityContext?.runAsUser ?? pod.securityContext?.runAsUser),
                                 runAsGroup: try #require(container.securityContext?.runAsGroup ?? pod.securityContext?.runAsGroup),
                                 memoryLimitBytes: mebibytes << 20,
                                 readOnlyRoot: container.securityContext?.readOnlyRootFilesystem ?? false,
                                 mounts: mounts)
    }

    struct Document: Decodable {
        struct Spec: Decodable { var template: Template }
        struct Template: Decodable { var spec: PodSpec }
        struct PodSpec: Decodable {
            var hostPID: Bool?
            var securityContext: SecurityContext?
            var containers: [Container]
            var volumes: [Volume]?
        }
        struct SecurityContext: Decodable { var runAsUser: Int?; var runAsGroup: Int?; var readOnlyRootFilesystem: Bool? }
        struct Container: Decodable {
            var image: String
            var command: [String]?
            var args: [String]?
            var env: [EnvVar]?
            var resources: Resources?
            var securityContext: SecurityContext?
            var volumeMounts: [VolumeMount]?
        }
        struct EnvVar: Decodable { var name: String; var value: String? }
        struct Resources: Decodable { var limits: [String: String]? }
        struct VolumeMount: Decodable { var name: String; var mountPath: String; var readOnly: Bool? }
        struct Volume: Decodable { var name: String; var hostPath: HostPath? }
        struct HostPath: Decodable { var path: String }
        var spec: Spec
    }
}

/// `skopeo inspect --config`: the image's OCI config.
struct ImageConfigDocument: Decodable {
    struct Config: Decodable { var User: String?; var Labels: [String: String]?; var Entrypoint: [String]? }
    var config: Config
}

struct CrunState: Decodable { var pid: Int32 }
