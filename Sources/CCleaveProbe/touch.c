#include "cleave_probe.h"

void cleave_touch_pages(void *base, size_t length, size_t page_size) {
    volatile unsigned char *p = base;
    for (size_t off = 0; off < length; off += page_size)
        p[off] = 1;
}
