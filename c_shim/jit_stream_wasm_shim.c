/*
 * atomvm_wasm_jit: the part that must see AtomVM's own headers. Compiled in
 * AtomVM's build next to libatomvm_wasm_jit.a, in place of
 * src/platforms/emscripten/src/lib/jit_stream_wasm.c.
 *
 *  - jit_stream_entry_point: a stream produced at run time arrives as an
 *    Erlang binary term; hand its bytes to sys_map_native_code (Rust).
 *  - jit_stream_wasm_get_nif: the NIF jit:stream_module/0, which tells the
 *    Erlang side to use the jit_stream_binary stream module.
 *  - atomvm_wasm_jit_native_interface: the address of AtomVM's
 *    module_native_interface, so that the runtime can bind primitive calls
 *    of JIT modules to its entries when it instantiates them.
 *  - atomvm_wasm_jit_imported_bif_layout: where AtomVM's get_imported_bif
 *    reads, so that the runtime can read imported BIFs in JIT modules
 *    itself; given only if the interface's entry answers a probe as those
 *    reads do.
 *  - atomvm_wasm_jit_atom_layout: where AtomVM's module_get_atom_term_by_id
 *    reads, so that the runtime can read atom constants in JIT modules
 *    itself; given only if the term encoding is the one the runtime
 *    assumes and the interface's entry answers a probe as those reads do.
 *  - atomvm_wasm_jit_extended_x_regs_offset: where AtomVM's trim_live_regs
 *    looks first, so that the runtime can skip its calls when the process
 *    has no extended x registers; given only if the interface's entry
 *    leaves a probe context without them untouched.
 *  - atomvm_wasm_jit_small_int_bifs: the function pointers of AtomVM's
 *    erlang:'+'/2, '-'/2, 'band'/2, 'bor'/2, 'bxor'/2 and 'bsr'/2, so that the runtime can answer them
 *    in JIT modules for two small integers; given only if the term encoding
 *    is the one the runtime assumes and each BIF answers a probe of small
 *    integers as the runtime would.
 *  - atomvm_wasm_jit_term_compare_known: whether the term encoding and
 *    term_compare's answers are the ones the runtime assumes when it
 *    answers comparisons of immediates in JIT modules; checked against
 *    the headers and by probing the interface's entry with equal words and
 *    small integers.
 *  - atomvm_wasm_jit_map_lookup_known: whether the term encoding, the map
 *    layout and term_find_map_pos's answers are the ones the runtime
 *    assumes when it finds small integers and atoms among immediate keys
 *    in JIT modules; checked against the headers and by probing the
 *    interface's entry with a map of immediate keys.
 *  - atomvm_wasm_jit_map_get_bif: the function pointer of AtomVM's
 *    erlang:map_get/2, so that the runtime can answer it in JIT modules for
 *    small integers and atoms among immediate keys; given only if the term
 *    encoding and map layout are the ones the runtime assumes and the BIF
 *    answers a probe of a map as the runtime would.
 *  - atomvm_wasm_jit_map_update_known: whether the term encoding, the map
 *    layout and jit_put_map_assoc's new map are the ones the runtime
 *    assumes when it replaces the value of one small integer or atom key
 *    in JIT modules; checked against the headers and by probing the
 *    interface's entry with a map and a heap of the shim's own.
 *  - atomvm_wasm_jit_heap_layout: where the heap's root fragment and top
 *    are in a Context, and a fragment's next, so that the runtime can make
 *    and drop stack frames in JIT modules when no garbage collection is
 *    due; given only if the interface's allocate and deallocate made and
 *    dropped a frame on a probe context exactly so.
 *  - atomvm_wasm_jit_heap_bounds: where a heap's start, top and end are in
 *    a Context, and the coefficient past which test_heap shrinks the heap,
 *    so that the runtime can answer test_heap when no garbage collection is
 *    due and make tuples in JIT modules; given only if the interface's
 *    test_heap answered true at the edges of both bounds on a probe
 *    context, and its term_alloc_tuple made a tuple there, touching nothing
 *    else, and not when AtomVM checks its heap allocations.
 *  - sys_get_cache_native_code / sys_set_cache_native_code: the native-code
 *    cache, keyed by the module's BEAM binary (Module.binary) and by this
 *    build of AtomVM (its version and JIT format version; the Rust side adds
 *    the content of the native interface and its own formats).
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bif.h"
#include "context.h"
#include "exportedfunction.h"
#include "globalcontext.h"
#include "jit.h"
#include "nifs.h"
#include "sys.h"
#include "term.h"
#include "module.h"
#include "utils.h"

#if __has_include("avm_version.h")
#include "avm_version.h"
#endif
#ifndef ATOMVM_VERSION
#define ATOMVM_VERSION "unknown"
#endif

/* Defined in the Rust library (include/atomvm_wasm_jit.h). */
void atomvm_wasm_jit_record_error(const char *message);
const void *atomvm_wasm_jit_map_runtime_stream(const uint8_t *code, size_t size);
const void *atomvm_wasm_jit_cache_get(const uint8_t *beam, size_t beam_size, const char *build,
    uint16_t *version, uint32_t *labels);
bool atomvm_wasm_jit_cache_put(const uint8_t *beam, size_t beam_size, const char *build, uint16_t version,
    const void *native_code, uint32_t labels);

#define SHIM_STR2(x) #x
#define SHIM_STR(x) SHIM_STR2(x)
static const char cache_build[] = "AtomVM " ATOMVM_VERSION " jit-format " SHIM_STR(JIT_FORMAT_VERSION) " wasm32";

ModuleNativeEntryPoint jit_stream_entry_point(Context *ctx, term stream)
{
    UNUSED(ctx);
    if (!term_is_binary(stream)) {
        atomvm_wasm_jit_record_error("jit_stream_entry_point: the JIT stream is not a binary");
        return NULL;
    }
    return (ModuleNativeEntryPoint) atomvm_wasm_jit_map_runtime_stream(
        (const uint8_t *) term_binary_data(stream), term_binary_size(stream));
}

bool sys_get_cache_native_code(GlobalContext *global, Module *mod, uint16_t *version,
    ModuleNativeEntryPoint *entry_point, uint32_t *labels)
{
    UNUSED(global);
    const void *native_code = atomvm_wasm_jit_cache_get(mod->binary, mod->binary_size, cache_build, version, labels);
    if (native_code == NULL) {
        return false;
    }
    if (*version != JIT_FORMAT_VERSION) {
        /* AtomVM would not use it: do not keep it loaded. */
        sys_release_native_code((ModuleNativeEntryPoint) native_code);
        return false;
    }
    *entry_point = (ModuleNativeEntryPoint) native_code;
    return true;
}

void sys_set_cache_native_code(GlobalContext *global, Module *mod, uint16_t version,
    ModuleNativeEntryPoint entry_point, uint32_t labels)
{
    UNUSED(global);
    atomvm_wasm_jit_cache_put(mod->binary, mod->binary_size, cache_build, version, (const void *) entry_point, labels);
}

const void *atomvm_wasm_jit_native_interface(void)
{
    return &module_native_interface;
}

bool atomvm_wasm_jit_imported_bif_layout(uint32_t out[2])
{
    long from_base = (long) offsetof(struct Bif, bif0_ptr) - (long) offsetof(struct Bif, base);
    if (from_base < 0) {
        return false;
    }
    /* Two BIFs whose pointers are marks, never called: entry 8 must answer
     * imported_funcs[i]'s bif0_ptr for each i. */
    struct Bif probes[2];
    memset(probes, 0, sizeof(probes));
    probes[0].base.type = BIFFunctionType;
    probes[0].bif0_ptr = (BifImpl0) (uintptr_t) 0x5EED0001u;
    probes[1].base.type = BIFFunctionType;
    probes[1].bif0_ptr = (BifImpl0) (uintptr_t) 0x5EED0002u;
    const struct ExportedFunction *imports[3] = { &probes[1].base, &probes[0].base, &probes[1].base };
    Module module;
    memset(&module, 0, sizeof(module));
    module.imported_funcs = imports;
    JITState state;
    memset(&state, 0, sizeof(state));
    state.module = &module;
    for (uint32_t i = 0; i < 3; i++) {
        if (module_native_interface.get_imported_bif(&state, i) != probes[i == 1 ? 0 : 1].bif0_ptr) {
            return false;
        }
    }
    out[0] = (uint32_t) offsetof(Module, imported_funcs);
    out[1] = (uint32_t) from_base;
    return true;
}

bool atomvm_wasm_jit_atom_layout(uint32_t out[1])
{
    /* The runtime's reads: a 32-bit global index per local atom, made a
     * term as term_from_atom_index does, (index << 6) | 0xB. */
    Module module;
    memset(&module, 0, sizeof(module));
    if (sizeof(module.local_atoms_to_global_table[0]) != 4 || sizeof(term) != 4
        || term_from_atom_index(5) != (term) ((5u << 6) | 0xB)) {
        return false;
    }
    /* A table of the module's own: entry 3 must answer the term of
     * table[i] for each i, the largest index AtomVM's terms hold included. */
    static uint32_t globals[4] = { 0, 7, 12345, 0x3FFFFFF };
    module.local_atoms_to_global_table = (void *) globals;
    JITState state;
    memset(&state, 0, sizeof(state));
    state.module = &module;
    for (int i = 0; i < 4; i++) {
        if (module_native_interface.module_get_atom_term_by_id(&state, i) != (term) ((globals[i] << 6) | 0xB)) {
            return false;
        }
    }
    out[0] = (uint32_t) offsetof(Module, local_atoms_to_global_table);
    return true;
}

int32_t atomvm_wasm_jit_extended_x_regs_offset(void)
{
    /* A context whose extended x registers are an empty list: entry 7 must
     * leave it as it was, whatever the live count. */
    static Context probe, copy;
    memset(&probe, 0, sizeof(probe));
    list_init(&probe.extended_x_regs);
    memcpy(&copy, &probe, sizeof(probe));
    module_native_interface.jit_trim_live_regs(&probe, 0);
    module_native_interface.jit_trim_live_regs(&probe, 3);
    if (memcmp(&copy, &probe, sizeof(probe)) != 0 || !list_is_empty(&probe.extended_x_regs)) {
        return -1;
    }
    return (int32_t) offsetof(Context, extended_x_regs);
}

bool atomvm_wasm_jit_small_int_bifs(uint32_t out[6])
{
    /* The runtime's fast paths: a small integer has the low four bits
     * TERM_INTEGER_TAG = 0xF, its value is the word >> 4, and avm_int_t is
     * the 32 bits of a wasm32 word. */
    if (TERM_IMMED_TAG_MASK != 0xF || TERM_INTEGER_TAG != 0xF || sizeof(avm_int_t) != 4
        || sizeof(term) != 4 || term_from_int(-3) != (term) 0xFFFFFFDFu) {
        return false;
    }
    /* On two small integers (the largest and smallest among them, so that
     * the probe does not reach the overflow helpers) the three BIFs only
     * compute: they do not read ctx. */
    static const struct
    {
        avm_int_t a, b, add, sub, band;
    } probes[] = {
        { 3, 4, 7, -1, 0 },
        { -5, 12, 7, -17, 8 },
        { 0x3FFFFFF, 0x4000000, 0x7FFFFFF, -1, 0 },
        { -0x4000000, -0x4000000, -0x8000000, 0, -0x4000000 },
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        term a = term_from_int(probes[i].a);
        term b = term_from_int(probes[i].b);
        if (bif_erlang_add_2(NULL, 0, 0, a, b) != term_from_int(probes[i].add)
            || bif_erlang_sub_2(NULL, 0, 0, a, b) != term_from_int(probes[i].sub)
            || bif_erlang_band_2(NULL, 0, 0, a, b) != term_from_int(probes[i].band)) {
            return false;
        }
    }
    /* bor, bxor and bsr, on terms of their own: bsr only with shifts that
     * are not negative (0, within the value, past 31 and past 63). The
     * table above has negative second terms, which bsr would take as left
     * shifts, a path that may allocate through ctx (NULL here). */
    static const struct
    {
        avm_int_t a, b, bor, bxor, bsr;
    } bits[] = {
        { 3, 4, 7, 7, 0 },
        { -5, 12, -1, -9, -1 },
        { 0x7FFFFFF, 0, 0x7FFFFFF, 0x7FFFFFF, 0x7FFFFFF },
        { -0x8000000, 27, -0x8000000 | 27, -0x8000000 ^ 27, -1 },
        { 0x5A5A5A5, 40, 0x5A5A5AD, 0x5A5A58D, 0 },
        { -0x1234567, 100, -0x1234567 | 100, -0x1234567 ^ 100, -1 },
        { -1000, 3, -1000 | 3, -1000 ^ 3, -125 },
    };
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        term a = term_from_int(bits[i].a);
        term b = term_from_int(bits[i].b);
        if (bif_erlang_bor_2(NULL, 0, 0, a, b) != term_from_int(bits[i].bor)
            || bif_erlang_bxor_2(NULL, 0, 0, a, b) != term_from_int(bits[i].bxor)
            || bif_erlang_bsr_2(NULL, 0, 0, a, b) != term_from_int(bits[i].bsr)) {
            return false;
        }
    }
    out[0] = (uint32_t) (uintptr_t) bif_erlang_add_2;
    out[1] = (uint32_t) (uintptr_t) bif_erlang_sub_2;
    out[2] = (uint32_t) (uintptr_t) bif_erlang_band_2;
    out[3] = (uint32_t) (uintptr_t) bif_erlang_bor_2;
    out[4] = (uint32_t) (uintptr_t) bif_erlang_bxor_2;
    out[5] = (uint32_t) (uintptr_t) bif_erlang_bsr_2;
    return true;
}

bool atomvm_wasm_jit_term_compare_known(void)
{
    /* The runtime's fast paths: TermEquals, TermLessThan, TermGreaterThan
     * are 1, 2, 4; a small integer has the low four bits 0xF and orders
     * as its signed word; an atom has the low six bits 0xB. */
    if (TermEquals != 1 || TermLessThan != 2 || TermGreaterThan != 4 || TERM_INTEGER_TAG != 0xF
        || TERM_IMMED_TAG_MASK != 0xF || TERM_IMMED2_TAG_MASK != 0x3F || TERM_IMMED2_ATOM != 0xB
        || sizeof(term) != 4 || term_from_atom_index(5) != (term) ((5 << 6) | 0xB)
        || !term_is_atom(term_from_atom_index(5)) || term_is_integer(term_from_atom_index(5))) {
        return false;
    }
    /* Equal words and small integers need neither the process nor the
     * atom table: ctx->global is read only for atoms of two names. */
    static Context probe;
    static JITState state;
    memset(&probe, 0, sizeof(probe));
    memset(&state, 0, sizeof(state));
    static const struct
    {
        avm_int_t a, b;
        TermCompareResult result;
    } ints[] = {
        { 3, 4, TermLessThan },
        { 4, 3, TermGreaterThan },
        { -1, -2, TermGreaterThan },
        { -0x8000000, 0x7FFFFFF, TermLessThan },
        { 0x7FFFFFF, -0x8000000, TermGreaterThan },
        { 7, 7, TermEquals },
    };
    for (int opts = 0; opts < 2; opts++) {
        for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
            if (module_native_interface.term_compare(&probe, &state, term_from_int(ints[i].a),
                    term_from_int(ints[i].b), (TermCompareOpts) opts)
                != ints[i].result) {
                return false;
            }
        }
        term atom = term_from_atom_index(5);
        if (module_native_interface.term_compare(&probe, &state, atom, atom, (TermCompareOpts) opts) != TermEquals) {
            return false;
        }
    }
    return true;
}

/* Zeroes *probe, *root and the n words of the heap, and makes *probe a
 * process without extended x registers whose heap is those words, without
 * fragments, with `used` words used; the stack (e) is left to the caller. */
static void probe_heap(Context *probe, HeapFragment *root, term *words, size_t n, size_t used)
{
    memset(probe, 0, sizeof(*probe));
    memset(root, 0, sizeof(*root));
    memset(words, 0, n * sizeof(term));
    list_init(&probe->extended_x_regs);
    probe->heap.root = root;
    probe->heap.heap_start = words;
    probe->heap.heap_ptr = words + used;
    probe->heap.heap_end = words + n;
}

bool atomvm_wasm_jit_heap_layout(uint32_t out[3])
{
    /* A process with a heap of 16 words, 2 used, no fragments, the stack
     * at the end from word 12: allocate(3 words, 4 on the heap) must make
     * the frame at word 8 with cp at word 11 and touch nothing else;
     * deallocate(3) must take cp back from word 11 and e back to word 12. */
    static Context probe, copy;
    static HeapFragment root;
    static term words[16];
    static JITState state;
    const term cp = (term) 0x12345670u, other_cp = (term) 0x7654320u;
    probe_heap(&probe, &root, words, 16, 2);
    probe.e = words + 12;
    probe.cp = cp;
    memcpy(&copy, &probe, sizeof(probe));
    if (!module_native_interface.allocate(&probe, &state, 3, 4, 0) || words[11] != cp) {
        return false;
    }
    copy.e = words + 8;
    if (memcmp(&copy, &probe, sizeof(probe)) != 0) {
        return false;
    }
    words[11] = other_cp;
    if (!module_native_interface.deallocate(&probe, &state, 3)) {
        return false;
    }
    copy.e = words + 12;
    copy.cp = other_cp;
    if (memcmp(&copy, &probe, sizeof(probe)) != 0 || root.next != NULL) {
        return false;
    }
    out[0] = (uint32_t) offsetof(Context, heap.root);
    out[1] = (uint32_t) offsetof(Context, heap.heap_ptr);
    out[2] = (uint32_t) offsetof(HeapFragment, next);
    return true;
}

bool atomvm_wasm_jit_heap_bounds(uint32_t out[4])
{
#ifdef DEBUG_HEAP_ALLOC
    /* memory_heap_alloc then aborts past the heap's end: the module's
     * tuples would not. */
    (void) out;
    return false;
#else
    /* A process with a heap of 256 words and its top at word 16; the
     * stack (e) in the fragment at word 16 + 64, or outside it. Each
     * check below needs no collection, so test_heap must answer true and
     * change nothing: with e in the fragment, 64 free words and needs of
     * 64 (all) and 1 (64 * 1, the shrink bound); with e elsewhere, the
     * fragment's end bounds the 240 free words, needs 240 and 4 (4 * 64 =
     * 256 >= 240, where 3 would shrink). Then term_alloc_tuple(3) must
     * write the header 3 << 6 at word 16, move the top to word 20 and
     * answer word 16's address | 2. */
    static Context probe, copy;
    static HeapFragment root;
    static term words[256], elsewhere[4];
    static JITState state;
    const uint32_t coeff = HEAP_NEED_GC_SHRINK_THRESHOLD_COEFF;
    if (sizeof(term) != 4 || sizeof(term *) != 4 || coeff != 64) {
        return false;
    }
    probe_heap(&probe, &root, words, 256, 16);
    const struct
    {
        term *e;
        uint32_t need;
    } checks[] = { { words + 80, 64 }, { words + 80, 1 }, { elsewhere, 240 }, { elsewhere, 4 } };
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        probe.e = checks[i].e;
        memcpy(&copy, &probe, sizeof(probe));
        if (!module_native_interface.test_heap(&probe, &state, checks[i].need, 0)
            || memcmp(&copy, &probe, sizeof(probe)) != 0 || root.next != NULL) {
            return false;
        }
    }
    probe.e = words + 80;
    memcpy(&copy, &probe, sizeof(probe));
    term tuple = module_native_interface.term_alloc_tuple(&probe, 3);
    copy.heap.heap_ptr = words + 20;
    if (tuple != ((term) (uintptr_t) (words + 16) | 2) || words[16] != (term) (3 << 6)
        || memcmp(&copy, &probe, sizeof(probe)) != 0) {
        return false;
    }
    out[0] = (uint32_t) offsetof(Context, heap.heap_start);
    out[1] = (uint32_t) offsetof(Context, heap.heap_ptr);
    out[2] = (uint32_t) offsetof(Context, heap.heap_end);
    out[3] = coeff;
    return true;
#endif
}

/* A map of three immediate keys (two small integers and an atom, in the
 * order AtomVM keeps a map's keys: by value, numbers first) with
 * values 0x100, 0x110, 0x120 as small integers, laid out as the runtime
 * reads a map; the header's own accessors must read it so too. 0 if the
 * term encoding is not the one the runtime assumes: a map is a boxed term
 * (low two bits 2) whose word 0 has the tag TERM_BOXED_MAP in its low six
 * bits, whose word 1 is its keys' tuple, also boxed, whose word 0 has the
 * arity in its bits 6 and up and whose keys follow, and whose values
 * follow the keys' tuple; an immediate has the low two bits 3; small
 * integers and atoms as for term_compare; not found is -1. *probe_out is a
 * zeroed context to probe with. */
static term probe_map(term keys_out[3], Context **probe_out)
{
    if (TERM_PRIMARY_MASK != 0x3 || TERM_PRIMARY_IMMED != 0x3 || TERM_PRIMARY_BOXED != 0x2
        || TERM_BOXED_MAP != 0x2C || TERM_MAP_NOT_FOUND != -1 || TERM_INTEGER_TAG != 0xF
        || TERM_IMMED_TAG_MASK != 0xF || TERM_IMMED2_TAG_MASK != 0x3F || TERM_IMMED2_ATOM != 0xB
        || sizeof(term) != 4 || term_get_map_keys_offset() != 1 || term_from_int(-3) != (term) 0xFFFFFFDFu
        || term_from_atom_index(5) != (term) ((5 << 6) | 0xB)) {
        return 0;
    }
    static term words[12] __attribute__((aligned(8)));
    memset(words, 0, sizeof(words));
    keys_out[0] = term_from_int(-2);
    keys_out[1] = term_from_int(7);
    keys_out[2] = term_from_atom_index(5);
    words[0] = (term) (3 << 6) | TERM_BOXED_TUPLE;
    words[4] = (term) (4 << 6) | TERM_BOXED_MAP;
    words[5] = (term) (uintptr_t) &words[0] | TERM_PRIMARY_BOXED;
    for (int i = 0; i < 3; i++) {
        words[1 + i] = keys_out[i];
        words[6 + i] = term_from_int(0x100 + 0x10 * i);
    }
    term map = (term) (uintptr_t) &words[4] | TERM_PRIMARY_BOXED;
    if (term_get_map_keys(map) != words[5] || term_get_tuple_arity(words[5]) != 3
        || term_get_tuple_element(words[5], 2) != keys_out[2]) {
        return 0;
    }
    static Context probe;
    memset(&probe, 0, sizeof(probe));
    *probe_out = &probe;
    return map;
}

bool atomvm_wasm_jit_map_lookup_known(void)
{
    /* Finding the keys, or a small integer that is not one, compares
     * words of different types or equal words only: ctx->global is not
     * read. */
    Context *probe;
    term keys[3];
    term map = probe_map(keys, &probe);
    if (map == 0) {
        return false;
    }
    for (int i = 0; i < 3; i++) {
        if (module_native_interface.term_find_map_pos(probe, map, keys[i]) != i) {
            return false;
        }
    }
    return module_native_interface.term_find_map_pos(probe, map, term_from_int(8)) == TERM_MAP_NOT_FOUND;
}

bool atomvm_wasm_jit_map_update_known(void)
{
    /* Each key updated in turn on a heap of 8 words: the new map must be
     * the first 5 (header, the same keys' term, the values with the one
     * replaced), the heap's top must move past them, and nothing else may
     * change: not the map, its keys, the pair, the rest of the heap or of
     * the context. The keys compare as small integers by value and with
     * the atom by type, and the equal words: ctx->global is not read. */
    Context *probe;
    term keys[3];
    term map = probe_map(keys, &probe);
    if (map == 0 || term_get_map_value_offset() != 2) {
        return false;
    }
    const term *words = term_to_const_term_ptr(map);
    term map_before[5], keys_before[4];
    memcpy(map_before, words, sizeof(map_before));
    memcpy(keys_before, term_to_const_term_ptr(words[1]), sizeof(keys_before));
    static term heap[8] __attribute__((aligned(8)));
    static JITState state;
    static Context copy;
    for (int i = 0; i < 3; i++) {
        memset(heap, 0, sizeof(heap));
        probe->heap.heap_start = probe->heap.heap_ptr = heap;
        probe->heap.heap_end = heap + 8;
        memcpy(&copy, probe, sizeof(copy));
        term kv[2] = { keys[i], term_from_int(0x999) };
        term updated = module_native_interface.put_map_assoc(probe, &state, map, 0, 1, kv);
        copy.heap.heap_ptr = heap + 5;
        if (updated != ((term) (uintptr_t) heap | TERM_PRIMARY_BOXED) || memcmp(&copy, probe, sizeof(copy)) != 0
            || heap[0] != (((term) 4 << 6) | TERM_BOXED_MAP) || heap[1] != words[1] || heap[5] != 0 || heap[6] != 0
            || heap[7] != 0 || kv[0] != keys[i] || kv[1] != term_from_int(0x999)
            || memcmp(map_before, words, sizeof(map_before)) != 0
            || memcmp(keys_before, term_to_const_term_ptr(words[1]), sizeof(keys_before)) != 0) {
            return false;
        }
        for (int j = 0; j < 3; j++) {
            if (heap[2 + j] != (j == i ? term_from_int(0x999) : words[2 + j])) {
                return false;
            }
        }
    }
    return true;
}

bool atomvm_wasm_jit_map_get_bif(uint32_t out[1])
{
    /* Keys found: the BIF reads the map and ctx->global only (not for
     * these keys), and raises nothing. */
    Context *probe;
    term keys[3];
    term map = probe_map(keys, &probe);
    if (map == 0) {
        return false;
    }
    for (int i = 0; i < 3; i++) {
        if (bif_erlang_map_get_2(probe, 0, keys[i], map) != term_from_int(0x100 + 0x10 * i)) {
            return false;
        }
    }
    out[0] = (uint32_t) (uintptr_t) bif_erlang_map_get_2;
    return true;
}

static term stream_module_nif(Context *ctx, int argc, term argv[])
{
    UNUSED(argc);
    UNUSED(argv);
    return globalcontext_make_atom(ctx->global, ATOM_STR("\x11", "jit_stream_binary"));
}

static const struct Nif stream_module = {
    .base.type = NIFFunctionType,
    .nif_ptr = stream_module_nif
};

const struct Nif *jit_stream_wasm_get_nif(const char *name)
{
    if (name != NULL && strcmp(name, "jit:stream_module/0") == 0) {
        return &stream_module;
    }
    return NULL;
}
