/* Test stand-in for the JIT hooks of AtomVM's sys.h (spec section 5). */
#ifndef TEST_ATOMVM_SYS_H
#define TEST_ATOMVM_SYS_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "globalcontext.h"
#include "jit.h"
ModuleNativeEntryPoint sys_map_native_code(const uint8_t *code, size_t size);
void sys_release_native_code(ModuleNativeEntryPoint native_code);
bool sys_get_cache_native_code(GlobalContext *global, Module *mod, uint16_t *version,
    ModuleNativeEntryPoint *entry_point, uint32_t *labels);
void sys_set_cache_native_code(GlobalContext *global, Module *mod, uint16_t version,
    ModuleNativeEntryPoint entry_point, uint32_t labels);
#endif
