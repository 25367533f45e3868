// The least a supervisor does, in Swift, linked as cleave's release build is (static PIE):
// make a cgroup, posix_spawn PROGRAM (not into the cgroup: posix_spawn cannot), wait,
// remove the cgroup, relay the status. Built with -D FOUNDATION it also links
// FoundationEssentials, as cleave does (through swift-argument-parser and its own JSON).
// A yardstick for `cleave run` in hack/bench/floors.py, not part of cleave.
// Usage: supervisor-floor-swift PARENT PROGRAM [ARG...]
import Glibc
#if FOUNDATION
import FoundationEssentials
#endif

let arguments = CommandLine.arguments
guard arguments.count > 2 else {
  fputs("usage: supervisor-floor-swift PARENT PROGRAM [ARG...]\n", stderr)
  exit(125)
}
let path = "\(arguments[1])/floor-swift-\(getpid())"
guard mkdir(path, 0o755) == 0 else {
  perror(path)
  exit(125)
}
var argv: [UnsafeMutablePointer<CChar>?] = arguments.dropFirst(2).map { strdup($0) }
argv.append(nil)
var pid: pid_t = 0
let spawned = posix_spawnp(&pid, arguments[2], nil, nil, argv, environ)
var status: Int32 = 0
while spawned == 0 && waitpid(pid, &status, 0) < 0 {}
if rmdir(path) != 0 { perror(path) }
#if FOUNDATION
// Used, so that the linker keeps it.
if arguments.count > 64 { print(Data(path.utf8).base64EncodedString()) }
#endif
guard spawned == 0 else { exit(127) }
let signal = status & 0x7f
exit(signal != 0 ? 128 + signal : (status >> 8) & 0xff)
