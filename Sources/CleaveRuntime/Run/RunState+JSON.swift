import CleaveJSON
import CleaveSystem

/// The record's JSON written by hand, byte for byte what JSONEncoder writes with `.prettyPrinted,
/// .sortedKeys, .withoutEscapingSlashes` (RunStateJSONTests holds the two equal). Every `cleave
/// run` writes the record twice before the workload runs; JSONEncoder's first use in a process
/// instantiates its generic machinery, a quarter of a millisecond of each start (perf, the spawn
/// benchmark). Reading stays JSONDecoder's.
extension RunState {
    public func jsonText() -> String {
        // Sorted by key, as .sortedKeys orders them; nil members are left out, as the synthesized
        // Codable conformance does (encodeIfPresent).
        var members: [(String, String)] = []
        members.append(("cgroup", Self.quoted(cgroup)))
        members.append(("cgroupRemovedAt", cgroupRemovedAt.map(Self.number)))
        members.append(("createdAt", Self.number(createdAt)))
        members.append(("exitCode", exitCode.map { String($0) }))
        members.append(("exitedAt", exitedAt.map(Self.number)))
        members.append(("helperPids", Self.array(helperPids.map { String($0) })))
        members.append(("id", Self.quoted(id)))
        members.append(("keepCgroup", keepCgroup.map { $0 ? "true" : "false" }))
        members.append(("name", Self.quoted(name)))
        members.append(("oomKilled", oomKilled.map { $0 ? "true" : "false" }))
        members.append(("pid", pid.map { String($0) }))
        members.append(("pidStartTime", pidStartTime.map { String($0) }))
        members.append(("signal", signal.map { String($0) }))
        members.append(("startedAt", startedAt.map(Self.number)))
        members.append(("status", Self.quoted(status.rawValue)))
        members.append(("supervisorPid", supervisorPid.map { String($0) }))
        members.append(("supervisorStartTime", supervisorStartTime.map { String($0) }))
        members.append(("teardown", Self.quoted(teardown.rawValue)))
        members.append(("teardownTimedOut", teardownTimedOut.map { $0 ? "true" : "false" }))
        return "{\n" + Self.join(members.map { "  \"\($0.0)\" : \($0.1)" }, separator: ",\n") + "\n}"
    }

    private static func quoted(_ s: String) -> String { JSONText.quoted(s) }

    /// JSONEncoder's form of a Double: its shortest round-trip text, without a trailing ".0".
    private static func number(_ value: Double) -> String {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// A pretty-printed array one level in; JSONEncoder writes an empty one as "[\n\n  ]".
    private static func array(_ elements: [String]) -> String {
        "[\n" + join(elements.map { "    " + $0 }, separator: ",\n") + "\n  ]"
    }

    /// `joined(separator:)` as a loop: the library's generic one resolves its associated types
    /// at run time on first use, 90 µs of every start.
    private static func join(_ parts: [String], separator: String) -> String {
        var text = ""
        var first = true
        for part in parts {
            if !first { text += separator }
            text += part
            first = false
        }
        return text
    }
}

extension Array where Element == (String, String) {
    /// Appends a member only when it has a value.
    fileprivate mutating func append(_ member: (String, String?)) {
        if let value = member.1 { append((member.0, value)) }
    }
}
