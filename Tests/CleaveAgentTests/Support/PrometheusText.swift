import FoundationEssentials
import CleaveRuntime
import CleaveSystem
import CleaveTestSupport

struct MetricSample: Decodable {
    var name: String
    var labels: [String: String]
    var value: Double
}

struct MetricFamily: Decodable {
    var name: String
    var type: String
    var help: String
    var samples: [MetricSample]
}

/// Parses the Prometheus text format with the reference parser,
/// prometheus_client's text_string_to_metric_families (hack/setup.sh installs it).
enum PrometheusText {
    static let script = """
    import json, math, sys
    from prometheus_client.parser import text_string_to_metric_families
    out = []
    for f in text_string_to_metric_families(sys.stdin.read()):
        out.append({"name": f.name, "type": f.type, "help": f.documentation,
                     "samples": [{"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else 0.0}
                                 for s in f.samples]})
    print(json.dumps(out))
    """

    static func parse(_ text: String) throws -> [MetricFamily] {
        guard TestEnvironment.hasPython else {
            throw CleaveError.message("\(TestEnvironment.python) is missing: run hack/setup.sh (it installs prometheus_client)")
        }
        let result = try ChildProcess.run([TestEnvironment.python, "-c", script], stdin: text)
        guard result.status == 0 else { throw CleaveError.message("the Prometheus text parser refused the scrape: \(result.stderr)\n--- scrape:\n\(text)") }
        return try JSONDecoder().decode([MetricFamily].self, from: Data(result.stdout.utf8))
    }
}

extension Array where Element == MetricFamily {
    subscript(family name: String) -> MetricFamily? { first { $0.name == name } }

    /// The value of the sample named `sample` (default: the family) whose labels include `labels`.
    func value(_ family: String, sample: String? = nil, _ labels: [String: String] = [:]) -> Double? {
        self[family: family]?.samples.first { s in
            s.name == (sample ?? family) && labels.allSatisfy { s.labels[$0.key] == $0.value }
        }?.value
    }
}
