#ifndef CLEAVE_CONTRACT_H
#define CLEAVE_CONTRACT_H

/* What the C side (the helper, the preload library) and the Swift side agree
 * on, defined once here; Swift reads these through `import CCleaveContract`. */

/* Every teardown helper names itself this prefix followed by the workload's
 * pid ("cleanup/1234"), as QEMU's -async-teardown helper does, so one rule
 * recognises both. comm holds 15 bytes: the prefix and a 7-digit pid. */
#define CLEAVE_HELPER_NAME_PREFIX "cleanup/"

/* The keeper of cleave's own address space (cleave_exit_keeper.h) names itself
 * this: it outlives `cleave run` by its own unmapping, well under a millisecond. */
#define CLEAVE_EXIT_KEEPER_NAME "cleave/exit"

/* The environment the preload library reads (it never writes any).
 * CLEAVE_TEARDOWN=off|0|sync: no helper. */
#define CLEAVE_ENV_TEARDOWN "CLEAVE_TEARDOWN"
/* The pid of the one process that gets a helper (cleave run names the workload). */
#define CLEAVE_ENV_TEARDOWN_PID "CLEAVE_TEARDOWN_PID"
/* 1: every process of the tree gets one, exec'd or forked. */
#define CLEAVE_ENV_TEARDOWN_INHERIT "CLEAVE_TEARDOWN_INHERIT"
/* How many tasks free the memory once the workload is gone (1 to 64; unset: the CPUs
 * the cgroup may use). cleave run --teardown-workers sets it. */
#define CLEAVE_ENV_TEARDOWN_WORKERS "CLEAVE_TEARDOWN_WORKERS"
/* Where cleave finds libcleave-teardown.so (read by cleave, not by the library). */
#define CLEAVE_ENV_TEARDOWN_LIBRARY "CLEAVE_TEARDOWN_LIBRARY"

#endif
