#include "cleave_teardown.h"
int cleave_teardown_init(void) { return -1; }
