@testable import CleaveAgent
import CleaveSystem
import CleaveCgroups
import Testing
import CleaveTestSupport

@Suite("cleave agent: options and the teardown tracker")
struct AgentUnitTests {
    @Test("--listen accepts HOST:PORT, [IPv6]:PORT and :PORT")
    func listenAccepted() throws {
        #expect(try ListenAddress.parse("127.0.0.1:9464") == ListenAddress(host: "127.0.0.1", port: 9464))
        #expect(try ListenAddress.parse("[::1]:0") == ListenAddress(host: "::1", port: 0))
        #expect(try ListenAddress.parse(":9464") == ListenAddress(host: "0.0.0.0", port: 9464))
        #expect(try ListenAddress.parse("node-1.local:80").host == "node-1.local")
        #expect(ListenAddress(host: "::1", port: 5).description == "[::1]:5")
    }

    @Test("--listen refuses bad input, naming it", arguments: ["9464", "localhost:", "localhost:http", "1.2.3.4:70000", "::1:80", "[::1]80", "a b:1"])
    func listenRefused(_ text: String) {
        #expect {
            _ = try ListenAddress.parse(text)
        } throws: { error in
            "\(error)".contains("--listen") && "\(error)".contains("'\(text)'")
        }
    }

    @Test("the tracker times teardowns, keeps recent ones, counts completions and timeouts once")
    func tracker() throws {
        var t = TeardownTracker(timeout: .seconds(2), recentLimit: 2)
        let begin = { (cg: String, at: UInt64) in
            TeardownRecord(cgroup: cg, helpers: [7], beganAt: 1000, beganMonotonicNanos: at, memoryAtBeginBytes: nil)
        }
        let first = t.begin(begin("/a", 1_000_000_000))
        let again = t.begin(begin("/a", 5_000_000_000))   // already in progress: the first start stands
        let second = t.begin(begin("/b", 1_000_000_000))
        #expect(first && !again && second)
        let early = t.markTimeouts(monotonicNanos: 2_000_000_000)
        let late = t.markTimeouts(monotonicNanos: 3_500_000_000)
        let later = t.markTimeouts(monotonicNanos: 9_000_000_000)   // counted once
        #expect(early.isEmpty && later.isEmpty)
        #expect(late.map(\.cgroup).sorted() == ["/a", "/b"])
        #expect(t.timeoutCount == 2)
        let ended = t.end("/a", state: .completed, wallSeconds: 1001.5, monotonicNanos: 2_500_000_000)
        let a = try #require(ended)
        #expect(a.durationSeconds == 1.5)
        #expect(a.timedOut)
        let endedTwice = t.end("/a", state: .completed, wallSeconds: 0, monotonicNanos: 0)
        #expect(endedTwice == nil)
        t.end("/b", state: .aborted, wallSeconds: 1002, monotonicNanos: 3_000_000_000)
        #expect(t.completedCount == 1)   // an aborted teardown is not a finished one
        t.begin(begin("/c", 0)); t.end("/c", state: .completed, wallSeconds: 0, monotonicNanos: 1)
        #expect(t.recent.map(\.cgroup) == ["/b", "/c"])
        #expect(t.document.teardownsTotal == 2 && t.document.inProgress.isEmpty)
    }

    @Test("--root must name an existing cgroup; nested roots fold into their ancestor",
          .enabled(if: TestEnvironment.hasCgroup2, "needs a cgroup2 hierarchy"))
    func roots() throws {
        let mount = try #require(TestEnvironment.mount)
        #expect(try AgentOptions.resolveRoots([], mount: mount) == [""])
        #expect(throws: CleaveError.self) { try AgentOptions.resolveRoots(["cleave-test-agent-no-such-cgroup"], mount: mount) }
        #expect(throws: CleaveError.self) { try AgentOptions.resolveRoots(["../etc"], mount: mount) }
        let cg = try TestEnvironment.makeTestCgroup("roots")
        defer { TestEnvironment.removeCgroupTree(cg) }
        let child = try Cgroup(mount: mount, path: cg.relativePath + "/x")
        try child.create()
        #expect(try AgentOptions.resolveRoots([child.relativePath, cg.path, "/" + cg.relativePath], mount: mount) == [cg.relativePath])
    }
}
