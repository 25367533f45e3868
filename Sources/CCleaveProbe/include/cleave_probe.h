#ifndef CLEAVE_PROBE_H
#define CLEAVE_PROBE_H
#include <stddef.h>

/* Writes one byte in every page of [base, base+length). The stores are
 * volatile: a loop whose result is never read is otherwise removed. */
void cleave_touch_pages(void *base, size_t length, size_t page_size);

/* Starts the teardown helper (cleave_teardown_init, linked in) when LD_PRELOAD
 * asks for libcleave-teardown.so but the library is not loaded here (a static
 * cleave) and no helper was injected; 0 when nothing was to be done, else what
 * cleave_teardown_init returns. */
int cleave_probe_start_helper(void);

#endif
