import FoundationEssentials
import Testing
@testable import CleaveRuntime

/// The record's hand-written JSON against JSONEncoder's, which it replaces on the spawn path:
/// managers and `cleave ps` read these files, so not a byte may change.
@Suite("run record JSON")
struct RunStateJSONTests {
    private static func encoderText(_ state: RunState) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(state), as: UTF8.self)
    }

    private static var everyField: RunState {
        var state = RunState(id: "0893c6dbc11ae5e270e3c4c36256d9f0", name: "redis-server", cgroup: "/sys/fs/cgroup/cleave/redis-0893c6db",
                             teardown: .async, status: .stopped, createdAt: 1796478611.3425958)
        state.pid = 4406
        state.helperPids = [4407, 4410]
        state.exitCode = 137
        state.signal = 9
        state.oomKilled = true
        state.startedAt = 1796478611.3438222
        state.exitedAt = 1796478612
        state.cgroupRemovedAt = 1796478612.5
        state.teardownTimedOut = false
        state.supervisorPid = 4405
        state.supervisorStartTime = 945061
        state.pidStartTime = UInt64.max
        state.keepCgroup = true
        return state
    }

    @Test("every field set, none set, and each status and mode: the same bytes as JSONEncoder")
    func sameAsEncoder() throws {
        let full = Self.everyField
        #expect(full.jsonText() == (try Self.encoderText(full)))
        let bare = RunState(id: "", name: "", cgroup: "", teardown: .sync, status: .created, createdAt: 0)
        #expect(bare.jsonText() == (try Self.encoderText(bare)))
        for status in [RunState.Status.created, .running, .stopped, .removed] {
            for mode in TeardownMode.allCases {
                var state = full
                state.status = status
                state.teardown = mode
                state.helperPids = []
                state.pid = -1
                #expect(state.jsonText() == (try Self.encoderText(state)))
            }
        }
    }

    @Test("strings with every ASCII character, slashes and non-ASCII text: escaped as JSONEncoder escapes them")
    func strings() throws {
        var state = Self.everyField
        state.cgroup = String((0..<128).map { Character(Unicode.Scalar(UInt8($0))) })
        state.name = "é/ü \u{2028}\u{2029} 名前 🚀 \u{7f}\u{85}\u{9f}"
        state.id = "\\\"/"
        #expect(state.jsonText() == (try Self.encoderText(state)))
    }

    @Test("times: whole, fractional, tiny, huge and negative values write as JSONEncoder writes them")
    func numbers() throws {
        for value in [0, 1, -1, 0.1, 1e-7, 123456789.123456789, 1796478611.3425958, 1e15, 1e16, 1e17, 1.5e300, -2.25, Double.leastNonzeroMagnitude] {
            var state = Self.everyField
            state.createdAt = value
            state.exitedAt = value
            #expect(state.jsonText() == (try Self.encoderText(state)), "value \(value)")
        }
    }

    @Test("what it writes reads back as the same record")
    func roundTrip() throws {
        let text = Self.everyField.jsonText()
        let decoded = try JSONDecoder().decode(RunState.self, from: Data(text.utf8))
        #expect(decoded.jsonText() == text)
        #expect(decoded.helperPids == [4407, 4410] && decoded.pidStartTime == UInt64.max && decoded.keepCgroup == true)
    }
}
