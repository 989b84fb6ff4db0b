/* Size probe: what the shim provides to the library, without AtomVM. */
static const int interface_stand_in[77];
const void *atomvm_wasm_jit_native_interface(void) { return interface_stand_in; }
