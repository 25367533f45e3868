import FoundationEssentials
import Glibc
import Testing
import CleaveSystem
import CleaveTestSupport

/// The deployment files: Kubernetes manifests through kubernetes-validate
/// (hack/setup.sh installs it from PyPI), the systemd unit through
/// `systemd-analyze verify` where systemd's tools are installed.
@Suite("cleave agent manifests")
struct ManifestTests {
    static let manifests = TestEnvironment.repositoryRoot + "/manifests"
    static let validator = TestEnvironment.pythonEnvironment + "/bin/kubernetes-validate"
    static var hasValidator: Bool { access(validator, X_OK) == 0 }
    static let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { (path: String) in access(path, X_OK) == 0 }

    @Test("the Kubernetes manifests pass kubernetes-validate --strict, and a broken one does not",
          .enabled(if: hasValidator, "kubernetes-validate could not be installed (hack/setup.sh installs it with pip into /var/tmp/cleave-py)"))
    func kubernetes() throws {
        let files = ["namespace", "serviceaccount", "service", "daemonset", "networkpolicy"].map { "\(Self.manifests)/kubernetes/\($0).yaml" }
        let result = try ChildProcess.run([Self.validator, "--strict"] + files)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").filter { $0.contains(" passed for resource ") }.count == files.count, "\(result.stdout)")

        let daemonset = (FileIO.read(files[3], limit: 64 << 20) ?? "")
        #expect(!daemonset.contains("hostNetwork"), "a NetworkPolicy does not apply to a host-network pod")
        for required in ["hostPID: true", "readOnly: true", "path: /healthz", "path: /readyz", "prometheus.io/scrape: \"true\"",
                         "drop: [\"ALL\"]", "readOnlyRootFilesystem: true", "limits:", "requests:"] {
            #expect(daemonset.contains(required), "daemonset.yaml lacks \(required)")
        }
        // The negative control: the validator does refuse a wrong manifest.
        let broken = try ChildProcess(["/bin/true"], output: .files)   // for its private temporary directory
        _ = broken.exitStatus(timeout: 10)
        let brokenFile = broken.directory! + "/broken.yaml"
        try AtomicFile.write(Array((daemonset.replacing("hostPID: true", with: "hostPID: \"yes\"")).utf8), to: brokenFile)
        defer { unlink(brokenFile) }
        let refused = try ChildProcess.run([Self.validator, "--strict", brokenFile])
        #expect(refused.status != 0, "kubernetes-validate accepted hostPID: \"yes\"")
    }

    @Test("the systemd unit passes systemd-analyze verify (ExecStart pointed at the built binary)",
          .enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed here"))
    func systemd() throws {
        let analyze = try #require(Self.systemdAnalyze)
        let unit = (FileIO.read(Self.manifests + "/systemd/cleave-agent.service", limit: 64 << 20) ?? "")
        #expect(unit.contains("ExecStart=/usr/local/bin/cleave agent "))
        let holder = try ChildProcess(["/bin/true"], output: .files)
        _ = holder.exitStatus(timeout: 10)
        let copy = holder.directory! + "/cleave-agent.service"
        try AtomicFile.write(Array((unit.replacing("/usr/local/bin/cleave", with: TestEnvironment.cleave)).utf8), to: copy)
        defer { unlink(copy) }
        let result = try ChildProcess.run([analyze, "verify", "--man=no", copy])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stderr.contains("Unknown key") && !result.stderr.contains("nknown"), "\(result.stderr)")
    }

    @Test("the NetworkPolicy admits only the monitoring namespace's Prometheus, on the metrics port, and no egress; a loosened one is caught",
          .enabled(if: hasValidator, "kubernetes-validate (and PyYAML with it) could not be installed"))
    func networkPolicy() throws {
        let text = (FileIO.read(Self.manifests + "/kubernetes/networkpolicy.yaml", limit: 64 << 20) ?? "")
        #expect(try Self.policyProblems(text) == [])

        // Each loosening a hand edit could make is caught (the checks are not vacuous).
        let from = """
                - namespaceSelector:
                    matchLabels:
                      kubernetes.io/metadata.name: monitoring
                  podSelector:
        """
        let loosened: [(String, String)] = [
            // Two `from` entries: either selector alone admits (any pod of monitoring, or any
            // pod labelled prometheus in cleave-system).
            (from, from.replacing("          podSelector:", with: "        - podSelector:")),
            ("kubernetes.io/metadata.name: monitoring", "kubernetes.io/metadata.name: default"),
            ("app.kubernetes.io/name: prometheus", "app.kubernetes.io/name: grafana"),
            ("          port: 9464", "          port: 9465"),
            ("    - Egress\n", ""),
            ("  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: cleave-agent", "  podSelector: {}"),
        ]
        for (old, new) in loosened {
            #expect(text.contains(old), "the mutation's text is gone from networkpolicy.yaml: \(old)")
            #expect(try !Self.policyProblems(text.replacing(old, with: new)).isEmpty, "not caught: \(old) -> \(new)")
        }
    }

    /// What is wrong with a NetworkPolicy for the agent, read with PyYAML (kubernetes-validate's
    /// dependency) into JSON: [] when it admits exactly the monitoring namespace's Prometheus.
    static func policyProblems(_ yaml: String) throws -> [String] {
        let holder = try ChildProcess(["/bin/true"], output: .files)   // for its private temporary directory
        _ = holder.exitStatus(timeout: 10)
        let file = holder.directory! + "/policy.yaml"
        try AtomicFile.write(Array((yaml).utf8), to: file)
        defer { unlink(file) }
        let script = "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"
        let converted = try ChildProcess.run([TestEnvironment.python, "-c", script, file])
        guard converted.status == 0 else { return ["not YAML: \(converted.stderr)"] }
        let policy = try JSONDecoder().decode(NetworkPolicy.self, from: Data(converted.stdout.utf8))

        var problems: [String] = []
        if policy.kind != "NetworkPolicy" || policy.metadata.namespace != "cleave-system" { problems.append("not a NetworkPolicy in cleave-system") }
        // The daemonset's pod template carries this label.
        if policy.spec.podSelector.matchLabels != ["app.kubernetes.io/name": "cleave-agent"] { problems.append("does not select the agent's pods") }
        if Set(policy.spec.policyTypes ?? []) != ["Ingress", "Egress"] { problems.append("policyTypes are not Ingress and Egress") }
        if policy.spec.egress?.isEmpty != true { problems.append("allows egress (the agent calls nothing)") }
        let rules = policy.spec.ingress ?? []
        if rules.count != 1 { problems.append("\(rules.count) ingress rules, expected 1") }
        for rule in rules {
            let peers = rule.from ?? []
            if peers.count != 1 { problems.append("\(peers.count) peers in one rule: each admits alone") }
            for peer in peers {
                if peer.namespaceSelector?.matchLabels != ["kubernetes.io/metadata.name": "monitoring"] {
                    problems.append("a peer not limited to the monitoring namespace")
                }
                if peer.podSelector?.matchLabels != ["app.kubernetes.io/name": "prometheus"] {
                    problems.append("a peer not limited to Prometheus pods")
                }
                if peer.ipBlock != nil { problems.append("an ipBlock peer") }
            }
            if rule.ports?.map({ "\($0.protocol ?? "TCP")/\($0.port?.description ?? "any")" }) != ["TCP/9464"] {
                problems.append("ports other than TCP 9464")
            }
        }
        return problems
    }

    struct NetworkPolicy: Decodable {
        struct Metadata: Decodable { var namespace: String? }
        struct Selector: Decodable { var matchLabels: [String: String]? }
        struct Port: Decodable { var `protocol`: String?; var port: PortNumberOrName? }
        /// A port is a number or the name of a container port.
        struct PortNumberOrName: Decodable, CustomStringConvertible {
            var description: String
            init(from decoder: any Decoder) throws {
                let value = try decoder.singleValueContainer()
                description = try (try? value.decode(Int.self)).map(String.init) ?? value.decode(String.self)
            }
        }
        struct IPBlock: Decodable { var cidr: String? }
        struct Peer: Decodable { var namespaceSelector: Selector?; var podSelector: Selector?; var ipBlock: IPBlock? }
        struct Rule: Decodable { var from: [Peer]?; var ports: [Port]? }
        struct Spec: Decodable {
            var podSelector: Selector
            var policyTypes: [String]?
            var ingress: [Rule]?
            var egress: [Rule]?
        }
        var kind: String
        var metadata: Metadata
        var spec: Spec
    }
}
