import CleaveSystem
import Foundation
import Testing
@testable import CleaveOCI
import CleaveJSON

/// A NUL byte ends a C string: "tr\u0000ue" would run tr. Every string that reaches execve or
/// chdir is refused with its field named; ids and paths echoed in messages are escaped.
@Suite struct NULByteTests {
    @Test(arguments: [
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["tr\u0000ue"], "cwd": "/"}"#, "", "process.args[0]"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "x\u0000"], "cwd": "/"}"#, "", "process.args[2]"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["true"], "env": ["A=1", "B=\u0000"], "cwd": "/"}"#, "", "process.env[1]"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "/tmp\u0000/x"}"#, "", "process.cwd"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "/"}"#, #""hooks": {"prestart": [{"path": "/bin/true\u0000x"}]}"#, "hooks.prestart[0].path"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "/"}"#, #""hooks": {"poststop": [{"path": "/bin/sh", "args": ["sh", "\u0000"]}]}"#, "hooks.poststop[0].args[1]"),
        (#"{"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "/"}"#, #""hooks": {"poststart": [{"path": "/bin/sh", "env": ["X=\u0000"]}]}"#, "hooks.poststart[0].env[0]"),
    ])
    func refusedWithField(process: String, extra: String, field: String) throws {
        let error = try #require(decodeError(minimalConfig(process: process, extra: extra)))
        #expect(error.field == field, "\(error)")
        #expect(error.description.contains("NUL byte"), "\(error)")
        #expect(!error.description.contains("\0"))
    }

    @Test func echoedValuesAreEscaped() throws {
        let error = try #require(decodeError(minimalConfig(process: #"{"user": {"uid": 0, "gid": 0}, "args": ["true"], "cwd": "rel\nFAKE LINE\u001b[2J"}"#)))
        #expect(error.field == "process.cwd")
        #expect(!error.description.contains("\n") && !error.description.contains("\u{1b}"), "\(error)")
        #expect(error.description.contains(#"rel\nFAKE LINE\x1b[2J"#), "\(error)")
    }

    @Test func escapedText() {
        #expect(Escaped.text("a\nb\tc\r\u{0}\u{7f}\u{9b}é") == #"a\nb\tc\r\x00\x7f\x9bé"#)
    }
}

@Suite struct HookTimeoutRangeTests {
    @Test(arguments: [9_223_372_036_854_775_807, 31_536_001])
    func tooLong(timeout: Int) throws {
        let hooks = #""hooks": {"poststart": [{"path": "/bin/true", "timeout": \#(timeout)}]}"#
        let error = try #require(decodeError(minimalConfig(extra: hooks)))
        #expect(error.field == "hooks.poststart[0].timeout")
        #expect(error.description.contains("too long"), "\(error)")
    }

    @Test func aYearIsAccepted() throws {
        let hooks = #""hooks": {"poststart": [{"path": "/bin/true", "timeout": 31536000}]}"#
        _ = try BundleLoader.decode(Data(minimalConfig(extra: hooks).utf8), file: "/b/config.json")
    }
}
