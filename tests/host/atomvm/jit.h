/* Test stand-in for AtomVM's jit.h: JITState, the entry point type and the
 * native interface, a table of 77 function pointers (spec section 2). */
#ifndef TEST_ATOMVM_JIT_H
#define TEST_ATOMVM_JIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "context.h"
#include "exportedfunction.h"
#include "module.h"

#define JIT_FORMAT_VERSION 1

typedef struct JITState JITState;
struct JITState
{
    Module *module; /* 0x0 */
    uintptr_t continuation; /* 0x4 */
    int remaining_reductions; /* 0x8 */
};
_Static_assert(sizeof(JITState) == 12, "JITState is 12 bytes");
_Static_assert(offsetof(JITState, continuation) == 4, "continuation");
_Static_assert(offsetof(JITState, remaining_reductions) == 8, "remaining_reductions");

typedef struct ModuleNativeInterface ModuleNativeInterface;
typedef Context *(*ModuleNativeEntryPoint)(Context *ctx, JITState *jit_state, const ModuleNativeInterface *p);

typedef Context *(*PrimitiveCtxState)(Context *ctx, JITState *jit_state);

struct ModuleNativeInterface
{
    void *raise_error; /* 0 */
    PrimitiveCtxState do_return; /* 1 */
    PrimitiveCtxState schedule_next_cp; /* 2 */
    term (*module_get_atom_term_by_id)(JITState *jit_state, int atom_index); /* 3 */
    Context *(*call_ext)(Context *ctx, JITState *jit_state, int module_index, int label); /* 4 */
    bool (*allocate)(Context *ctx, JITState *jit_state, uint32_t stack_need, uint32_t heap_need, uint32_t live); /* 5 */
    void *entry_6;
    void (*jit_trim_live_regs)(Context *ctx, uint32_t live); /* 7 */
    BifImpl0 (*get_imported_bif)(JITState *jit_state, uint32_t bif); /* 8 */
    bool (*deallocate)(Context *ctx, JITState *jit_state, uint32_t n_words); /* 9 */
    PrimitiveCtxState terminate_context; /* 10 */
    /* 11: AtomVM's term_compare. */
    TermCompareResult (*term_compare)(Context *ctx, JITState *jit_state, term t, term other, TermCompareOpts opts);
    /* 12: AtomVM's test_heap. */
    bool (*test_heap)(Context *ctx, JITState *jit_state, uint32_t heap_need, uint32_t live);
    void *entries_13_to_15[3];
    /* 16: AtomVM's term_alloc_tuple. */
    term (*term_alloc_tuple)(Context *ctx, uint32_t size);
    void *entries_17_to_48[32];
    /* 49: AtomVM's term_find_map_pos. */
    int (*term_find_map_pos)(Context *ctx, term map, term key);
    void *entries_50_to_62[13];
    /* 63: AtomVM's jit_put_map_assoc. */
    term (*put_map_assoc)(Context *ctx, JITState *jit_state, term src, size_t new_entries, size_t num_elements, term *kv);
    void *entries_64_to_69[6];
    /* 70: not AtomVM's; the test host uses it to switch module without
     * continuing anywhere: (ctx, jit_state, module_index) -> ctx. */
    Context *(*test_set_module)(Context *ctx, JITState *jit_state, int module_index);
    void *entries_71_to_76[6];
    /* Not AtomVM's: words past the 77 entries, which the test host fills
     * with values that are not table indices. Only a call made through them
     * may read them (it traps, as call_indirect does). */
    uintptr_t past_the_end[8];
};
_Static_assert(offsetof(ModuleNativeInterface, past_the_end) == 77 * sizeof(void *), "77 entries");
_Static_assert(offsetof(ModuleNativeInterface, call_ext) == 4 * 4, "call_ext");
_Static_assert(offsetof(ModuleNativeInterface, get_imported_bif) == 8 * 4, "get_imported_bif");
_Static_assert(offsetof(ModuleNativeInterface, terminate_context) == 10 * 4, "terminate_context");
_Static_assert(offsetof(ModuleNativeInterface, term_compare) == 11 * 4, "term_compare");
_Static_assert(offsetof(ModuleNativeInterface, allocate) == 5 * 4, "allocate");
_Static_assert(offsetof(ModuleNativeInterface, test_heap) == 12 * 4, "test_heap");
_Static_assert(offsetof(ModuleNativeInterface, term_alloc_tuple) == 16 * 4, "term_alloc_tuple");
_Static_assert(offsetof(ModuleNativeInterface, term_find_map_pos) == 49 * 4, "term_find_map_pos");
_Static_assert(offsetof(ModuleNativeInterface, deallocate) == 9 * 4, "deallocate");
_Static_assert(offsetof(ModuleNativeInterface, put_map_assoc) == 63 * 4, "put_map_assoc");
_Static_assert(offsetof(ModuleNativeInterface, test_set_module) == 70 * 4, "test_set_module");

extern const ModuleNativeInterface module_native_interface;

ModuleNativeEntryPoint jit_stream_entry_point(Context *ctx, term stream);
#endif
