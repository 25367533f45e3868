import CleaveCgroups
import CleaveOCI
import Glibc
import CleaveRuntime
import CleaveSystem

/// `cleave hook poststop`: the accounting report for a stopped container, from what
/// poststart recorded, what the follower observed and what the cgroup still shows.
package enum PoststopHook {
    package static func run(state: ContainerState, files: HookFiles, wait: Duration) -> PoststopReport {
        var notes: [String] = []
        let record = HookJSON.read(PoststartRecord.self, from: files.record)
        if record == nil { notes.append("no poststart record in \(Escaped.text(files.directory)): was cleave's poststart hook installed?") }

        // The follower finishes when the cgroup empties; give it a moment.
        var observation = HookJSON.read(TeardownObservation.self, from: files.observation)
        if record != nil {
            let now = Clock.monotonicNanoseconds()
            let deadline = now.addingReportingOverflow(wait.nanosecondsSaturating).overflow ? .max : now + wait.nanosecondsSaturating
            while observation == nil && Clock.monotonicNanoseconds() < deadline {
                usleep(20_000)
                observation = HookJSON.read(TeardownObservation.self, from: files.observation)
            }
            if observation == nil { notes.append("the teardown was not observed within \(wait.components.seconds)s: the cgroup may still be releasing memory") }
        }

        var current: CgroupStats?
        var gone: Bool?
        if let path = record?.cgroup, let mount = try? CgroupMount.discover(), let cgroup = try? Cgroup(absolutePath: path, mount: mount) {
            gone = !cgroup.exists
            current = gone == false ? try? cgroup.stats() : nil
        }
        if observation?.outcome == "timeout" { notes.append("the cgroup did not empty within the follower's time limit") }
        notes.append(contentsOf: record?.notes ?? [])

        let peaks = [observation?.memoryPeakBytes, current?.memoryPeak].compactMap { $0 }
        let cpu = observation?.cpuUsageUsec ?? current?.cpuUsageUsec
        return PoststopReport(
            id: state.id, cgroup: record?.cgroup, cgroupGone: gone,
            memoryBaselineBytes: record?.memoryCurrentBytes, memoryPeakBytes: peaks.max(),
            memoryFinalBytes: observation?.memoryFinalBytes ?? current?.memoryCurrent,
            cpuUsageSeconds: cpu.map { Double($0) / 1e6 }, teardownSeconds: observation?.teardownSeconds,
            helperPresent: record?.helperPresent, pidNamespaceInit: record?.pidNamespaceInit,
            reportedAt: Clock.wallSeconds(), notes: notes)
    }

    /// Writes the report, appends one line to the event log, and removes the per-container
    /// files poststart left.
    package static func publish(_ report: PoststopReport, files: HookFiles, log: EventLog) throws {
        try StateDirectory.prepare(files.directory)
        try StateDirectory.prepare(files.reportDirectory)
        try HookJSON.write(report, to: files.report)
        log.append("hook-report", cgroup: report.cgroup ?? "", message: summary(report), seconds: report.teardownSeconds)
        unlink(files.record)
        unlink(files.observation)
    }

    package static func summary(_ r: PoststopReport) -> String {
        func mib(_ v: UInt64?) -> String { v.map { String(format1(Double($0) / 1_048_576)) + " MiB" } ?? "n/a" }
        let teardown = r.teardownSeconds.map { "\(format1($0 * 1000)) ms" } ?? "n/a"
        let cpu = r.cpuUsageSeconds.map { "\(format1($0 * 1000)) ms" } ?? "n/a"
        return "container \(Escaped.text(r.id)): cgroup \(r.cgroup.map { "\(Escaped.text($0)) \(r.cgroupGone == true ? "gone" : "present")" } ?? "unknown"), baseline \(mib(r.memoryBaselineBytes)), peak \(mib(r.memoryPeakBytes)), final \(mib(r.memoryFinalBytes)), cpu \(cpu), teardown \(teardown), helper \(r.helperPresent.map { $0 ? "yes" : "no" } ?? "n/a")"
    }

    private static func format1(_ v: Double) -> String {
        let tenths = (v * 10).rounded()
        return "\(Int(tenths) / 10).\(abs(Int(tenths)) % 10)"
    }
}
