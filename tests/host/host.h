/*
 * The C test host: a miniature of AtomVM around the runtime. It lays out
 * Context, JITState and Module at the offsets of spec section 2, fills a
 * ModuleNativeInterface whose primitives the tests use are real, and runs
 * processes with the dispatch loop of spec section 6.2.
 */
#ifndef TEST_HOST_H
#define TEST_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomvm_wasm_jit.h"
#include "context.h"
#include "jit.h"
#include "module.h"

typedef struct Process
{
    Context ctx; /* first, so that a Context * is its Process * */
    Module *mod; /* where to continue */
    uintptr_t cont; /* label + 1 to continue at */
    bool done;
    int slices; /* time slices run */
    int yields; /* stops for reductions: dispatch loop or schedule_next_cp */
    int switches; /* module switches inside the dispatch loop */
    int calls; /* label functions the dispatch loop called */
    HeapFragment root; /* the heap's root fragment */
    HeapFragment fragment; /* one more, for tests */
    term heap[64]; /* the heap, and the stack at its end */
} Process;


/* Calls of the host's get_imported_bif (interface entry 8). */
extern int host_get_imported_bif_calls;
/* Calls of the host's module_get_atom_term_by_id (interface entry 3). */
extern int host_atom_term_calls;
extern int host_small_int_bif_calls;
extern int host_trim_calls;
extern int host_term_compare_calls;
extern int host_frame_calls;
extern int host_heap_calls;
extern int host_map_pos_calls;
extern int host_map_update_calls;

/* An interface other than module_native_interface (see host.c). */
extern const ModuleNativeInterface host_alt_interface;

/* AtomVM's own module_get_native_entry_point for wasm (spec 6.1). */
ModuleNativeEntryPoint module_get_native_entry_point(Module *mod, int label);

uint8_t *host_read_file(const char *path, size_t *size);
/* Loads a stream as module `index` (bound for cp returns); NULL on error. */
Module *host_load_bytes(const uint8_t *bytes, size_t size, int index);
/* A module for a handle already loaded (e.g. from the cache). */
Module *host_adopt(const void *native_code, int index);
Module *host_load_file(const char *path, int index);
void host_unload(Module *mod);

void process_init(Process *p, Module *mod, int entry_label);
/* Runs one time slice of p: the dispatch loop of spec 6.2 until it stops. */
bool run_slice(Process *p, int reductions);

/* The dispatch loop of spec section 6.2, exactly, with `lookup` as
 * module_get_native_entry_point (inlined and devirtualised by the compiler
 * where `lookup` is a constant). Returns false if a lookup fails. */
static inline bool dispatch_slice(Process *p, int reductions, ModuleNativeEntryPoint (*lookup)(Module *, int))
{
    Module *mod = p->mod;
    ModuleNativeEntryPoint entry = lookup(mod, (int) p->cont - 1);
    if (!entry) {
        return false;
    }
    int r = reductions;
    for (;;) {
        JITState jit_state = { .module = mod, .continuation = 0, .remaining_reductions = r };
        Context *new_ctx = entry(&p->ctx, &jit_state, &module_native_interface);
        p->calls++;
        r = jit_state.remaining_reductions;
        if (new_ctx != &p->ctx) {
            return true; /* switch process: schedule_next_cp saved p */
        }
        if (jit_state.continuation == 0) {
            return true; /* reschedule: terminated, or a primitive stopped it */
        }
        if (r == 0) {
            p->mod = jit_state.module;
            p->cont = jit_state.continuation;
            p->yields++;
            return true; /* reschedule: out of reductions */
        }
        if (jit_state.module != mod) {
            mod = jit_state.module;
            p->switches++;
        }
        entry = lookup(mod, (int) jit_state.continuation - 1);
        if (!entry) {
            return false;
        }
    }
}
/* Runs p to completion, `reductions` per time slice; false on a lookup
 * failure or after `max_slices`. */
bool process_run(Process *p, int reductions, int max_slices);

int host_table_length(void);
bool host_table_slot_is_null(int index);
bool host_table_slot_is_function(int index);
size_t host_heap_in_use(void);

#endif
