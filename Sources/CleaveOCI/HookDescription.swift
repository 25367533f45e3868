import FoundationEssentials
import CleaveJSON

/// A podman / CRI-O hook description (oci-hooks(5), schema 1.0.0), the file dropped into
/// `hooks.d/` so that those engines inject cleave's hook into the containers they start.
public struct HookDescription: Codable, Sendable, Equatable {
    /// Always "1.0.0" for this schema.
    public var version: String
    /// The hook to inject, in runtime-spec form.
    public var hook: Hook
    public var when: When
    /// Runtime-spec stage names ("poststart", "poststop", ...).
    public var stages: [String]

    public init(version: String = "1.0.0", hook: Hook, when: When, stages: [String]) {
        self.version = version
        self.hook = hook
        self.when = when
        self.stages = stages
    }

    /// The hook is injected when all of the conditions that are set match; at least one
    /// must be set.
    public struct When: Codable, Sendable, Equatable {
        public var always: Bool?
        /// Key regex -> value regex (POSIX ERE), matched against the container's annotations.
        public var annotations: [String: String]?
        /// Regexes matched against process.args[0].
        public var commands: [String]?
        public var hasBindMounts: Bool?

        public init(always: Bool? = nil, annotations: [String: String]? = nil, commands: [String]? = nil,
                    hasBindMounts: Bool? = nil) {
            self.always = always
            self.annotations = annotations
            self.commands = commands
            self.hasBindMounts = hasBindMounts
        }

        public static let always = When(always: true)

        /// Only containers that ask for it with the io.cleave.teardown annotation.
        public static let annotated = When(annotations: ["^io\\.cleave\\.teardown$": "^(async|sync|inject)$"])

        var isEmpty: Bool { always == nil && annotations == nil && commands == nil && hasBindMounts == nil }
    }

    /// cleave's own hook: `cleave hook` at poststart (to find the container's cgroup and
    /// main process) and poststop (to follow the teardown and report), both run in the
    /// runtime's namespaces with the state on stdin.
    public static func cleave(path: String = "/usr/local/bin/cleave", when: When = .always,
                              timeout: Int? = nil) -> HookDescription {
        HookDescription(hook: Hook(path: path, args: ["cleave", "hook"], timeout: timeout),
                        when: when, stages: ["poststart", "poststop"])
    }

    /// Pretty, key-sorted JSON with a trailing newline, ready for hooks.d.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, booleans and integers cannot fail.
        guard let data = try? encoder.encode(self) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Parses and checks a hooks.d file: version 1.0.0, an absolute hook path, at least one
    /// `when` condition, known stages.
    public static func parse(_ data: Data, file: String) throws -> HookDescription {
        let description = try BundleLoader.decodeDocument(HookDescription.self, from: data, file: file)
        if description.version != "1.0.0" {
            throw OCIError(file: file, field: "version",
                           message: "'\(description.version)' is not supported (only the 1.0.0 schema)")
        }
        if !description.hook.path.hasPrefix("/") {
            throw OCIError(file: file, field: "hook.path", message: "'\(description.hook.path)' is not an absolute path")
        }
        if description.when.isEmpty {
            throw OCIError(file: file, field: "when", message: "no condition set (use \"always\": true to match every container)")
        }
        if description.stages.isEmpty {
            throw OCIError(file: file, field: "stages", message: "empty")
        }
        for (i, stage) in description.stages.enumerated() where !Hooks.stageNames.contains(stage) {
            throw OCIError(file: file, field: "stages[\(i)]",
                           message: "unknown stage '\(stage)' (expected one of \(Hooks.stageNames.joined(separator: ", ")))")
        }
        return description
    }
}
