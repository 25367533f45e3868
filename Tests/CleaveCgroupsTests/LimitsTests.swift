@testable import CleaveCgroups
import Foundation
import Testing

@Suite("sizes, cpu weight and OCI conversions")
struct LimitsTests {
    @Test("sizes", arguments: [
        ("1048576", UInt64(1_048_576)), ("512K", 524_288), ("64M", 67_108_864), ("1G", 1 << 30), ("2T", 2 << 40),
        ("64MiB", 67_108_864), ("1g", 1 << 30), ("1.5G", 1_610_612_736), (" 8k ", 8192), ("0", 0),
    ])
    func sizes(text: String, bytes: UInt64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test("bad sizes", arguments: ["", "12Q", "M", "-1", "1e3", "99999999999999999999", "17000000T", "1.2.3G"])
    func badSizes(text: String) {
        #expect(throws: ParseError.self) { try ByteSize.parse(text) }
    }

    @Test func limitAcceptsMax() throws {
        #expect(try ByteSize.parseLimit("max") == .max)
        #expect(try ByteSize.parseLimit("4K") == .value(4096))
    }

    /// The shares-to-weight formula crun and runc use (log-quadratic), computed independently here.
    static func expectedWeight(_ shares: UInt64) -> UInt64 {
        if shares <= 2 { return 1 }
        if shares >= 262_144 { return 10_000 }
        let l = Foundation.log2(Double(shares))
        return UInt64((Foundation.pow(10.0, (l * l + 125 * l) / 612 - 7.0 / 34)).rounded(.up))
    }

    @Test("cpu.weight from shares", arguments: [UInt64(2), 3, 10, 100, 512, 1024, 2048, 10_000, 100_000, 262_144, 1_000_000])
    func weight(shares: UInt64) {
        #expect(ResourceLimits.cpuWeight(fromShares: shares) == Self.expectedWeight(shares))
    }

    @Test func weightKnownPoints() {
        #expect(ResourceLimits.cpuWeight(fromShares: 2) == 1)
        #expect(ResourceLimits.cpuWeight(fromShares: 1024) == 100)
        #expect(ResourceLimits.cpuWeight(fromShares: 262_144) == 10_000)
        #expect(ResourceLimits.cpuWeight(fromShares: 1) == 1)
    }

    @Test func ociConversion() throws {
        let l = try ResourceLimits.fromOCI(memoryLimit: 1 << 30, memoryReservation: 1 << 20, memorySwap: (1 << 30) + (1 << 29),
                                           cpuShares: 1024, cpuQuota: 50_000, cpuPeriod: nil, pidsLimit: 100,
                                           unified: ["memory.high": "900M"])
        #expect(l.memoryMax == .value(1 << 30))
        #expect(l.memoryLow == .value(1 << 20))
        #expect(l.memorySwapMax == .value(1 << 29))
        #expect(l.cpuWeight == 100)
        #expect(l.cpuMax == CPUMax(quota: 50_000, period: 100_000))
        #expect(l.pidsMax == .value(100))
        #expect(l.requiredControllers == ["memory", "cpu", "pids"])
        let unlimited = try ResourceLimits.fromOCI(memoryLimit: -1, memoryReservation: nil, memorySwap: -1, cpuShares: nil,
                                                   cpuQuota: -1, cpuPeriod: 200_000, pidsLimit: -1, unified: nil)
        #expect(unlimited.memoryMax == .max)
        #expect(unlimited.memorySwapMax == .max)
        #expect(unlimited.cpuMax?.fileValue == "max 200000")
        #expect(unlimited.pidsMax == .max)
    }

    @Test("swap errors name the field", arguments: [
        (Int64?.some(1 << 30), Int64(1 << 29), "less than memory.limit"),
        (Int64?.none, Int64(1 << 30), "without linux.resources.memory.limit"),
    ])
    func swapErrors(limit: Int64?, swap: Int64, message: String) {
        do {
            _ = try ResourceLimits.fromOCI(memoryLimit: limit, memoryReservation: nil, memorySwap: swap, cpuShares: nil,
                                           cpuQuota: nil, cpuPeriod: nil, pidsLimit: nil, unified: nil)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("linux.resources.memory.swap"))
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test("unified keys are validated", arguments: ["memory", "../memory.max", "a/b.c", ".max", "cgroup.procs", "cgroup.kill", "cgroup.subtree_control"])
    func unifiedKeys(key: String) {
        #expect(throws: ParseError.self) { try ResourceLimits(unified: [key: "1"]).validate() }
    }

    @Test func cpuMaxParsing() throws {
        #expect(try CPUMax.parse("max 100000\n") == CPUMax(quota: nil, period: 100_000))
        #expect(try CPUMax.parse("50000 100000") == CPUMax(quota: 50_000))
        #expect(try CPUMax.parse("25000") == CPUMax(quota: 25_000))
        #expect(throws: ParseError.self) { try CPUMax.parse("fast") }
        #expect(throws: ParseError.self) { try CPUMax.parse("1000 5") }
    }
}
