#ifndef CLEAVE_RELEASE_LAYOUT_H
#define CLEAVE_RELEASE_LAYOUT_H

/* The parallel release's memory, one private mapping made by the parent
 * before the clone (the helper may not mmap):
 *   [range table][queue] (page-rounded), then per worker 1..N-1
 *   [guard page][stack]. */

#define CLEAVE_RELEASE_MAX_WORKERS 64
#define CLEAVE_RELEASE_DEFAULT_MAX_WORKERS 16
/* Private writable mappings the table holds; beyond them the rest is left to
 * exit_mmap(). A process has 65530 mappings at most (vm.max_map_count), most
 * far fewer; 4096 covers the large ones that matter. */
#define CLEAVE_RELEASE_TABLE_CAP 4096
/* A worker runs two small raw-syscall functions. */
#define CLEAVE_RELEASE_WORKER_STACK (16 * 1024)

struct cleave_release_range {
    unsigned long start, end;
};

/* The work the helper and its workers share: the ranges, cut into chunks of
 * `chunk` bytes of their concatenation, each taken by whoever asks first
 * (`next`, the next chunk's number, is only ever changed atomically). */
struct cleave_release_queue {
    const struct cleave_release_range *ranges;
    unsigned long count;
    unsigned long total; /* bytes in all ranges */
    unsigned long chunk;
    unsigned long next;
};

static inline unsigned long cleave_release_header_size(unsigned long page) {
    unsigned long bytes = CLEAVE_RELEASE_TABLE_CAP * sizeof(struct cleave_release_range) +
                          sizeof(struct cleave_release_queue);
    return (bytes + page - 1) / page * page;
}

/* Worker k (1..workers-1): its guard page, and the top of its stack above it. */
static inline unsigned long cleave_release_guard_offset(int k, unsigned long page) {
    return cleave_release_header_size(page) + (unsigned long)(k - 1) * (page + CLEAVE_RELEASE_WORKER_STACK);
}

static inline unsigned long cleave_release_region_size(int workers, unsigned long page) {
    return cleave_release_guard_offset(workers, page);
}

#endif
