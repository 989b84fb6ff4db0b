/* Size probe: a program that calls every hook. Linked once with the library
 * and once with size_stubs.c; the difference in .wasm size is what the
 * library adds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

const void *sys_map_native_code(const uint8_t *code, size_t size);
void sys_release_native_code(const void *nc);
const void *jit_wasm_get_entry_point(const void *nc, int label);
const uint8_t *jit_wasm_get_lines_metadata(const void *nc);

int main(int argc, char **argv)
{
    const void *nc = sys_map_native_code((const uint8_t *) argv[0], (size_t) argc);
    printf("%p %p %p\n", nc, jit_wasm_get_entry_point(nc, argc), (const void *) jit_wasm_get_lines_metadata(nc));
    sys_release_native_code(nc);
    return 0;
}
