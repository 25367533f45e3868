#ifndef CLEAVE_PROBE_H
#define CLEAVE_PROBE_H
#include <stddef.h>

/* Writes one byte in every page of [base, base+length). The stores are
 * volatile: a loop whose result is never read is otherwise removed. */
void cleave_touch_pages(void *base, size_t length, size_t page_size);

#endif
