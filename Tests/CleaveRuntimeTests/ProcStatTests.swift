import Glibc
import Testing
import CleaveSystem

/// starttime read from /proc/<pid>/stat on its bytes.
@Suite struct ProcStatTests {
    /// The plain reading: split what follows the last ")" at spaces, take the 20th field.
    static func bySplitting(_ text: String) -> UInt64? {
        guard let paren = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: paren)...].split(separator: " ")
        guard fields.count > 19, fields[19].utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return UInt64(fields[19])
    }

    @Test func everyProcessOnTheMachine() throws {
        var compared = 0
        for pid in ProcFS.allPids() {
            guard let text = FileIO.read("/proc/\(pid)/stat") else { continue }   // gone meanwhile
            #expect(ProcFS.startTime(stat: text) == Self.bySplitting(text), "\(text)")
            #expect(ProcFS.startTime(stat: text) != nil)
            compared += 1
        }
        #expect(compared > 10)
    }

    @Test func awkwardCommsAndFields() {
        let tail = " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20 21\n"
        for comm in ["(sh)", "(a) b)", "(x ) 1 2 3)", "())", "(日本)", "( )"] {
            #expect(ProcFS.startTime(stat: "77 " + comm + tail) == 424242, "\(comm)")
        }
        #expect(ProcFS.startTime(stat: "77 (sh) S 1 2 3") == nil)                         // too short
        #expect(ProcFS.startTime(stat: "77 (sh)" + tail.replacingOccurrences("424242", "42x")) == nil)
        #expect(ProcFS.startTime(stat: "77 (sh)" + tail.replacingOccurrences("424242", "99999999999999999999")) == nil)
        #expect(ProcFS.startTime(stat: "no paren at all") == nil)
        #expect(ProcFS.startTime(stat: "") == nil)
    }
}
