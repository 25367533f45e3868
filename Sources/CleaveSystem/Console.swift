import Glibc

/// Messages for the person at the terminal, on stderr, prefixed "cleave: ".
public enum Console {
    public static func error(_ message: String) { emit("cleave: \(message)") }
    public static func warning(_ message: String) { emit("cleave: warning: \(message)") }

    public static func emit(_ line: String) {
        let text = line.hasSuffix("\n") ? line : line + "\n"
        text.withCString { p in _ = write(2, p, strlen(p)) }
    }

    public static var stdoutIsTerminal: Bool { isatty(1) != 0 }
}
