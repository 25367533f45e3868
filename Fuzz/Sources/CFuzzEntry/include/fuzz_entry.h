/* Nothing to import: the entry points are found by the linker. */
