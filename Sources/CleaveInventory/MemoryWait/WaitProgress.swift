import CleaveCgroups
import Glibc
import CleaveRuntime
import CleaveSystem

/// The wait's progress on stderr: on a terminal one line rewritten in place; otherwise a plain
/// line when the wait begins and then every `plainInterval`, so logs are not flooded.
package struct WaitProgress {
    package enum Style: Sendable { case terminal, plain, quiet }
    package var style: Style
    package var plainInterval: UInt64 = 10_000_000_000
    /// Where the lines go (stderr; a pipe in tests).
    package var descriptor: Int32 = 2
    private var lastPlain: UInt64?
    private var lineOpen = false
    private var printed = false

    package init(style: Style) { self.style = style }

    /// Terminal when stderr is one.
    package static func forStderr() -> WaitProgress { WaitProgress(style: isatty(2) != 0 ? .terminal : .plain) }

    /// "waiting for 1.0 GiB: 300.0 MiB available, 512.0 MiB pending release in 1 cgroup, 40.0 MiB/s, about 5 s"
    package static func line(size: UInt64, available: UInt64, pending: PendingRelease, rate: ReleaseRate) -> String {
        var text = "waiting for \(ByteSize.format(size)): \(formatAvailable(available)) available, "
            + "\(pending.summary) pending release"
        if let perSecond = rate.bytesPerSecond {
            text += ", releasing \(ByteSize.format(UInt64(perSecond.rounded())))/s"
        }
        if let eta = rate.estimate(needed: size > available ? size - available : 0) {
            text += ", about \(Int(eta.rounded(.up))) s"
        } else {
            text += ", no estimate yet"
        }
        return text
    }

    static func formatAvailable(_ bytes: UInt64) -> String { bytes == .max ? "unlimited" : ByteSize.format(bytes) }

    package mutating func update(_ text: String, nowNanoseconds now: UInt64) {
        switch style {
        case .quiet: return
        case .terminal:
            // \r and erase-to-end-of-line: the line is rewritten in place.
            write("\r\u{1b}[Kcleave: " + text)
            lineOpen = true
            printed = true
        case .plain:
            if let last = lastPlain, now - last < plainInterval { return }
            lastPlain = now
            printed = true
            write("cleave: " + text + "\n")
        }
    }

    /// Ends the progress line (terminal) and prints the outcome when the wait printed anything.
    package mutating func finish(_ text: String?) {
        if lineOpen { write("\n"); lineOpen = false }
        if let text, printed { write("cleave: " + text + "\n") }
    }

    private func write(_ text: String) {
        text.withCString { p in _ = Glibc.write(descriptor, p, strlen(p)) }
    }
}
