# What cleave's C and Swift sides agree on, read from the one header that defines it
# (Sources/CCleaveContract/include/cleave_contract.h), for the shell tools under hack/.
# Usage: . hack/lib/contract.sh; contract_define CLEAVE_HELPER_NAME_PREFIX
contract_define() {
  sed -n "s/^#define $1 \"\\(.*\\)\"\$/\\1/p" \
    "$(dirname "${BASH_SOURCE[0]}")/../../Sources/CCleaveContract/include/cleave_contract.h"
}
