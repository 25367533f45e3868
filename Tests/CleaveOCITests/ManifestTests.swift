import CleaveOCI
import Foundation
import Testing
import CleaveJSON

/// The files shipped under manifests/oci are what the code expects.
@Suite("shipped OCI manifests")
struct ManifestTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test("hooks.d/cleave.json is cleave's hook description for podman and CRI-O")
    func hooksD() throws {
        let file = Self.repository + "/manifests/oci/hooks.d/cleave.json"
        let description = try HookDescription.parse(try Data(contentsOf: URL(fileURLWithPath: file)), file: file)
        #expect(description == HookDescription.cleave())
    }

    @Test("the example bundle is a valid process workload for cleave run --bundle")
    func exampleBundle() throws {
        let spec = try BundleLoader.load(bundle: Self.repository + "/manifests/oci/example-bundle")
        #expect(spec.process?.args == ["cleave", "probe", "alloc", "256M"])
        #expect(CleaveAnnotations.teardownMode(in: spec.annotations) == .async)
    }
}
