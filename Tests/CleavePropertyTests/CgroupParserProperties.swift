import Foundation
import CleaveCgroups
import PropertyBased
import Testing

/// Every input to the cgroup parsers either parses or throws the parser's documented
/// error (ParseError, or CgroupError from validation): no trap, no other error.
@Suite("Properties: cgroup input parsers")
struct CgroupParserProperties {
    static let sizes = ["0", "1", "512", "512K", "64M", "1G", "2T", "1.5G", "64MiB", "10kb", " 7 ", "max", "16M"]

    @Test("ByteSize.parse and parseLimit: every mutated size parses or throws ParseError")
    func byteSizeNeverTraps() async {
        await checkMutations(of: Self.sizes) { text in
            expectParseErrorOrValue { try ByteSize.parse(text) }
            expectParseErrorOrValue { try ByteSize.parseLimit(text) }
        }
    }

    @Test("ByteSize round trip: N with a unit is N times the unit, or 'too large' past UInt64")
    func byteSizeRoundTrip() async {
        let units: [(String, UInt64)] = [("", 1), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40), ("MiB", 1 << 20), ("kb", 1 << 10)]
        await propertyCheck(count: Budget.iterations, input: Gen<UInt64>.value(), Gen<Int>.int(in: 0...units.count - 1)) { n, u in
            let (suffix, multiplier) = units[u]
            let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
            if overflow {
                #expect(throws: ParseError.self) { try ByteSize.parse("\(n)\(suffix)") }
            } else {
                #expect((try? ByteSize.parse("\(n)\(suffix)")) == product)
                #expect((try? ByteSize.parseLimit("\(n)\(suffix)")) == .value(product))
            }
        }
    }

    static let paths = ["cleave/x", "/cleave/run-1", "a/b/c", "", "/", "cleave", "x.y/z_1-2", "a/../b", "./a"]

    @Test("CgroupPath.validate: a result never has '.', '..' or empty components, NUL or newlines, and stays below the parent")
    func cgroupPathStaysBelow() async {
        await checkMutations(of: Self.paths) { text in
            do {
                let normalised = try CgroupPath.validate(text)
                let parts = normalised.split(separator: "/", omittingEmptySubsequences: false)
                #expect(normalised.isEmpty || parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." })
                #expect(!normalised.contains("\0") && !normalised.contains("\n") && !normalised.contains("\r"))
                #expect((try? CgroupPath.validate(normalised)) == normalised, "validation is idempotent")
                #expect((try? CgroupPath.validate("/" + normalised)) == normalised, "a leading / changes nothing")
            } catch {
                #expect(error is CgroupError, "\(type(of: error)): \(error)")
            }
            do {
                let below = try CgroupPath.validate(text, under: "cleave")
                #expect(below == "cleave" || below.hasPrefix("cleave/"), "\(below)")
            } catch {
                #expect(error is CgroupError)
            }
        }
    }

    static let mountinfo = """
        25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
        33 25 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
        34 33 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
        36 33 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
        40 30 0:35 / /mnt/with\\040space rw,relatime shared:20 - cgroup2 none rw
        """

    @Test("CgroupMount.parse: mutated mountinfo parses or throws ParseError; a parsed mount point is never empty")
    func mountinfoNeverTraps() async {
        await checkMutations(of: [Self.mountinfo]) { text in
            do {
                let mount = try CgroupMount.parse(mountinfo: text)
                #expect(!mount.mountPoint.isEmpty)
            } catch {
                #expect(error is ParseError, "\(type(of: error)): \(error)")
            }
        }
    }

    @Test("CgroupMount.parse round trip: a mount point with blanks, escaped as the kernel does, comes back unescaped")
    func mountinfoEscapes() async {
        let pieces = Gen<Int>.int(in: 0...5).array(of: 1...12)
        await propertyCheck(count: Budget.iterations, input: pieces) { picks in
            let alphabet = ["a", "b", "Z", "1", " ", "\t", "\\", "-", "é"]
            let name = "/mnt/" + picks.map { alphabet[$0 % alphabet.count] }.joined()
            let escaped = name.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040")
                .replacingOccurrences(of: "\t", with: "\\011")
            let line = "40 30 0:35 / \(escaped) rw,relatime shared:20 - cgroup2 none rw"
            #expect((try? CgroupMount.parse(mountinfo: line).mountPoint) == name)
        }
    }

    static let statFiles = [
        "anon 1052672\nfile 0\nkernel 12288\ninactive_file 0\nactive_anon 1048576\n",
        "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
        "populated 1\nfrozen 0\n",
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    ]

    @Test("flat-keyed stat files (memory.stat, cpu.stat, cgroup.events): parse or ParseError; singleValue and pids too")
    func statParsersNeverTrap() async {
        await checkMutations(of: Self.statFiles) { text in
            expectParseErrorOrValue { try StatParsers.flatKeyed(text) }
            expectParseErrorOrValue { try StatParsers.singleValue(text) }
            expectParseErrorOrValue { try StatParsers.pids(text) }
        }
    }

    @Test("flatKeyedValue is flatKeyed(text)[key] on every mutated stat file: the same value, or the same error")
    func flatKeyedValueAgrees() async {
        await checkMutations(of: Self.statFiles) { text in
            let keys = ["populated", "frozen", "oom_kill", "oom", "anon", "usage_usec", "", "x"]
                + text.split(whereSeparator: { $0 == "\n" || $0 == " " }).prefix(4).map(String.init)
            for key in keys {
                let whole = Result { try StatParsers.flatKeyed(text)[key] }
                let one = Result { try StatParsers.flatKeyedValue(key, in: text) }
                switch (whole, one) {
                case (.success(let a), .success(let b)): #expect(a == b, "\(key) in \(Array(text.utf8))")
                case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)", "\(key) in \(Array(text.utf8))")
                default: Issue.record("\(key) in \(Array(text.utf8)): \(whole) against \(one)")
                }
            }
        }
    }

    @Test("flat-keyed round trip: 'key value' lines written from a dictionary parse back to it; pids and single values too")
    func statParsersRoundTrip() async {
        let keys = Gen<Character>.lowercaseLetter.string(of: 1...12)
        await propertyCheck(count: Budget.iterations, input: keys.array(of: 0...20), Gen<UInt64>.value().array(of: 20),
                            Gen<Int32>.int32(in: 1...Int32.max).array(of: 0...50)) { names, values, pids in
            var expected = [String: UInt64]()
            for (k, v) in zip(names, values) { expected[k] = v }
            let text = expected.map { "\($0.key) \($0.value)\n" }.joined()
            #expect((try? StatParsers.flatKeyed(text)) == expected)
            #expect((try? StatParsers.pids(pids.map(String.init).joined(separator: "\n"))) == pids)
            if let v = values.first { #expect((try? StatParsers.singleValue("\(v)\n")) == .value(v)) }
            #expect((try? StatParsers.singleValue("max\n")) == .max)
        }
    }
}

/// The call returns or throws ParseError; any other error is a finding.
func expectParseErrorOrValue<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) {
    do { _ = try body() } catch {
        #expect(error is ParseError, "\(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

/// Inputs the properties found, kept as plain examples.
@Suite("Properties: regressions")
struct PropertyRegressions {
    @Test("CgroupPath.validate works on bytes: CR LF and a '/' or '..' hidden by a combining mark are caught", arguments: [
        "cle\r\nve/x",          // "\r\n" is one Character: contains("\n") and contains("\r") both missed it
        "../\u{301}escape",     // "/\u{301}" is one Character: split("/") saw one component, the kernel sees ".."
        "cleave/../\u{301}x",
    ])
    func combiningMarks(path: String) {
        #expect(throws: CgroupError.self) { try CgroupPath.validate(path) }
    }

    @Test("a parent is matched byte for byte, not by canonical equivalence")
    func parentByBytes() {
        #expect(throws: CgroupError.self) { try CgroupPath.validate("cleave\u{301}/x", under: "cleav\u{e9}") }
        #expect((try? CgroupPath.validate("cleav\u{e9}/x", under: "cleav\u{e9}")) == "cleav\u{e9}/x")
    }

    @Test("a unified key with a '/' hidden by a combining mark, or a NUL in its value, is refused")
    func unifiedKeyBytes() {
        #expect(throws: ParseError.self) { try ResourceLimits(unified: ["memory.max/\u{301}x": "1"]).validate() }
        #expect(throws: ParseError.self) { try ResourceLimits(unified: ["memory.max": "1\0\u{301}"]).validate() }
    }
}
