import Foundation
import PackagePlugin

/// Builds libcleave-teardown.so with cc and embeds it in the CleaveTeardownImage target, so
/// that `swift build` alone gives a cleave whose async teardown works (hack/build.sh still
/// installs the library next to the binaries for releases).
@main
struct EmbedTeardownLibrary: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let root = context.package.directoryURL
        let script = root.appending(path: "hack/embed-teardown-library.sh")
        var inputs = [script, root.appending(path: "hack/compile-teardown-library.sh")]
        for dir in ["Sources/CCleaveTeardown", "Sources/CCleaveTeardown/include", "Sources/CCleaveContract/include", "Sources/CCleavePreload"] {
            let url = root.appending(path: dir)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            inputs += names.filter { $0.hasSuffix(".c") || $0.hasSuffix(".h") }.sorted().map { url.appending(path: $0) }
        }
        let work = context.pluginWorkDirectoryURL
        let output = work.appending(path: "EmbeddedTeardownLibrary+Bytes.swift")
        // The helper's body as one position-independent block, for `cleave attach` (injection).
        let blockScript = root.appending(path: "hack/embed-inject-blob.sh")
        let blockOutput = work.appending(path: "InjectedHelperBlock+Bytes.swift")
        return [.buildCommand(
            displayName: "Embedding libcleave-teardown.so",
            executable: URL(fileURLWithPath: "/bin/bash"),
            arguments: [script.path, output.path, root.path, work.appending(path: "lib").path],
            inputFiles: inputs,
            outputFiles: [output]),
                .buildCommand(
            displayName: "Embedding the injected helper block",
            executable: URL(fileURLWithPath: "/bin/bash"),
            arguments: [blockScript.path, blockOutput.path, root.path, work.appending(path: "block").path],
            inputFiles: inputs + [blockScript, root.appending(path: "hack/compile-inject-blob.sh")],
            outputFiles: [blockOutput])]
    }
}
