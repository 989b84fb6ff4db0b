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
 */

#include <string.h>

#include "context.h"
#include "globalcontext.h"
#include "jit.h"
#include "nifs.h"
#include "sys.h"
#include "term.h"
#include "utils.h"

/* Defined in the Rust library (include/atomvm_wasm_jit.h). */
void atomvm_wasm_jit_record_error(const char *message);

ModuleNativeEntryPoint jit_stream_entry_point(Context *ctx, term stream)
{
    UNUSED(ctx);
    if (!term_is_binary(stream)) {
        atomvm_wasm_jit_record_error("jit_stream_entry_point: the JIT stream is not a binary");
        return NULL;
    }
    return sys_map_native_code((const uint8_t *) term_binary_data(stream), term_binary_size(stream));
}

const void *atomvm_wasm_jit_native_interface(void)
{
    return &module_native_interface;
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
