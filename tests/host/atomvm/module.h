/* Test stand-in for AtomVM's Module: module_index first (spec section 2). */
#ifndef TEST_ATOMVM_MODULE_H
#define TEST_ATOMVM_MODULE_H
typedef struct Module Module;
struct Module
{
    int module_index;
    const void *native_code;
};
#endif
