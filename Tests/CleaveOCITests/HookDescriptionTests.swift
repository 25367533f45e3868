import Foundation
import Testing
@testable import CleaveOCI
import CleaveJSON

@Suite struct HookDescriptionTests {
    @Test func cleaveHookRoundTrips() throws {
        let description = HookDescription.cleave()
        #expect(description.version == "1.0.0")
        #expect(description.hook == Hook(path: "/usr/local/bin/cleave", args: ["cleave", "hook"]))
        #expect(description.when == HookDescription.When(always: true))
        #expect(description.stages == ["poststart", "poststop"])
        let text = description.json()
        #expect(text.hasSuffix("}\n"))
        #expect(text.contains(#""path" : "/usr/local/bin/cleave""#))
        #expect(try HookDescription.parse(Data(text.utf8), file: "cleave.json") == description)
    }

    @Test func annotatedVariant() throws {
        let description = HookDescription.cleave(path: "/opt/cleave/bin/cleave", when: .annotated, timeout: 30)
        let again = try HookDescription.parse(Data(description.json().utf8), file: "cleave.json")
        #expect(again.when.annotations == ["^io\\.cleave\\.teardown$": "^(async|sync|inject)$"])
        #expect(again.hook.timeout == 30)
        #expect(again.hook.path == "/opt/cleave/bin/cleave")
    }

    /// The shape of podman's documented example (oci-hooks(5)).
    @Test func podmanExampleParses() throws {
        let json = #"""
        {
          "version": "1.0.0",
          "hook": {
            "path": "/usr/sbin/nvidia-container-runtime-hook",
            "args": ["nvidia-container-runtime-hook", "prestart"],
            "env": ["NVIDIA_REQUIRE_CUDA=cuda>=9.1"]
          },
          "when": {
            "annotations": {"^com\\.example\\.department$": ".*fluid-dynamics$"}
          },
          "stages": ["prestart"]
        }
        """#
        let description = try HookDescription.parse(Data(json.utf8), file: "nvidia.json")
        #expect(description.hook.env == ["NVIDIA_REQUIRE_CUDA=cuda>=9.1"])
        #expect(description.when.annotations == ["^com\\.example\\.department$": ".*fluid-dynamics$"])
        #expect(description.stages == ["prestart"])
    }

    @Test(arguments: [
        (#"{"version": "0.1.0", "hook": {"path": "/x"}, "when": {"always": true}, "stages": ["poststop"]}"#,
         "h.json: version: '0.1.0' is not supported (only the 1.0.0 schema)"),
        (#"{"version": "1.0.0", "hook": {"path": "x"}, "when": {"always": true}, "stages": ["poststop"]}"#,
         "h.json: hook.path: 'x' is not an absolute path"),
        (#"{"version": "1.0.0", "hook": {"path": "/x"}, "when": {}, "stages": ["poststop"]}"#,
         #"h.json: when: no condition set (use "always": true to match every container)"#),
        (#"{"version": "1.0.0", "hook": {"path": "/x"}, "when": {"always": true}, "stages": ["poststop", "afterlife"]}"#,
         "h.json: stages[1]: unknown stage 'afterlife' (expected one of prestart, createRuntime, createContainer, startContainer, poststart, poststop)"),
        (#"{"version": "1.0.0", "hook": "/x", "when": {"always": true}, "stages": []}"#,
         "h.json: hook: expected an object, found a string"),
    ])
    func badDescriptions(json: String, expected: String) throws {
        let error = #expect(throws: OCIError.self) { try HookDescription.parse(Data(json.utf8), file: "h.json") }
        #expect(error?.description == expected)
    }
}
