@testable import CleaveCgroups
import Foundation
import Testing

/// Stats read from sample files laid out like a cgroup directory.
@Suite("statistics parsing")
struct StatsParsingTests {
    static func fakeCgroup(_ files: [String: String]) throws -> (Cgroup, String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cleave-stats-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/job", withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: root + "/job/" + name, atomically: true, encoding: .utf8) }
        return (try Cgroup(mount: CgroupMount(mountPoint: root, isUnified: true), path: "job"), root)
    }

    @Test func fullStats() throws {
        let (cgroup, root) = try Self.fakeCgroup([
            "memory.current": "268435456\n", "memory.peak": "300000000\n",
            "memory.stat": "anon 260000000\nfile 8000000\nkernel 100\ninactive_file 5000000\nactive_file 3000000\n",
            "memory.events": "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
            "cpu.stat": "usage_usec 1500\nuser_usec 500\nsystem_usec 1000\nnr_periods 0\n",
            "pids.current": "3\n", "cgroup.procs": "10\n11\n", "cgroup.events": "populated 1\nfrozen 0\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let s = try cgroup.stats()
        #expect(s.memoryCurrent == 268_435_456)
        #expect(s.memoryPeak == 300_000_000)
        #expect(s.anon == 260_000_000 && s.file == 8_000_000 && s.inactiveFile == 5_000_000)
        #expect(s.oom == 1 && s.oomKill == 1)
        #expect(s.cpuUsageUsec == 1500 && s.cpuUserUsec == 500 && s.cpuSystemUsec == 1000)
        #expect(s.pidsCurrent == 3)
        #expect(s.processes == [10, 11])
        #expect(s.populated == true)
        // Compared as UInt64? on both sides: with the literal arithmetic promoted inside #expect,
        // Swift 6.3.1's thunk copies 9 bytes out of an 8-byte slot (ASan: stack-buffer-overflow).
        let expected: UInt64? = 268_435_456 - 5_000_000
        #expect(s.workingSet == expected)
    }

    @Test("files of disabled controllers are absent, not zero")
    func missingFilesAreNil() throws {
        let (cgroup, root) = try Self.fakeCgroup(["cgroup.procs": "", "cgroup.events": "populated 0\nfrozen 0\n",
                                                   "cpu.stat": "usage_usec 7\nuser_usec 3\nsystem_usec 4\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let s = try cgroup.stats()
        #expect(s.memoryCurrent == nil && s.memoryPeak == nil && s.anon == nil && s.oomKill == nil && s.pidsCurrent == nil)
        #expect(s.workingSet == nil)
        #expect(s.cpuSystemUsec == 4)
        #expect(s.populated == false)
        #expect(s.processes.isEmpty)
    }

    @Test func workingSetFloorsAtZero() {
        var s = CgroupStats()
        s.memoryCurrent = 100
        s.inactiveFile = 500
        #expect(s.workingSet == 0)
    }

    @Test("malformed contents name the file", arguments: [
        ("memory.current", "lots\n"), ("cpu.stat", "usage_usec\n"), ("memory.stat", "anon -5\n"), ("cgroup.procs", "12\nabc\n"),
    ])
    func malformed(file: String, text: String) throws {
        var files = ["cgroup.procs": "", "cgroup.events": "populated 0\n"]
        files[file] = text
        let (cgroup, root) = try Self.fakeCgroup(files)
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            _ = try cgroup.stats()
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains(file), "\(error)")
        }
    }

    @Test func flatKeyedAndSingleValue() throws {
        #expect(try StatParsers.flatKeyed("populated 1\nfrozen 0\n") == ["populated": 1, "frozen": 0])
        #expect(try StatParsers.singleValue("max\n") == .max)
        #expect(try StatParsers.singleValue("42\n") == .value(42))
        #expect(throws: ParseError.self) { try StatParsers.singleValue("") }
        #expect(throws: ParseError.self) { try StatParsers.pids("0\n") }
        // Digits only: Swift's integer parsers take a leading '+', which the kernel never writes
        // (found by hack/fuzz.sh stats).
        #expect(throws: ParseError.self) { try StatParsers.singleValue("+1") }
        #expect(throws: ParseError.self) { try StatParsers.flatKeyed("anon +5\n") }
        #expect(throws: ParseError.self) { try StatParsers.pids("+42\n") }
    }
}
