#include "cleave_teardown.h"
__attribute__((constructor)) static void cleave_preload_ctor(void) { (void)cleave_teardown_init(); }
