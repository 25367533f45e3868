import CleaveCgroups
import Glibc
import PropertyBased
import Testing
import CleaveRuntime
import CleaveSystem

/// Not only the parsers: what cleave does with a parsed value (the probe's mapping length and
/// per-thread slices, deadlines from durations, the cgroup files from limit flags, ages from
/// recorded times) gets a clear error or in-range arithmetic, never a trap.
@Suite("Properties: uses of parsed values")
struct ParsedValueUseProperties {
    static let sizes = ["8388608T", "16384P", "18446744073709551615", "1", "64M", "1G", "2T", "64T", "65T", "1.5G", "0.000001K", "9999999999T"]

    /// The probe's own arithmetic, checked with overflow reporting: every thread's slice fits.
    static func expectSlicesFit(_ plan: (length: Int, pagesPerThread: Int), threads: Int, page: Int) {
        let (sliceBytes, o1) = plan.pagesPerThread.multipliedReportingOverflow(by: page)
        let (lastStart, o2) = (threads - 1).multipliedReportingOverflow(by: sliceBytes)
        let (_, o3) = min(lastStart, plan.length).addingReportingOverflow(sliceBytes)
        #expect(!o1 && !o2 && !o3, "length \(plan.length), threads \(threads)")
    }

    @Test("probe alloc: every parsed SIZE and thread count gets a CleaveError or a plan whose arithmetic cannot overflow")
    func probePlan() async {
        await checkMutations(of: Self.sizes) { text in
            guard let size = try? RunOptionsParser.size(text, option: "SIZE") else { return }
            for threads in [-1, 0, 1, 7, 1024, 1025, Int.max] {
                var probe = AllocationProbe(size: size)
                probe.threads = threads
                do {
                    let plan = try probe.plan(page: 4096)
                    #expect(UInt64(plan.length) == size)
                    Self.expectSlicesFit(plan, threads: threads, page: 4096)
                } catch {
                    #expect(error is CleaveError, "\(type(of: error)): \(error)")
                }
            }
        }
        await propertyCheck(count: Budget.iterations, input: Gen<UInt64>.value(), Gen<Int>.int(in: -2...2000)) { size, threads in
            var probe = AllocationProbe(size: size)
            probe.threads = threads
            do {
                let plan = try probe.plan(page: 4096)
                #expect(size <= AllocationProbe.maximumSize && AllocationProbe.threadRange.contains(threads))
                Self.expectSlicesFit(plan, threads: threads, page: 4096)
            } catch {
                #expect(size == 0 || size > AllocationProbe.maximumSize || !AllocationProbe.threadRange.contains(threads))
            }
        }
    }

    static let durations = ["500ms", "5s", "1h30m", "1.5s", "0", "365d", "8760h", "8761h", "99999999999999999999h", "1e308", "nan", "-1s", "1e-400"]

    @Test("durations: a parsed duration is at most a year and makes a deadline without overflow")
    func durationDeadlines() async {
        let year = Duration.seconds(365 * 86400)
        await checkMutations(of: Self.durations) { text in
            do {
                let d = try DurationParser.parse(text, option: "--wait")
                #expect(d >= .zero && d <= year, "\(text) -> \(d)")
                #expect(d.seconds.isFinite)
                let (_, overflow) = Clock.monotonicNanoseconds().addingReportingOverflow(d.nanosecondsSaturating)
                #expect(!overflow)
            } catch {
                #expect(error is CleaveError, "\(type(of: error)): \(error)")
            }
        }
        await propertyCheck(count: Budget.iterations, input: Gen<UInt64>.value(), Gen<Int>.int(in: 0...4)) { bits, unit in
            let value = Double(bitPattern: bits)
            let text = "\(value)" + ["", "ms", "s", "m", "h"][unit]
            if let d = try? DurationParser.parse(text, option: "--teardown-timeout") {
                #expect(d >= .zero && d <= year, "\(text) -> \(d)")
                _ = d.nanosecondsSaturating
            }
        }
    }

    @Test("Duration.nanosecondsSaturating: any duration, negative or huge, gives a value without trapping")
    func saturatingNanoseconds() async {
        await propertyCheck(count: Budget.iterations, input: Gen<Int64>.value(), Gen<Int64>.value()) { s, atto in
            let d = Duration(secondsComponent: s, attosecondsComponent: atto % 1_000_000_000_000_000_000)
            let n = d.nanosecondsSaturating
            if d < .zero { #expect(n == 0) }
        }
    }

    static let limitSeeds = ["64M", "max", "1G", "0.5", "2", "100000 100000", "max 100000", "100", "10000", "7", "99999999999999999999T"]

    @Test("run limit flags: every combination gives a CleaveError naming a flag, or limits whose cgroup files render")
    func limitFlags() async {
        await checkMutations(of: Self.limitSeeds) { text in
            let flags = ["--memory-max", "--memory-high", "--memory-low", "--memory-swap-max", "--cpus", "--cpu-max", "--cpu-weight", "--pids-max"]
            for flag in flags {
                do {
                    let limits = try RunOptionsParser.limits(
                        memoryMax: flag == "--memory-max" ? text : nil, memoryHigh: flag == "--memory-high" ? text : nil,
                        memoryLow: flag == "--memory-low" ? text : nil, memorySwapMax: flag == "--memory-swap-max" ? text : nil,
                        cpus: flag == "--cpus" ? text : nil, cpuMax: flag == "--cpu-max" ? text : nil,
                        cpuWeight: flag == "--cpu-weight" ? text : nil, pidsMax: flag == "--pids-max" ? text : nil, raw: [])
                    for (file, value) in limits.fileValues {
                        #expect(!file.isEmpty && !value.isEmpty && !value.contains("\n"))
                    }
                } catch let error as CleaveError {
                    #expect(error.description.hasPrefix(flag), "\(error.description)")
                } catch {
                    Issue.record("\(flag) \(text): \(type(of: error)): \(error)")
                }
            }
        }
    }

    @Test("ages shown by ps: any recorded time difference renders")
    func ages() async {
        await propertyCheck(count: Budget.iterations, input: Gen<UInt64>.value()) { bits in
            let text = TextTable.age(Double(bitPattern: bits))
            #expect(!text.isEmpty)
        }
    }
}
