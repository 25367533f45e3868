/* SwiftPM builds a C target from at least one source file; this one checks at
 * compile time that the contract's helper name fits a thread's comm. */
#include "cleave_contract.h"

_Static_assert(sizeof(CLEAVE_HELPER_NAME_PREFIX) - 1 + 7 <= 15,
               "a helper name must hold the prefix and a 7-digit pid in 15 bytes");
