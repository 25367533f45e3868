import Foundation
import Testing
@testable import CleaveOCI
import CleaveJSON

@Suite struct InvalidJSONTests {
    @Test func missingCommaGivesLineAndColumn() throws {
        // The comma after ["sh"] is missing: the parser meets "cwd" at line 4, column 20.
        let json = """
        {
          "ociVersion": "1.0.2",
          "process": {
            "args": ["sh"] "cwd": "/",
            "user": {"uid": 0, "gid": 0}
          }
        }
        """
        let error = try #require(decodeError(json))
        #expect(error.line == 4)
        #expect(error.column == 20)
        #expect(error.field == nil)
        #expect(error.description ==
            #"/b/config.json: line 4, column 20: invalid JSON: expected ',' or '}' after the value of "args", found '"'"#)
    }

    @Test func missingCommaAtEndOfLineIsReportedAtTheNextToken() throws {
        let json = "{\n  \"ociVersion\": \"1.0.2\"\n  \"process\": {}\n}\n"
        let error = try #require(decodeError(json))
        #expect(error.description.hasPrefix("/b/config.json: line 3, column 3: invalid JSON: "))
    }

    @Test func columnsCountCharactersNotBytes() throws {
        // "é" is two bytes in UTF-8 but one column.
        let json = "{\"hostname\": \"é\" x}"
        let error = try #require(decodeError(json))
        #expect(error.line == 1)
        #expect(error.column == 18)
    }

    @Test(arguments: [
        ("", "line 1, column 1: invalid JSON: unexpected end of input, expected a value"),
        ("{\"a\": 1,}", "line 1, column 9: invalid JSON: expected a string key after ',', found '}'"),
        ("[1, 2,]", "line 1, column 7: invalid JSON: expected a value after ',', found ']' (trailing comma)"),
        ("{\"a\": \"abc", "line 1, column 7: invalid JSON: unterminated string"),
        ("{\"a\": tru}", "line 1, column 7: invalid JSON: invalid literal (expected 'true')"),
        ("{\"a\": 01}", "line 1, column 7: invalid JSON: invalid number (leading zero)"),
        ("{\"a\": 1} x", "line 1, column 10: invalid JSON: unexpected 'x' after the end of the JSON value"),
        ("{\"a\": \"\\q\"}", "line 1, column 9: invalid JSON: invalid escape '\\q' in a string"),
        ("{\"a\"\n:\n\n  @}", "line 4, column 3: invalid JSON: unexpected '@', expected a value"),
    ])
    func syntaxErrors(json: String, expected: String) throws {
        let error = try #require(decodeError(json))
        #expect(error.description == "/b/config.json: " + expected)
    }

    @Test func deepNestingIsAnErrorNotACrash() throws {
        let json = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let error = try #require(decodeError(json))
        #expect(error.message == "invalid JSON: nested deeper than 100 levels")
    }

    @Test func invalidUTF8InAStringIsReported() throws {
        var bytes = Array("{\"hostname\": \"".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\"}".utf8)
        let error = #expect(throws: OCIError.self) { try BundleLoader.decode(Data(bytes), file: "/b/config.json") }
        #expect(error?.description == "/b/config.json: line 1, column 14: invalid JSON: string is not valid UTF-8")
    }

    @Test func topLevelMustBeAnObject() throws {
        let error = try #require(decodeError("[1]"))
        #expect(error.description == "/b/config.json: line 1, column 1: top level: expected an object, found an array")
    }
}

@Suite struct TypeErrorTests {
    @Test func wrongTypeAtMemoryLimit() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""linux": {"resources": {"memory": {"limit": "1G"}}}"#)))
        #expect(error.field == "linux.resources.memory.limit")
        #expect(error.description == "/b/config.json: linux.resources.memory.limit: expected an integer, found a string")
        #expect(error.line == 1 && error.column != nil)
    }

    @Test func wrongTypeInArgs() throws {
        let process = #"{"user": {"uid": 0, "gid": 0}, "args": ["sh", 2], "cwd": "/"}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.description == "/b/config.json: process.args[1]: expected a string, found a number")
    }

    @Test func integerOutOfRangeNamesTheRange() throws {
        let process = #"{"user": {"uid": -1, "gid": 0}, "args": ["sh"], "cwd": "/"}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.description == "/b/config.json: process.user.uid: expected an integer in 0...4294967295, found -1")
    }

    @Test func fractionWhereAnIntegerBelongs() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""linux": {"resources": {"pids": {"limit": 1.5}}}"#)))
        #expect(error.description == "/b/config.json: linux.resources.pids.limit: expected an integer, found 1.5")
    }

    @Test func missingRequiredField() throws {
        let process = #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"]}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.description == "/b/config.json: process.cwd: missing (required)")
    }

    @Test func nullForARequiredField() throws {
        let process = #"{"user": {"uid": 0, "gid": null}, "args": ["sh"], "cwd": "/"}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.description == "/b/config.json: process.user.gid: expected an integer, found null")
    }

    @Test func objectExpected() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""linux": {"resources": {"cpu": [1]}}"#)))
        #expect(error.description == "/b/config.json: linux.resources.cpu: expected an object, found an array")
    }

    @Test func dottedMapKeysAreQuoted() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""annotations": {"io.cleave.teardown": true}"#)))
        #expect(error.description == #"/b/config.json: annotations["io.cleave.teardown"]: expected a string, found a boolean"#)
    }
}

@Suite struct ValidationTests {
    @Test func missingArgs() throws {
        let process = #"{"user": {"uid": 0, "gid": 0}, "cwd": "/"}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.description == "/b/config.json: process.args: missing (a process workload needs at least one argument)")
    }

    @Test func emptyArgs() throws {
        let process = #"{"user": {"uid": 0, "gid": 0}, "args": [], "cwd": "/"}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.description == "/b/config.json: process.args: empty (a process workload needs at least one argument)")
    }

    @Test func missingProcess() throws {
        let error = try #require(decodeError(#"{"ociVersion": "1.0.2"}"#))
        #expect(error.field == "process")
        #expect(error.message.hasPrefix("missing"))
    }

    @Test func unsupportedVersion() throws {
        let error = try #require(decodeError(minimalConfig(ociVersion: "0.9.0")))
        #expect(error.field == "ociVersion")
        #expect(error.description == "/b/config.json: ociVersion '0.9.0' is not supported (cleave reads 1.0.0 to 1.2.x)")
    }

    @Test(arguments: ["2.0.0", "1.3.0", "0.5.0-dev"])
    func otherUnsupportedVersions(version: String) throws {
        let error = try #require(decodeError(minimalConfig(ociVersion: version)))
        #expect(error.description == "/b/config.json: ociVersion '\(version)' is not supported (cleave reads 1.0.0 to 1.2.x)")
    }

    @Test(arguments: ["1.0", "v1.0.0", "1.0.0-", "", "1.x.0"])
    func malformedVersions(version: String) throws {
        let error = try #require(decodeError(minimalConfig(ociVersion: version)))
        #expect(error.description == "/b/config.json: ociVersion '\(version)' is not a SemVer version (cleave reads 1.0.0 to 1.2.x)")
    }

    @Test func namespacesAreRefused() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}"#)))
        #expect(error.field == "linux.namespaces")
        #expect(error.description == "/b/config.json: linux.namespaces: namespaces (pid, mount) are not supported: "
            + "cleave runs process workloads; run containers with crun or runc and add cleave's hook (cleave hook, manifests/oci/hooks.d)")
    }

    @Test func rootOtherThanSlashIsRefused() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""root": {"path": "rootfs", "readonly": true}"#)))
        #expect(error.field == "root.path")
        #expect(error.message.contains("'rootfs'"))
        #expect(error.message.contains("run containers with crun or runc"))
    }

    @Test(arguments: ["/", "//", "/."])
    func hostRootIsAccepted(path: String) throws {
        _ = try BundleLoader.decode(Data(minimalConfig(extra: #""root": {"path": "\#(path)"}"#).utf8), file: "x")
    }

    @Test func readOnlyHostRootIsRefused() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""root": {"path": "/", "readonly": true}"#)))
        #expect(error.field == "root.readonly")
        #expect(error.message.contains("cleave hook"))
    }

    @Test func mountsAreRefused() throws {
        let mounts = #""mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}]"#
        let error = try #require(decodeError(minimalConfig(extra: mounts)))
        #expect(error.field == "mounts")
        #expect(error.message.hasPrefix("1 mount(s) (/proc) are not supported: cleave runs process workloads"))
        // An empty list, as `runc spec` users may leave behind, is fine.
        _ = try BundleLoader.decode(Data(minimalConfig(extra: #""mounts": []"#).utf8), file: "x")
    }

    @Test func idMappingsAreRefused() throws {
        let mapping = #""linux": {"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}"#
        let error = try #require(decodeError(minimalConfig(extra: mapping)))
        #expect(error.field == "linux.uidMappings")
    }

    @Test func unknownCapability() throws {
        let process = #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "capabilities": {"effective": ["CAP_KILL", "CAP_FLY"]}}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.field == "process.capabilities.effective[1]")
        #expect(error.message.hasPrefix("unknown capability 'CAP_FLY'"))
    }

    @Test func unknownRlimit() throws {
        let process = #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_FILES", "hard": 1, "soft": 1}]}"#
        let error = try #require(decodeError(minimalConfig(process: process)))
        #expect(error.field == "process.rlimits[0].type")
        #expect(error.message.hasPrefix("unknown rlimit 'RLIMIT_FILES'"))
    }

    @Test func duplicateAndInvertedRlimits() throws {
        let process = #"""
        {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "rlimits": [
          {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
          {"type": "RLIMIT_NOFILE", "hard": 10, "soft": 20}]}
        """#
        let spec = try BundleLoader.decodeUnvalidated(Data(minimalConfig(process: process).utf8), file: "/b/config.json")
        let problems = SpecValidation.problems(spec, file: "/b/config.json").map(\.description)
        #expect(problems == [
            "/b/config.json: process.rlimits[1].type: RLIMIT_NOFILE is set twice (also process.rlimits[0])",
            "/b/config.json: process.rlimits[1]: soft limit 20 is above the hard limit 10",
        ])
    }

    @Test func badTeardownAnnotation() throws {
        let error = try #require(decodeError(minimalConfig(extra: #""annotations": {"io.cleave.teardown": "later"}"#)))
        #expect(error.description ==
            #"/b/config.json: annotations["io.cleave.teardown"]: 'later' is not a teardown mode (expected 'async', 'sync' or 'inject')"#)
    }

    @Test func relativeCwdAndHookProblems() throws {
        let process = #"{"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "tmp"}"#
        let hooks = #""hooks": {"poststop": [{"path": "cleave"}, {"path": "/bin/true", "timeout": 0}]}"#
        let spec = try BundleLoader.decodeUnvalidated(Data(minimalConfig(process: process, extra: hooks).utf8), file: "c")
        let fields = SpecValidation.problems(spec, file: "c").compactMap(\.field)
        #expect(fields == ["process.cwd", "hooks.poststop[0].path", "hooks.poststop[1].timeout"])
    }

    @Test func resourceProblems() throws {
        let linux = #"""
        "linux": {"cgroupsPath": "/cleave/../../etc", "resources": {
          "memory": {"limit": -2, "swappiness": 101}, "cpu": {"quota": -5}, "pids": {"limit": -3},
          "unified": {"memory.max": "1G", "../memory.max": "1", "cpu": "x"}}}
        """#
        let spec = try BundleLoader.decodeUnvalidated(Data(minimalConfig(extra: linux).utf8), file: "c")
        let fields = SpecValidation.problems(spec, file: "c").compactMap(\.field)
        #expect(fields == [
            "linux.cgroupsPath",
            "linux.resources.memory.limit",
            "linux.resources.memory.swappiness",
            "linux.resources.cpu.quota",
            "linux.resources.pids.limit",
            #"linux.resources.unified["../memory.max"]"#,
            "linux.resources.unified.cpu",
        ])
    }

    @Test func everyProblemIsCollected() throws {
        let json = #"""
        {"ociVersion": "3.0.0", "root": {"path": "/srv/rootfs"},
         "mounts": [{"destination": "/proc"}], "linux": {"namespaces": [{"type": "network"}]}}
        """#
        let spec = try BundleLoader.decodeUnvalidated(Data(json.utf8), file: "c")
        let fields = SpecValidation.problems(spec, file: "c").compactMap(\.field)
        #expect(fields == ["ociVersion", "linux.namespaces", "root.path", "mounts", "process"])
        #expect(throws: OCIError.self) { try SpecValidation.validate(spec, file: "c") }
    }
}

@Suite struct BundleFileTests {
    @Test func missingConfigNamesThePath() throws {
        try withTemporaryDirectory { dir in
            let error = #expect(throws: OCIError.self) { try BundleLoader.load(bundle: dir) }
            #expect(error?.file == dir + "/config.json")
            #expect(error?.description == dir + "/config.json: no such file (an OCI bundle is a directory holding config.json)")
        }
    }

    @Test func missingBundleDirectory() throws {
        let error = #expect(throws: OCIError.self) { try BundleLoader.load(bundle: "/nonexistent/cleave-bundle/") }
        #expect(error?.file == "/nonexistent/cleave-bundle/config.json")
    }

    @Test func configThatIsADirectory() throws {
        try withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/config.json", withIntermediateDirectories: false)
            let error = #expect(throws: OCIError.self) { try BundleLoader.load(bundle: dir) }
            #expect(error?.message == "is a directory, not a file")
        }
    }

    @Test func errorsFromAFileNameTheFile() throws {
        try withTemporaryDirectory { dir in
            try Data("{\n".utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
            let error = #expect(throws: OCIError.self) { try BundleLoader.load(bundle: dir) }
            #expect(error?.description == dir + "/config.json: line 2, column 1: invalid JSON: expected a string key or '}', found end of input")
        }
    }
}

@Suite struct RobustnessTests {
    /// Every truncation and a sweep of single-byte corruptions of a real config either load
    /// or throw an OCIError; nothing traps and nothing else is thrown.
    @Test func truncatedAndCorruptedConfigsOnlyThrowOCIError() throws {
        let original = Array(runcStyleConfig.utf8)
        var inputs: [[UInt8]] = (0..<original.count).map { Array(original[0..<$0]) }
        let replacements: [UInt8] = [0x00, 0x22, 0x2C, 0x7B, 0x5D, 0x31, 0x2D, 0xFF]
        for (i, offset) in stride(from: 0, to: original.count, by: 7).enumerated() {
            var corrupted = original
            corrupted[offset] = replacements[i % replacements.count]
            inputs.append(corrupted)
        }
        var loaded = 0
        for input in inputs {
            do {
                _ = try BundleLoader.decode(Data(input), file: "c")
                loaded += 1
            } catch is OCIError {
            } catch {
                Issue.record("unexpected \(type(of: error)): \(error)")
            }
        }
        #expect(loaded < inputs.count)
    }
}
