import ArgumentParser
import CleaveOCI
import CleaveRuntime
import CleaveSystem
import CleaveHook
import CleaveInventory

/// `cleave prepare --bundle DIR`: makes a bundle for crun or runc start its workload with
/// cleave's teardown helper and call cleave's hook, keeping the rest of config.json.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Edit an OCI bundle so crun/runc start it with cleave's teardown helper and hooks.",
        discussion: """
        Adds a read-only bind mount of libcleave-teardown.so, LD_PRELOAD in process.env, cleave hook at \
        poststart and poststop, and the io.cleave.teardown annotation. The workload must be dynamically \
        linked against glibc for LD_PRELOAD to apply. Running it again changes nothing.
        """)

    @Option(help: "The bundle directory holding config.json.")
    var bundle: String
    @Option(help: "libcleave-teardown.so on the host (default: next to cleave, or $CLEAVE_TEARDOWN_LIBRARY).")
    var library: String?
    @Option(help: "Where the container sees the library (default: /usr/lib/cleave/libcleave-teardown.so; pick another when the container's /usr is read-only).")
    var destination: String?
    @Option(help: "Write the edited config.json here ('-' for stdout) instead of over the bundle's.")
    var output: String?

    func run() throws {
        guard let cleave = Executable.path() else { throw CleaveError.message("cannot find the cleave executable for the hooks") }
        guard let library = library ?? TeardownLibrary.locate(environment: EnvironmentList.current()) else {
            throw CleaveError.message("\(TeardownLibrary.fileName) not found: pass --library PATH")
        }
        guard library.hasPrefix("/") else { throw CleaveError.message("--library: '\(library)' must be an absolute path (the runtime mounts it)") }
        let edited: String
        do {
            var options = BundlePreparer.Options(library: library, cleave: cleave)
            if let destination {
                guard destination.hasPrefix("/") else { throw CleaveError.message("--destination: '\(destination)' must be an absolute path in the container") }
                options.libraryDestination = destination
            }
            edited = try BundlePreparer.prepare(bundle: bundle, options: options)
        } catch let error as OCIError {
            throw CleaveError.wrapped(context: "", error)
        }
        if output == "-" {
            print(edited, terminator: "")
        } else {
            try AtomicFile.write(Array(edited.utf8), to: output ?? BundleLoader.configPath(bundle: bundle))
        }
    }
}
