import ArgumentParser
import CleaveRuntime

/// `--state-dir`, for the commands that read the run records (ps, gc, wait-memory).
struct RunRecordsOption: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "Directory of run records (default: $CLEAVE_STATE_DIR or /run/cleave/runs).")
    var stateDirectory: String?

    /// The directory to read: the option, else the default.
    var directory: String { stateDirectory ?? RunState.directory }
}
