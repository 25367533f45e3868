import FoundationEssentials
import CleaveJSON
import CleaveSystem

/// `cleave prepare`: edits a bundle's config.json so that another runtime (crun, runc)
/// starts the workload with cleave's teardown helper and calls cleave's hook. Everything
/// else in the file is kept as it was, in its order; running it twice changes nothing more.
public enum BundlePreparer {
    public struct Options: Sendable {
        /// The library on the host, bind-mounted read-only into the container.
        public var library: String
        /// Where the workload sees it.
        public var libraryDestination = "/usr/lib/cleave/libcleave-teardown.so"
        /// The cleave executable the runtime calls as the hook (on the host).
        public var cleave: String
        public var hookTimeout: Int? = 30

        public init(library: String, cleave: String) {
            self.library = library
            self.cleave = cleave
        }
    }

    /// Reads `<bundle>/config.json` and returns it edited.
    public static func prepare(bundle: String, options: Options) throws -> String {
        let file = BundleLoader.configPath(bundle: bundle)
        return try prepare(try BundleLoader.readFile(file), file: file, options: options)
    }

    /// The edited document, or an OCIError naming the file and field.
    public static func prepare(_ data: Data, file: String, options: Options) throws -> String {
        let bytes = [UInt8](data)
        var root: JSONNode
        do { root = try JSONParser.parse(bytes) } catch let error as JSONSyntaxError {
            let (line, column) = JSONParser.lineAndColumn(of: error.offset, in: bytes)
            throw OCIError(file: file, line: line, column: column, message: "invalid JSON: \(error.reason)")
        }
        // The same checks a runtime would make, so a broken file is reported here, by field.
        let spec = try BundleLoader.decodeUnvalidated(data, file: file)
        guard spec.process?.args?.isEmpty == false else {
            throw OCIError(file: file, field: "process.args", message: "missing (the runtime needs a process to start)")
        }

        root["mounts"] = .array(addingMount(to: root["mounts"]?.arrayElements ?? [], options: options))
        var process = root["process"] ?? .object([])
        process["env"] = .array(addingPreload(to: process["env"]?.arrayElements ?? [], path: options.libraryDestination))
        root["process"] = process
        var hooks = root["hooks"] ?? .object([])
        for stage in ["poststart", "poststop"] {
            hooks[stage] = .array(addingHook(to: hooks[stage]?.arrayElements ?? [], stage: stage, options: options))
        }
        root["hooks"] = hooks
        var annotations = root["annotations"] ?? .object([])
        if annotations[CleaveAnnotations.teardown] == nil { annotations[CleaveAnnotations.teardown] = .string("async") }
        root["annotations"] = annotations
        return JSONWriter.write(root)
    }

    private static func addingMount(to mounts: [JSONNode], options: Options) -> [JSONNode] {
        if mounts.contains(where: { $0["destination"]?.stringValue == options.libraryDestination }) { return mounts }
        return mounts + [.object([
            ("destination", .string(options.libraryDestination)),
            ("type", .string("bind")),
            ("source", .string(options.library)),
            ("options", .array([.string("bind"), .string("ro"), .string("nosuid"), .string("nodev")])),
        ])]
    }

    private static func addingPreload(to env: [JSONNode], path: String) -> [JSONNode] {
        var env = env
        if let i = env.lastIndex(where: { $0.stringValue?.hasPrefix("LD_PRELOAD=") == true }),
           let current = env[i].stringValue?.dropFirst("LD_PRELOAD=".count) {
            env[i] = .string("LD_PRELOAD=" + EnvironmentList.preloadValue(adding: path, to: String(current)))
            return env
        }
        return env + [.string("LD_PRELOAD=\(path)")]
    }

    private static func addingHook(to hooks: [JSONNode], stage: String, options: Options) -> [JSONNode] {
        let args = ["cleave", "hook", stage]
        if hooks.contains(where: { $0["path"]?.stringValue == options.cleave && $0["args"]?.arrayElements?.compactMap(\.stringValue) == args }) {
            return hooks
        }
        var members: [(key: String, value: JSONNode)] = [("path", .string(options.cleave)), ("args", .array(args.map { .string($0) }))]
        if let timeout = options.hookTimeout { members.append(("timeout", JSONNode(kind: .number(String(timeout)), offset: 0))) }
        return hooks + [.object(members)]
    }
}
