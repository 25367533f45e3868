import CleaveCgroups
import Synchronization
import FoundationEssentials
import Glibc
import Hummingbird
import Logging
import ServiceLifecycle
import CleaveSystem

/// `cleave agent`: the watcher thread and the HTTP server under one
/// ServiceGroup; SIGTERM or SIGINT drains both and returns normally.
package enum Agent {
    package static func makeLogger(format: LogFormat) -> Logger {
        var logger: Logger
        switch format {
        case .text: logger = Logger(label: "cleave.agent") { StreamLogHandler.standardError(label: $0) }
        case .json: logger = Logger(label: "cleave.agent") { JSONLogHandler(label: $0) }
        }
        let level = getenv("CLEAVE_LOG_LEVEL").map { String(cString: $0) } ?? "info"
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }

    package static func run(_ options: AgentOptions, logger: Logger) async throws {
        let mount = try options.resolveMount()
        try options.validateProcRoot()
        let roots = try AgentOptions.resolveRoots(options.roots, mount: mount)
        let state = AgentState(teardownTimeout: options.teardownTimeout)
        let watcher = try CgroupWatcher(mount: mount, roots: roots, state: state, rescanInterval: options.rescanInterval,
                                        procRoot: options.procRoot, logger: logger)
        let serving = ServingFlag()

        let app = Application(
            router: router(state: state, mount: mount, serving: serving),
            configuration: .init(address: .hostname(options.listen.host, port: options.listen.port), serverName: "cleave-agent"),
            onServerRunning: { channel in
                serving.set()
                let port = channel.localAddress?.port ?? options.listen.port
                logger.info("listening on http://\(ListenAddress(host: options.listen.host, port: port))",
                            metadata: ["cgroup2": .string(mount.mountPoint)])
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: WatcherService(watcher: watcher)), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            if !serving.isSet { throw CleaveError.wrapped(context: "--listen \(options.listen): cannot serve", error) }
            throw error
        }
        logger.info("stopped")
    }

    static func router(state: AgentState, mount: CgroupMount, serving: ServingFlag) -> Router<BasicRequestContext> {
        let router = Router()
        let exporter = MetricsExporter(state: state, mount: mount)
        router.get("metrics") { _, _ -> Response in
            let body = exporter.render()
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("v1/teardowns") { _, _ -> Response in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(state.teardowns)
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
        }
        router.get("healthz") { _, _ -> Response in
            // The watcher thread goes round its loop at least once a second.
            let alive = state.heartbeatAgeNanos < 30_000_000_000
            return text(alive ? .ok : .serviceUnavailable, alive ? "ok\n" : "watcher thread stalled\n")
        }
        router.get("readyz") { _, _ -> Response in
            let ready = state.isReady && serving.isSet
            return text(ready ? .ok : .serviceUnavailable, ready ? "ready\n" : "initial scan not finished\n")
        }
        return router
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Runs the watcher thread for as long as the service group runs.
struct WatcherService: Service {
    let watcher: CgroupWatcher

    func run() async throws {
        try watcher.start()
        try? await gracefulShutdown()
        watcher.stop()
    }
}

final class ServingFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
