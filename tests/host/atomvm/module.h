/* Test stand-in for AtomVM's Module: module_index first (spec section 2). */
#ifndef TEST_ATOMVM_MODULE_H
#define TEST_ATOMVM_MODULE_H
#include <stddef.h>
#include <stdint.h>
struct ExportedFunction;
typedef struct Module Module;
struct Module
{
    int module_index;
    const void *native_code;
    /* The module's BEAM file, hashed by the native-code cache. */
    uint8_t *binary;
    size_t binary_size;
    /* What get_imported_bif (entry 8) reads: the module's imports. */
    const struct ExportedFunction **imported_funcs;
    /* What module_get_atom_term_by_id (entry 3) reads: the global index
     * of each of the module's atoms. */
    uint32_t *local_atoms_to_global_table;
};
#endif
