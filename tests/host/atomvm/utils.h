#ifndef TEST_ATOMVM_UTILS_H
#define TEST_ATOMVM_UTILS_H
#define UNUSED(x) (void) (x)
#endif
