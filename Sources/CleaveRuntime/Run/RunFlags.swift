import Glibc
import CleaveSystem

/// `cleave run`'s options as plain values: what RunOptions (swift-argument-parser's
/// declarations) parsed, or what the fast path (RunFlags+FastPath) read without it. Either way
/// `request()` turns them into a RunRequest. A plain struct so that the fast path never builds
/// the parser's property wrappers, which cost a fifth of a millisecond of every start.
public struct RunFlags: Sendable, Equatable {
    public var cgroup: String?
    public var name: String?
    public var memoryMax: String?
    public var memoryHigh: String?
    public var memoryLow: String?
    public var memorySwapMax: String?
    public var cpus: String?
    public var cpuMax: String?
    public var cpuWeight: String?
    public var pidsMax: String?
    public var rawSettings: [String] = []
    public var teardown: String?
    public var teardownTimeout: String?
    public var teardownWorkers: String?
    public var keepCgroup = false
    public var inject = false
    public var stateFile: String?
    public var waitMemory: String?
    public var waitTimeout: String?
    /// The command and its arguments (without the "--" that ends the options).
    public var command: [String] = []

    public init() {}

    public func request() throws -> RunRequest {
        var request = RunRequest(command: command)
        request.cgroupPath = cgroup
        request.name = name
        request.limits = try RunOptionsParser.limits(
            memoryMax: memoryMax, memoryHigh: memoryHigh, memoryLow: memoryLow, memorySwapMax: memorySwapMax,
            cpus: cpus, cpuMax: cpuMax, cpuWeight: cpuWeight, pidsMax: pidsMax, raw: rawSettings)
        try applySupervision(to: &request, teardown: teardown ?? "async")
        return request
    }

    /// The settings a flag run and a bundle run share; `teardown` nil keeps the request's
    /// (a bundle's annotation).
    public func applySupervision(to request: inout RunRequest, teardown: String?) throws {
        if let teardown {
            guard let mode = TeardownMode(rawValue: teardown) else {
                throw CleaveError.message("--teardown: '\(teardown)' is not one of async, sync")
            }
            request.teardown = mode
        }
        // Unset: the default as a value (parsing "5m" cost 30 µs of every start).
        request.teardownTimeout = try teardownTimeout.map { try DurationParser.parse($0, option: "--teardown-timeout") }
            ?? RunRequest.defaultTeardownTimeout
        request.teardownWorkers = try teardownWorkers.map { try TeardownWorkers.parse($0) }
        request.keepCgroup = keepCgroup
        request.inject = inject
        request.stateFile = stateFile
        request.memoryWait = try MemoryWaitOptions.request(size: waitMemory, timeout: waitTimeout)
        // Test and diagnosis knob: place with fork + cgroup.procs instead of clone3.
        request.forceFallbackSpawn = getenv("CLEAVE_SPAWN_FALLBACK").map { String(cString: $0) == "1" } ?? false
    }
}
