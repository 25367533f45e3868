import Testing
@testable import CleaveOCI
import CleaveJSON

@Suite struct NameTableTests {
    @Test(arguments: [
        ("CAP_CHOWN", 0), ("CAP_DAC_OVERRIDE", 1), ("CAP_KILL", 5), ("CAP_SETUID", 7),
        ("CAP_NET_BIND_SERVICE", 10), ("CAP_NET_RAW", 13), ("CAP_SYS_ADMIN", 21),
        ("CAP_SYS_RESOURCE", 24), ("CAP_AUDIT_WRITE", 29), ("CAP_SETFCAP", 31),
        ("CAP_SYSLOG", 34), ("CAP_AUDIT_READ", 37), ("CAP_PERFMON", 38), ("CAP_BPF", 39),
        ("CAP_CHECKPOINT_RESTORE", 40),
    ])
    func capabilityNumbers(name: String, number: Int) {
        #expect(SpecValidation.capabilityNumber(name) == number)
    }

    @Test func capabilityTableIsDenseAndCaseSensitive() {
        #expect(LinuxNames.capabilities.count == 41)
        #expect(Set(LinuxNames.capabilities).count == 41)
        #expect(SpecValidation.capabilityNumber("cap_chown") == nil)
        #expect(SpecValidation.capabilityNumber("CHOWN") == nil)
        #expect(SpecValidation.capabilityNumber("CAP_41") == nil)
    }

    @Test(arguments: [
        ("RLIMIT_CPU", Int32(0)), ("RLIMIT_FSIZE", 1), ("RLIMIT_DATA", 2), ("RLIMIT_STACK", 3),
        ("RLIMIT_CORE", 4), ("RLIMIT_RSS", 5), ("RLIMIT_NPROC", 6), ("RLIMIT_NOFILE", 7),
        ("RLIMIT_MEMLOCK", 8), ("RLIMIT_AS", 9), ("RLIMIT_LOCKS", 10), ("RLIMIT_SIGPENDING", 11),
        ("RLIMIT_MSGQUEUE", 12), ("RLIMIT_NICE", 13), ("RLIMIT_RTPRIO", 14), ("RLIMIT_RTTIME", 15),
    ])
    func rlimitNumbers(name: String, number: Int32) {
        #expect(SpecValidation.rlimitNumber(name) == number)
    }

    @Test func unknownRlimitNames() {
        #expect(SpecValidation.rlimitNumber("RLIMIT_OFILE") == nil)
        #expect(SpecValidation.rlimitNumber("rlimit_nofile") == nil)
        #expect(SpecValidation.rlimitNumber("") == nil)
    }
}
