#ifndef CLEAVE_TEARDOWN_H
#define CLEAVE_TEARDOWN_H
int cleave_teardown_init(void);
#endif
