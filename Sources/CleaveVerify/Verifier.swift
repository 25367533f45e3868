import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// `cleave verify`: proves, on this kernel, that a workload's memory stays
/// charged to its cgroup until the teardown helper is gone, and that the
/// teardown's CPU time lands there too.
package struct Verifier {
    package let options: VerifyOptions
    package let version: String

    package init(options: VerifyOptions, version: String) {
        self.options = options
        self.version = version
    }

    package func run() throws -> VerifyReport {
        if let size = options.size, size < 1 << 20 { throw CleaveError.message("--size: at least 1M is needed to tell the allocation from noise") }
        let mount = try CgroupMount.discover()
        let available = try mount.availableControllers()
        let memoryAvailable = available.contains("memory")
        if !memoryAvailable {
            options.progress("the cgroup2 hierarchy at \(mount.mountPoint) has no memory controller (\(mount.isUnified ? "unified" : "hybrid") host): memory checks are unavailable, the verdict will be partial")
        }
        // Helpers are reparented to us when a workload ends, so we can reap them.
        ChildReaper.becomeSubreaper()

        var modes = [ModeReport]()
        for mode in options.modes {
            let verifier = ModeVerifier(mode: mode, options: options, mount: mount, memoryAvailable: memoryAvailable)
            modes.append(try verifier.run())
        }
        var ratio: Double?
        if let a = modes.first(where: { $0.mode == "async" })?.reading("exit_latency"),
           let s = modes.first(where: { $0.mode == "sync" })?.reading("exit_latency"), s > 0 {
            ratio = a / s
        }
        let verdict = VerifyReport.Verdict.combine(modes.map(\.verdict))
        let failed = modes.flatMap { m in m.checks.filter { $0.status == .fail }.map { "\(m.mode) \($0.id)" } }
        let unavailable = Set(modes.flatMap { $0.checks.filter { $0.status == .unavailable }.map(\.id) }).sorted()
        let summary: String
        switch verdict {
        case .pass: summary = "every check passed"
        case .fail: summary = "failed: " + failed.joined(separator: ", ")
        case .partial: summary = "partial: no check failed, but \(unavailable.joined(separator: ", ")) could not be made here (no memory controller in \(mount.mountPoint)); run on a pure cgroup v2 host, or hack/vm.sh"
        }
        let workload = options.command ?? ["cleave", "probe", "alloc", String(options.probeSize)]
        return VerifyReport(version: version,
                            host: .init(kernel: Self.kernelRelease(), cgroupMount: mount.mountPoint, unified: mount.isUnified,
                                        controllers: available.names, memoryController: memoryAvailable),
                            sizeBytes: options.command == nil ? options.probeSize : options.size, threads: options.threads, workload: workload,
                            modes: modes, exitLatencyRatio: ratio, verdict: verdict, summary: summary)
    }

    static func kernelRelease() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
