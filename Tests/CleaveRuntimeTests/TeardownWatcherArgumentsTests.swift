import Testing
import CleaveCgroups
@testable import CleaveRuntime

/// The watcher's command line: what cleave writes, the watcher's fast path reads back whole,
/// and anything else is left to swift-argument-parser (nil).
@Suite("teardown watcher command line")
struct TeardownWatcherArgumentsTests {
    private static var everything: TeardownWatcher.Options {
        var options = TeardownWatcher.Options(cgroupPath: "/sys/fs/cgroup/cleave/web-1a2b3c4d", timeout: .milliseconds(300_000),
                                              keepCgroup: true, stateFile: "/tmp/state file.json", log: EventLog(path: "/run/cleave/events.log"))
        options.record = "/run/cleave/runs/1a2b-77.json"
        options.existing = true
        options.mark = OwnerMark(kind: .created, lock: "/run/cleave/runs/1a2b-77.lock")
        options.lockPath = "/run/cleave/runs/1a2b-77.lock"
        options.workloadPid = 4242
        options.runRecord = "/run/cleave/runs/1a2b-77.json"
        return options
    }

    @Test("what cleave writes reads back the same, with and without --handover")
    func roundTrip() throws {
        let minimal = TeardownWatcher.Options(cgroupPath: "/sys/fs/cgroup/x", timeout: .zero, keepCgroup: false,
                                              stateFile: nil, log: EventLog())
        for options in [Self.everything, minimal] {
            let written = TeardownWatcher.optionArguments(options)
            for handover in [false, true] {
                let read = try #require(TeardownWatcher.parseFast((written + (handover ? ["--handover"] : []))[...]))
                #expect(TeardownWatcher.optionArguments(read.options) == written)
                #expect(read.handover == handover)
            }
        }
        let read = try #require(TeardownWatcher.parseFast(TeardownWatcher.optionArguments(Self.everything)[...]))
        #expect(read.options.mark == Self.everything.mark && read.options.workloadPid == 4242 && read.options.timeout == .seconds(300))
    }

    @Test("anything else goes to the full parser", arguments: [
        [],
        ["--timeout-ms", "1000"],                                        // no --cgroup
        ["--cgroup", "/c"],                                              // no --timeout-ms
        ["--cgroup", "/c", "--timeout-ms", "-1"],
        ["--cgroup", "/c", "--timeout-ms", "31536000001"],               // over a year
        ["--cgroup", "/c", "--timeout-ms", "9223372036854775807"],
        ["--cgroup", "/c", "--timeout-ms", "soon"],
        ["--cgroup", "/c", "--cgroup", "/d", "--timeout-ms", "1"],       // repeated option
        ["--cgroup", "/c", "--timeout-ms", "1", "--existing", "--existing"],
        ["--cgroup", "/c", "--timeout-ms", "1", "--bogus", "x"],
        ["--cgroup", "/c", "--timeout-ms", "1", "extra"],
        ["--cgroup", "/c", "--timeout-ms", "1", "--pid", "many"],
        ["--cgroup", "/c", "--timeout-ms", "1", "--pid"],                // missing value
        ["--cgroup", "--timeout-ms", "1"],                               // value that looks like an option
        ["--cgroup=/c", "--timeout-ms", "1"],
    ])
    func refused(arguments: [String]) {
        #expect(TeardownWatcher.parseFast(arguments[...]) == nil)
    }
}
