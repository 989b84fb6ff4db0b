#include "host.h"

#include <emscripten.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bif.h"
#include "globalcontext.h"

/* ---- primitives ---------------------------------------------------------- */

/* A context that is no process: returning it makes the loop switch process. */
static Context scheduler_ctx;

/* schedule_next_cp: save where to continue and let the scheduler run another
 * process (here: return to the host's scheduler). */
static Context *host_schedule_next_cp(Context *ctx, JITState *jit_state)
{
    Process *p = (Process *) ctx;
    p->mod = jit_state->module;
    p->cont = jit_state->continuation;
    p->yields++;
    return &scheduler_ctx;
}

/* call_ext, as the test modules call it: continue at `label` of module
 * `module_index` (the module switch happens in the dispatch loop). */
static Module *modules_by_index[256];
static Context *host_call_ext(Context *ctx, JITState *jit_state, int module_index, int label)
{
    jit_state->module = modules_by_index[module_index & 0xFF];
    jit_state->continuation = (uintptr_t) label + 1;
    return ctx;
}

static Context *host_set_module(Context *ctx, JITState *jit_state, int module_index)
{
    jit_state->module = modules_by_index[module_index & 0xFF];
    return ctx;
}

static Context *host_terminate_context(Context *ctx, JITState *jit_state)
{
    ((Process *) ctx)->done = true;
    jit_state->continuation = 0;
    return ctx;
}

/* Entry 8 as AtomVM's jit_get_imported_bif reads, counting its calls (a
 * rewrite that reads the imports in place leaves the count at 0). */
int host_get_imported_bif_calls;

static BifImpl0 host_get_imported_bif(JITState *jit_state, uint32_t bif)
{
    host_get_imported_bif_calls++;
    const struct ExportedFunction *f = jit_state->module->imported_funcs[bif];
    return ((const struct Bif *) f)->bif0_ptr; /* base is the first member */
}

/* Entry 3 as AtomVM's jit_module_get_atom_term_by_id reads, counting its
 * calls (a rewrite that reads the atoms in place leaves the count at 0). */
int host_atom_term_calls;

static term host_get_atom_term(JITState *jit_state, int atom_index)
{
    host_atom_term_calls++;
    return term_from_atom_index(jit_state->module->local_atoms_to_global_table[atom_index]);
}

/* The global index of each module's atoms 0 to 3. */
static uint32_t host_atoms[4] = { 1, 40, 1000, 0x3FFFFFF };

/* Entry 7 as AtomVM's jit_trim_live_regs: only a process with extended x
 * registers has anything to trim (here: x[2] = live, and the list emptied),
 * counting its calls. */
int host_trim_calls;

static void host_trim_live_regs(Context *ctx, uint32_t live)
{
    host_trim_calls++;
    if (!list_is_empty(&ctx->extended_x_regs)) {
        ctx->x[2] = live;
        list_init(&ctx->extended_x_regs);
    }
}

/* Entry 11 as AtomVM's term_compare on immediates: equal words are equal,
 * small integers order by value, atoms by index (AtomVM: by name); other
 * terms answer 0 here. It counts its calls. */
int host_term_compare_calls;

static TermCompareResult host_term_compare(Context *ctx, JITState *jit_state, term t, term other, TermCompareOpts opts)
{
    (void) ctx, (void) jit_state, (void) opts;
    host_term_compare_calls++;
    if (t == other) {
        return TermEquals;
    }
    if ((term_is_integer(t) && term_is_integer(other)) || (term_is_atom(t) && term_is_atom(other))) {
        bool less = term_is_atom(t) ? t < other : (avm_int_t) t < (avm_int_t) other;
        return less ? TermLessThan : TermGreaterThan;
    }
    return TermCompareMemoryAllocFail;
}

/* Entry 49 as AtomVM's term_find_map_pos: the first key that
 * host_term_compare finds equal, else TERM_MAP_NOT_FOUND; it counts its
 * calls (not those of host_term_compare it makes). */
int host_map_pos_calls;

static int host_term_find_map_pos(Context *ctx, term map, term key)
{
    host_map_pos_calls++;
    int saved = host_term_compare_calls;
    term keys = term_get_map_keys(map);
    int found = TERM_MAP_NOT_FOUND;
    for (int i = 0; i < term_get_tuple_arity(keys); i++) {
        if (host_term_compare(ctx, NULL, key, term_get_tuple_element(keys, i), TermCompareExact) == TermEquals) {
            found = i;
            break;
        }
    }
    host_term_compare_calls = saved;
    return found;
}

/* Entry 63 as AtomVM's jit_put_map_assoc: sorts nothing (the tests pass
 * one pair, or pairs in order), takes the new map (and, with new entries,
 * its keys' tuple) at the heap's top, and merges src's keys and the
 * pairs in order: small integers by value, then atoms by index (AtomVM:
 * by name); other terms are not compared here (the result is NULL). It
 * counts its calls. */
int host_map_update_calls;

static int host_order(term a, term b)
{
    if (a == b) {
        return 0;
    }
    if (term_is_integer(a) != term_is_integer(b)) {
        return term_is_integer(a) ? -1 : 1;
    }
    return (avm_int_t) a < (avm_int_t) b ? -1 : 1;
}

static term host_put_map_assoc(Context *ctx, JITState *jit_state, term src, size_t new_entries, size_t num_elements, term *kv)
{
    (void) jit_state;
    host_map_update_calls++;
    term src_keys = term_get_map_keys(src);
    size_t src_size = (size_t) term_get_tuple_arity(src_keys);
    size_t size = src_size + new_entries;
    for (size_t i = 0; i < src_size; i++) {
        term k = term_get_tuple_element(src_keys, (int) i);
        if (!term_is_integer(k) && !term_is_atom(k)) {
            return 0;
        }
    }
    term keys = src_keys;
    if (new_entries != 0) {
        term *tuple = ctx->heap.heap_ptr;
        ctx->heap.heap_ptr += 1 + size;
        tuple[0] = (term) size << 6;
        keys = (term) (uintptr_t) tuple | 0x2;
    }
    term *map = ctx->heap.heap_ptr;
    ctx->heap.heap_ptr += 2 + size;
    map[0] = ((term) (1 + size) << 6) | TERM_BOXED_MAP;
    map[1] = keys;
    term *key_words = (term *) (keys & ~(uintptr_t) 0x3) + 1;
    const term *src_values = term_to_const_term_ptr(src) + 2;
    size_t s = 0, k = 0;
    for (size_t j = 0; j < size; j++) {
        int order = s >= src_size ? 1 : k >= num_elements ? -1 : host_order(term_get_tuple_element(src_keys, (int) s), kv[2 * k]);
        if (order < 0) {
            key_words[j] = term_get_tuple_element(src_keys, (int) s);
            map[2 + j] = src_values[s++];
        } else if (order > 0) {
            key_words[j] = kv[2 * k];
            map[2 + j] = kv[2 * k + 1];
            k++;
        } else {
            key_words[j] = term_get_tuple_element(src_keys, (int) s);
            map[2 + j] = kv[2 * k + 1];
            s++, k++;
        }
    }
    return (term) (uintptr_t) map | 0x2;
}

/* Entries 5 and 9 as AtomVM's allocate and deallocate: a heap with
 * fragments, or one too full for the frame, is "collected" (here: the
 * fragments dropped, nothing moved); they count their calls. */
int host_frame_calls;

static bool host_allocate(Context *ctx, JITState *jit_state, uint32_t stack_need, uint32_t heap_need, uint32_t live)
{
    (void) jit_state, (void) live;
    host_frame_calls++;
    if (ctx->heap.root->next || ctx->heap.heap_ptr + heap_need > ctx->e - (stack_need + 1)) {
        ctx->heap.root->next = NULL;
    }
    ctx->e -= stack_need + 1;
    ctx->e[stack_need] = ctx->cp;
    return true;
}

static bool host_deallocate(Context *ctx, JITState *jit_state, uint32_t n_words)
{
    (void) jit_state;
    host_frame_calls++;
    ctx->cp = ctx->e[n_words];
    ctx->e += n_words + 1;
    ctx->heap.root->next = NULL;
    return true;
}

/* Entries 12 and 16 as AtomVM's test_heap and term_alloc_tuple. The host
 * collects no garbage, so test_heap answers true whatever the heap (as
 * AtomVM's does after any collection it makes); term_alloc_tuple makes
 * the tuple at the heap's top. They count their calls. */
int host_heap_calls;

static bool host_test_heap(Context *ctx, JITState *jit_state, uint32_t heap_need, uint32_t live)
{
    (void) ctx, (void) jit_state, (void) heap_need, (void) live;
    host_heap_calls++;
    return true;
}

static term host_term_alloc_tuple(Context *ctx, uint32_t size)
{
    host_heap_calls++;
    term *tuple = ctx->heap.heap_ptr;
    ctx->heap.heap_ptr += 1 + size;
    tuple[0] = (term) (size << 6);
    return (term) (uintptr_t) tuple | 0x2;
}

/* The one BIF of the host, import 2 of every module: x[0] * 2. */
static term host_bif_double_x0(Context *ctx)
{
    return ctx->x[0] * 2;
}

static const struct Bif host_bif = { .base.type = BIFFunctionType, .bif0_ptr = host_bif_double_x0 };

/* erlang:'+'/2, '-'/2, 'band'/2, 'bor'/2, 'bxor'/2 and 'bsr'/2 as AtomVM
 * computes them for two small integers (bsr: a shift that is not negative); anything else (other terms, overflow) answers 0, AtomVM's
 * error return. They count their calls. */
int host_small_int_bif_calls;

term bif_erlang_add_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2)
{
    (void) ctx, (void) fail_label, (void) live;
    host_small_int_bif_calls++;
    avm_int_t res;
    if (!term_is_integer(arg1) || !term_is_integer(arg2)
        || __builtin_add_overflow((avm_int_t) (arg1 & ~0xF), (avm_int_t) (arg2 & ~0xF), &res)) {
        return 0;
    }
    return (term) res | 0xF;
}

term bif_erlang_sub_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2)
{
    (void) ctx, (void) fail_label, (void) live;
    host_small_int_bif_calls++;
    avm_int_t res;
    if (!term_is_integer(arg1) || !term_is_integer(arg2)
        || __builtin_sub_overflow((avm_int_t) (arg1 & ~0xF), (avm_int_t) (arg2 & ~0xF), &res)) {
        return 0;
    }
    return (term) res | 0xF;
}

term bif_erlang_band_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2)
{
    (void) ctx, (void) fail_label, (void) live;
    host_small_int_bif_calls++;
    return term_is_integer(arg1) && term_is_integer(arg2) ? (arg1 & arg2) : 0;
}

term bif_erlang_bor_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2)
{
    (void) ctx, (void) fail_label, (void) live;
    host_small_int_bif_calls++;
    return term_is_integer(arg1) && term_is_integer(arg2) ? (arg1 | arg2) : 0;
}

term bif_erlang_bxor_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2)
{
    (void) ctx, (void) fail_label, (void) live;
    host_small_int_bif_calls++;
    return term_is_integer(arg1) && term_is_integer(arg2) ? ((arg1 ^ arg2) | 0xF) : 0;
}

term bif_erlang_bsr_2(Context *ctx, uint32_t fail_label, int live, term arg1, term arg2)
{
    (void) ctx, (void) fail_label, (void) live;
    host_small_int_bif_calls++;
    if (!term_is_integer(arg1) || !term_is_integer(arg2) || term_to_int(arg2) < 0) {
        return 0;
    }
    int64_t shift = term_to_int(arg2) < 63 ? term_to_int(arg2) : 63;
    return term_from_int((avm_int_t) ((int64_t) term_to_int(arg1) >> shift));
}

/* erlang:map_get/2 as AtomVM answers a key found in a map (0 otherwise,
 * AtomVM's error return). */
term bif_erlang_map_get_2(Context *ctx, uint32_t fail_label, term arg1, term arg2)
{
    (void) fail_label;
    if ((arg2 & 0x3) != 0x2 || (term_to_const_term_ptr(arg2)[0] & 0x3F) != TERM_BOXED_MAP) {
        return 0;
    }
    int pos = host_term_find_map_pos(ctx, arg2, arg1);
    return pos < 0 ? 0 : term_to_const_term_ptr(arg2)[2 + pos];
}

/* Import 3: erlang:'+'/2 (AtomVM keeps a GC BIF's pointer where bif0_ptr
 * is, in a union). */
static const struct Bif host_add = { .base.type = BIFFunctionType, .bif0_ptr = (BifImpl0) bif_erlang_add_2 };
static const struct ExportedFunction *host_imports[4] = { NULL, NULL, &host_bif.base, &host_add.base };

/* AtomVM's global of this name is what the shim hands to the runtime. */
const ModuleNativeInterface module_native_interface = {
    .do_return = (PrimitiveCtxState) atomvm_wasm_jit_return,
    .schedule_next_cp = host_schedule_next_cp,
    .module_get_atom_term_by_id = host_get_atom_term,
    .call_ext = host_call_ext,
    .test_set_module = host_set_module,
    .jit_trim_live_regs = host_trim_live_regs,
    .get_imported_bif = host_get_imported_bif,
    .terminate_context = host_terminate_context,
    .term_compare = host_term_compare,
    .term_find_map_pos = host_term_find_map_pos,
    .put_map_assoc = host_put_map_assoc,
    .allocate = host_allocate,
    .test_heap = host_test_heap,
    .term_alloc_tuple = host_term_alloc_tuple,
    .deallocate = host_deallocate,
    .past_the_end = { 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF },
};

/* Another interface, which a label may load into local 2: its
 * terminate_context marks x[1] = 77 instead of ending the process. */
static Context *alt_terminate_context(Context *ctx, JITState *jit_state)
{
    ctx->x[1] = 77;
    jit_state->continuation = 0;
    return ctx;
}

const ModuleNativeInterface host_alt_interface = {
    .terminate_context = alt_terminate_context,
};

/* ---- modules ------------------------------------------------------------- */

ModuleNativeEntryPoint module_get_native_entry_point(Module *mod, int label)
{
    return (ModuleNativeEntryPoint) jit_wasm_get_entry_point(mod->native_code, label);
}

uint8_t *host_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(n > 0 ? (size_t) n : 1);
    if (bytes && fread(bytes, 1, (size_t) n, f) != (size_t) n) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    *size = (size_t) n;
    return bytes;
}

Module *host_adopt(const void *native_code, int index)
{
    Module *mod = calloc(1, sizeof(Module));
    mod->module_index = index;
    mod->native_code = native_code;
    mod->imported_funcs = host_imports;
    mod->local_atoms_to_global_table = host_atoms;
    atomvm_wasm_jit_bind_module(mod, native_code);
    modules_by_index[index & 0xFF] = mod;
    return mod;
}

Module *host_load_bytes(const uint8_t *bytes, size_t size, int index)
{
    const void *native_code = sys_map_native_code(bytes, size);
    if (!native_code) {
        return NULL;
    }
    return host_adopt(native_code, index);
}

Module *host_load_file(const char *path, int index)
{
    size_t size;
    uint8_t *bytes = host_read_file(path, &size);
    if (!bytes) {
        fprintf(stderr, "cannot read %s\n", path);
        return NULL;
    }
    Module *mod = host_load_bytes(bytes, size, index);
    /* The runtime keeps its own copy: scribble over ours to prove it. */
    memset(bytes, 0xAA, size);
    free(bytes);
    return mod;
}

void host_unload(Module *mod)
{
    sys_release_native_code(mod->native_code);
    free(mod);
}

/* ---- processes and the dispatch loop -------------------------------------- */

void process_init(Process *p, Module *mod, int entry_label)
{
    memset(p, 0, sizeof(*p));
    list_init(&p->ctx.extended_x_regs);
    /* An empty heap without fragments, the stack at its end. */
    p->ctx.heap.root = &p->root;
    p->ctx.heap.heap_start = p->ctx.heap.heap_ptr = p->heap;
    p->ctx.heap.heap_end = p->ctx.e = p->heap + sizeof(p->heap) / sizeof(p->heap[0]);
    p->mod = mod;
    p->cont = (uintptr_t) entry_label + 1;
}

bool run_slice(Process *p, int reductions)
{
    return dispatch_slice(p, reductions, module_get_native_entry_point);
}

bool process_run(Process *p, int reductions, int max_slices)
{
    while (!p->done) {
        if (p->slices++ >= max_slices) {
            return false;
        }
        if (!run_slice(p, reductions)) {
            return false;
        }
    }
    return true;
}

/* ---- the stand-in for AtomVM's atom table ---------------------------------- */

static char atoms[64][256];
static int atom_count;

term globalcontext_make_atom(GlobalContext *glb, AtomString string)
{
    (void) glb;
    const unsigned char *s = string;
    char name[256];
    memcpy(name, s + 1, s[0]);
    name[s[0]] = 0;
    for (int i = 0; i < atom_count; i++) {
        if (strcmp(atoms[i], name) == 0) {
            return ((term) i << 6) | 0xB;
        }
    }
    strcpy(atoms[atom_count], name);
    return ((term) atom_count++ << 6) | 0xB;
}

const char *host_atom_name(term atom)
{
    return atoms[atom >> 6];
}

/* ---- what the tests measure ------------------------------------------------ */

int host_table_length(void)
{
    return EM_ASM_INT({ return wasmTable.length; });
}

bool host_table_slot_is_null(int index)
{
    return EM_ASM_INT({ return wasmTable.get($0) === null ? 1 : 0; }, index);
}

bool host_table_slot_is_function(int index)
{
    return EM_ASM_INT({ return typeof wasmTable.get($0) === 'function' ? 1 : 0; }, index);
}

size_t host_heap_in_use(void)
{
    struct mallinfo mi = mallinfo();
    return (size_t) mi.uordblks;
}
