/* SwiftPM links a debug executable with `--defsym main=<module>_main` (so tests can link
 * executable modules), while a -parse-as-library harness defines no main of its own and
 * libFuzzer's main is not used. These are those entry points: each starts libFuzzer on
 * the harness's LLVMFuzzerTestOneInput. A harness defines only that one, so only the
 * entry of the executable being linked is ever called. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ENTRY(module) \
    int module##_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }

FUZZ_ENTRY(fuzz_json)
FUZZ_ENTRY(fuzz_spec)
FUZZ_ENTRY(fuzz_hook_state)
FUZZ_ENTRY(fuzz_hooks_d)
FUZZ_ENTRY(fuzz_stats)
FUZZ_ENTRY(fuzz_mountinfo)
FUZZ_ENTRY(fuzz_size)
FUZZ_ENTRY(fuzz_duration)
