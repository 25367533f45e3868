import Glibc
import Testing
import CleaveSystem

@Suite struct EnvironmentListTests {
    /// Each entry splits at its first "=" (as getenv reads it); one without "=" is left out;
    /// text that is not valid UTF-8 is repaired, not dropped.
    @Test func splitsAtTheFirstEquals() {
        let raw: [[UInt8]] = [
            Array("PATH=/usr/bin:/bin".utf8), Array("A=x=y=z".utf8), Array("EMPTY=".utf8), Array("=noname".utf8),
            Array("NOEQUALS".utf8), Array("NAME=日本語".utf8), Array("E\u{301}=accent".utf8), [0x42, 0x3d, 0xff, 0x41],
        ]
        let pointers = raw.map { bytes -> UnsafeMutablePointer<CChar>? in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
            p[bytes.count] = 0
            return p
        } + [nil]
        defer { pointers.forEach { $0?.deallocate() } }
        var array = pointers
        let list = array.withUnsafeMutableBufferPointer { EnvironmentList.parse($0.baseAddress!) }
        let expected: [(String, String)] = [
            ("PATH", "/usr/bin:/bin"), ("A", "x=y=z"), ("EMPTY", ""), ("", "noname"), ("NAME", "日本語"),
            ("E\u{301}", "accent"), ("B", "\u{FFFD}A"),
        ]
        #expect(list.entries.map(\.0) == expected.map(\.0))
        #expect(list.entries.map(\.1) == expected.map(\.1))
    }

    @Test func currentIsWhatGetenvSees() {
        let list = EnvironmentList.current()
        #expect(!list.entries.isEmpty)
        for (name, value) in list.entries where !name.isEmpty && list.entries.filter({ $0.0 == name }).count == 1 {
            #expect(getenv(name).map { String(cString: $0) } == value, "\(name)")
        }
    }
}
