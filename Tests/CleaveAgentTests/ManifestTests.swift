import Glibc
import Testing

/// The deployment files: Kubernetes manifests through kubernetes-validate
/// (hack/setup.sh installs it from PyPI), the systemd unit through
/// `systemd-analyze verify` where systemd's tools are installed.
@Suite("cleave agent manifests")
struct ManifestTests {
    static let manifests = AgentTestEnvironment.repositoryRoot + "/manifests"
    static let validator = AgentTestEnvironment.pythonEnvironment + "/bin/kubernetes-validate"
    static var hasValidator: Bool { access(validator, X_OK) == 0 }
    static let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { (path: String) in access(path, X_OK) == 0 }

    @Test("the Kubernetes manifests pass kubernetes-validate --strict, and a broken one does not",
          .enabled(if: hasValidator, "kubernetes-validate could not be installed (hack/setup.sh installs it with pip into /var/tmp/cleave-py)"))
    func kubernetes() throws {
        let files = ["namespace", "serviceaccount", "service", "daemonset"].map { "\(Self.manifests)/kubernetes/\($0).yaml" }
        let result = try Spawned.run([Self.validator, "--strict"] + files)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").filter { $0.contains(" passed for resource ") }.count == files.count, "\(result.stdout)")

        let daemonset = Spawned.contents(files[3])
        for required in ["hostPID: true", "readOnly: true", "path: /healthz", "path: /readyz", "prometheus.io/scrape: \"true\"",
                         "drop: [\"ALL\"]", "readOnlyRootFilesystem: true", "limits:", "requests:"] {
            #expect(daemonset.contains(required), "daemonset.yaml lacks \(required)")
        }
        // The negative control: the validator does refuse a wrong manifest.
        let broken = try Spawned(["/bin/true"])   // for its private temporary directory
        _ = broken.wait(timeout: 10)
        let brokenFile = broken.directory + "/broken.yaml"
        #expect(FileWriter.write(brokenFile, daemonset.replacing("hostPID: true", with: "hostPID: \"yes\"")))
        defer { unlink(brokenFile) }
        let refused = try Spawned.run([Self.validator, "--strict", brokenFile])
        #expect(refused.status != 0, "kubernetes-validate accepted hostPID: \"yes\"")
    }

    @Test("the systemd unit passes systemd-analyze verify (ExecStart pointed at the built binary)",
          .enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed here"))
    func systemd() throws {
        let analyze = try #require(Self.systemdAnalyze)
        let unit = Spawned.contents(Self.manifests + "/systemd/cleave-agent.service")
        #expect(unit.contains("ExecStart=/usr/local/bin/cleave agent "))
        let holder = try Spawned(["/bin/true"])
        _ = holder.wait(timeout: 10)
        let copy = holder.directory + "/cleave-agent.service"
        #expect(FileWriter.write(copy, unit.replacing("/usr/local/bin/cleave", with: AgentTestEnvironment.cleave)))
        defer { unlink(copy) }
        let result = try Spawned.run([analyze, "verify", "--man=no", copy])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stderr.contains("Unknown key") && !result.stderr.contains("nknown"), "\(result.stderr)")
    }
}
