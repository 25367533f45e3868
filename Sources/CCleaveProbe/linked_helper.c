/* The probe is cleave's own code and links the teardown helper: it starts it
 * itself when its environment asks for the preload (async mode: LD_PRELOAD
 * names libcleave-teardown.so) but the library is not in this process, which
 * is the case when cleave is a static executable (no dynamic loader reads
 * LD_PRELOAD). When the library was loaded, its constructor already decided;
 * when `cleave run` injected a helper at exec, there is a child named
 * cleanup/<pid>: neither gets a second helper. */
#define _GNU_SOURCE
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleave_contract.h"
#include "cleave_probe.h"
#include "cleave_teardown.h"
#include "../CCleaveTeardown/helper_internal.h"

#define LIBRARY_NAME "libcleave-teardown.so"

static int is_library(const char *path, size_t length) {
    const char *library = getenv(CLEAVE_ENV_TEARDOWN_LIBRARY);
    if (library && *library && strlen(library) == length && !strncmp(path, library, length)) return 1;
    const char *base = path;
    for (size_t i = 0; i < length; i++)
        if (path[i] == '/') base = path + i + 1;
    size_t rest = length - (size_t)(base - path);
    return rest == strlen(LIBRARY_NAME) && !strncmp(base, LIBRARY_NAME, rest);
}

/* LD_PRELOAD's entries are separated by spaces or colons (ld.so(8)). */
static int preload_asked(void) {
    const char *list = getenv("LD_PRELOAD");
    if (!list) return 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, " :");
        if (n > 0 && is_library(p, n)) return 1;
        p += n;
        if (*p) p++;
    }
    return 0;
}

static int find_library(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    return info->dlpi_name && *info->dlpi_name && is_library(info->dlpi_name, strlen(info->dlpi_name));
}

static int found(pid_t child, void *context) {
    (void)child;
    (void)context;
    return 1;
}

int cleave_probe_start_helper(void) {
    if (!preload_asked()) return 0;
    if (dl_iterate_phdr(find_library, NULL)) return 0;
    /* A child named cleanup/<pid>: the helper `cleave run` injected at exec. */
    if (cleave_each_helper_child(getpid(), found, NULL)) return 0;
    return cleave_teardown_init();
}
