import CleaveRuntime
import CleaveSystem
/// The rate at which pending memory comes back, from successive readings of the pending bytes.
/// A smoothed average (weight 0.3 for the newest interval) of the decrease per second; a rise
/// (a new teardown began) counts as no release rather than a negative one.
package struct ReleaseRate: Sendable {
    private var last: (nanos: UInt64, bytes: UInt64)?
    /// Bytes per second; nil until two readings are at least 100 ms apart.
    package private(set) var bytesPerSecond: Double?

    package init() {}

    package mutating func add(bytes: UInt64, atNanoseconds now: UInt64) {
        guard let last else { self.last = (now, bytes); return }
        guard now > last.nanos, now - last.nanos >= 100_000_000 else { return }
        let seconds = Double(now - last.nanos) / 1e9
        let released = bytes < last.bytes ? Double(last.bytes - bytes) : 0
        let sample = released / seconds
        bytesPerSecond = bytesPerSecond.map { 0.7 * $0 + 0.3 * sample } ?? sample
        self.last = (now, bytes)
    }

    /// Seconds until `needed` more bytes are back at this rate; nil when nothing is being released.
    package func estimate(needed: UInt64) -> Double? {
        guard let rate = bytesPerSecond, rate >= 1 else { return nil }
        return Double(needed) / rate
    }
}
