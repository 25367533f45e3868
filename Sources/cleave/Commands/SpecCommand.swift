import ArgumentParser
import CleaveOCI

/// `cleave spec`: a starter config.json for `cleave run --bundle`, like `runc spec`.
struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec",
        abstract: "Print a starter config.json for a process workload (cleave run --bundle DIR).")

    @Argument(parsing: .captureForPassthrough, help: "process.args (default: cleave probe alloc 256M).")
    var args: [String] = []

    func run() throws {
        let argv = args.first == "--" ? Array(args.dropFirst()) : args
        print(argv.isEmpty ? StarterSpec.json() : StarterSpec.json(args: argv), terminator: "")
    }
}
