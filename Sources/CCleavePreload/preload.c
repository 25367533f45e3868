/* libcleave-teardown.so: LD_PRELOAD it (cleave run does) and every program
 * gets a teardown helper before main(); programs can also link it and call
 * cleave_teardown_init() themselves. */
#include "cleave_teardown.h"

__attribute__((constructor)) static void cleave_preload_init(void) {
    (void)cleave_teardown_init();
}
