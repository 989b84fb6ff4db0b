/* Test stand-in for the JIT hooks of AtomVM's sys.h (spec section 5). */
#ifndef TEST_ATOMVM_SYS_H
#define TEST_ATOMVM_SYS_H
#include <stddef.h>
#include <stdint.h>
#include "jit.h"
ModuleNativeEntryPoint sys_map_native_code(const uint8_t *code, size_t size);
void sys_release_native_code(ModuleNativeEntryPoint native_code);
#endif
