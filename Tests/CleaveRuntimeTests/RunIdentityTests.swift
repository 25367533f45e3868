import Testing
@testable import CleaveRuntime

/// SafeName's byte rules give what its Character rules give, for any text; a run's name and id.
@Suite struct RunIdentityTests {
    static func agree(_ text: String) {
        for dots in [false, true] {
            for limit in [64, 3] {
                #expect(SafeName.make(text, limit: limit, droppingLeadingDots: dots)
                    == SafeName.makeByCharacters(text, limit: limit, droppingLeadingDots: dots), "\(Array(text.utf8)) \(dots) \(limit)")
            }
        }
    }

    static let ascii = (0..<128).map { String(UnicodeScalar(UInt8($0))) }

    @Test func everyASCIICharacterAsTheCharacterRulesSay() {
        for c in Self.ascii {
            for text in [c, "a" + c, c + "b", "." + c, c + c + "x", String(repeating: c, count: 70)] {
                Self.agree(text)
            }
        }
    }

    @Test func randomASCIITextsAsTheCharacterRulesSay() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcXYZ019-_./ \t\r\n=$é日".unicodeScalars)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...80, using: &generator)
            var text = ""
            for _ in 0..<length { text.unicodeScalars.append(alphabet.randomElement(using: &generator)!) }
            Self.agree(text)
            let byCharacters = text.split(separator: "/").last.map(String.init) ?? text
            #expect(RunIdentity.lastComponent(text) == byCharacters, "\(Array(text.utf8))")
        }
    }

    @Test func namesFromCommandsAndFlags() {
        #expect(RunIdentity.cgroupName(RunIdentity.lastComponent("/usr/bin/redis-server")) == "redis-server")
        #expect(RunIdentity.cgroupName(RunIdentity.lastComponent("/")) == "_")
        #expect(RunIdentity.cgroupName("...") == "workload")
        #expect(RunIdentity.cgroupName("..a.b") == "a.b")
        #expect(RunIdentity.cgroupName("web server") == "web_server")
        #expect(RunIdentity.cgroupName("café") == "café")
        #expect(RunIdentity.cgroupName(String(repeating: "x", count: 100)).utf8.count == 64)
        #expect(RunState.recordPath(id: "../a b", supervisorPid: 7, directory: "/d") == "/d/.._a_b-7.json")
        #expect(RunState.recordPath(id: String(repeating: "é", count: 70), supervisorPid: 7, directory: "/d")
            == "/d/" + String(repeating: "é", count: 64) + "-7.json")
    }

    @Test func randomIDsAre32HexDigitsAndDiffer() {
        let ids = (0..<200).map { _ in RunIdentity.randomID() }
        for id in ids {
            #expect(id.utf8.count == 32)
            #expect(id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        }
        #expect(Set(ids).count == ids.count)
        // Every digit position takes more than one value: no nibble is dropped or fixed.
        for position in 0..<32 {
            #expect(Set(ids.map { Array($0.utf8)[position] }).count > 1, "position \(position)")
        }
    }
}
