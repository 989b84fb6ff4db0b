/* Size probe: what the shim provides to the library, without AtomVM. */
#include <stdbool.h>
#include <stdint.h>

static const int interface_stand_in[77];
const void *atomvm_wasm_jit_native_interface(void) { return interface_stand_in; }
bool atomvm_wasm_jit_imported_bif_layout(uint32_t *out)
{
    (void) out;
    return false;
}
bool atomvm_wasm_jit_atom_layout(uint32_t *out)
{
    (void) out;
    return false;
}
bool atomvm_wasm_jit_small_int_bifs(uint32_t *out)
{
    (void) out;
    return false;
}
int32_t atomvm_wasm_jit_extended_x_regs_offset(void) { return -1; }
bool atomvm_wasm_jit_term_compare_known(void) { return false; }
bool atomvm_wasm_jit_map_lookup_known(void) { return false; }
bool atomvm_wasm_jit_map_update_known(void) { return false; }
bool atomvm_wasm_jit_map_get_bif(uint32_t *out)
{
    (void) out;
    return false;
}
bool atomvm_wasm_jit_heap_layout(uint32_t *out)
{
    (void) out;
    return false;
}
bool atomvm_wasm_jit_heap_bounds(uint32_t *out)
{
    (void) out;
    return false;
}
