/*
 * End-to-end tests of the runtime in a real engine, through the C ABI, with
 * the test host's dispatch loop. Usage: tests STREAMS_DIR [FIXTURES_DIR]
 * (STREAMS_DIR is written by `jit-streamgen`). Prints one line per test and
 * "N passed, M failed" at the end; exits non-zero on any failure.
 */
#include <emscripten.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include "host.h"
#include "bif.h"
#include "nifs.h"

#ifdef __EMSCRIPTEN_PTHREADS__
#include <pthread.h>
#endif

const char *host_atom_name(term atom);
ModuleNativeEntryPoint jit_stream_entry_point(Context *ctx, term stream);
const struct Nif *jit_stream_wasm_get_nif(const char *name);
/* The shim's cache hooks (AtomVM's sys.h declares them). */
bool sys_get_cache_native_code(GlobalContext *global, Module *mod, uint16_t *version,
    ModuleNativeEntryPoint *entry_point, uint32_t *labels);
void sys_set_cache_native_code(GlobalContext *global, Module *mod, uint16_t version,
    ModuleNativeEntryPoint entry_point, uint32_t labels);

static const char *streams_dir;
static bool direct_primitives_on = true;
static bool tail_calls_on = true;
static bool fixed_table; /* --constrained: no table growth, 64 MB at most */
static const char *fixtures_dir;
static atomic_int checks_failed;
static int passed, failed;

#define CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            atomic_fetch_add(&checks_failed, 1); \
            fprintf(stderr, "  check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fprintf(stderr, "\n"); \
        } \
    } while (0)

static const char *path_of(const char *dir, const char *name)
{
    static _Thread_local char buf[1024];
    snprintf(buf, sizeof(buf), "%s/%s", dir, name);
    return buf;
}

static const char *last_error(void)
{
    const char *e = atomvm_wasm_jit_last_error();
    return e ? e : "(none)";
}

static Module *load_stream(const char *name, int index)
{
    Module *m = host_load_file(path_of(streams_dir, name), index);
    CHECK(m != NULL, "loading %s: %s", name, last_error());
    return m;
}

/* ---- single-thread tests --------------------------------------------------- */

static void test_countdown_yields_when_reductions_run_out(void)
{
    Module *m = load_stream("countdown.stream", 3);
    if (!m) return;
    Process p;
    process_init(&p, m, 1);
    p.ctx.x[0] = 1000;
    CHECK(process_run(&p, 100, 1000), "run: %s", last_error());
    CHECK(p.ctx.x[0] == 0 && p.ctx.x[1] == 1000, "x0=%u x1=%u", (unsigned) p.ctx.x[0], (unsigned) p.ctx.x[1]);
    CHECK(p.yields == 10, "yields=%d, expected 10 (1000 rounds, 100 reductions a slice)", p.yields);
    CHECK(p.slices == 11, "slices=%d", p.slices);
    host_unload(m);
}

static void test_call_and_return_through_cp(void)
{
    Module *m = load_stream("call_return.stream", 4);
    if (!m) return;
    for (int reductions = 1; reductions <= 100; reductions += 99) {
        Process p;
        process_init(&p, m, 1);
        p.ctx.x[0] = 21;
        CHECK(process_run(&p, reductions, 100), "run: %s", last_error());
        CHECK(p.ctx.x[0] == 42 && p.ctx.x[1] == 43, "reductions %d: x0=%u x1=%u", reductions,
            (unsigned) p.ctx.x[0], (unsigned) p.ctx.x[1]);
        CHECK(p.ctx.cp == ((4u << 24) | (4u * 16)), "cp=%#x", (unsigned) p.ctx.cp);
        if (reductions == 1) {
            CHECK(p.yields == 1, "schedule_next_cp yields=%d", p.yields);
        }
    }
    host_unload(m);
}

static void test_two_modules_calling_each_other(void)
{
    Module *a = load_stream("ping.stream", 1);
    Module *b = load_stream("pong.stream", 2);
    if (!a || !b) return;
    for (int v = 0; v < 50; v++) {
        Process p;
        process_init(&p, a, 1);
        p.ctx.x[0] = (term) v;
        CHECK(process_run(&p, 1000, 10), "run: %s", last_error());
        CHECK(p.ctx.x[0] == (term) (v + 100) * 3, "x0=%u for %d", (unsigned) p.ctx.x[0], v);
        CHECK(p.switches == 2, "module switches=%d, expected 2 (A to B, B to A; the return stays in A)", p.switches);
    }
    /* Our module_get_native_entry_point for hosts without their own agrees
     * with AtomVM's (mod->native_code). */
    CHECK(atomvm_wasm_jit_module_get_native_entry_point(b, 1) == jit_wasm_get_entry_point(b->native_code, 1),
        "helper lookup differs");
    host_unload(a);
    host_unload(b);
}

static void test_module_switch_before_a_jump(void)
{
    Module *a = load_stream("switch_a.stream", 8);
    Module *b = load_stream("switch_b.stream", 9);
    if (!a || !b) return;
    Process p;
    process_init(&p, a, 1);
    CHECK(process_run(&p, 100, 10), "run: %s", last_error());
    CHECK(p.ctx.x[0] == 2, "x0=%u: the jump after the switch must land in module b", (unsigned) p.ctx.x[0]);
    CHECK(p.switches == 1, "switches=%d", p.switches);
    host_unload(a);
    host_unload(b);
}

static void test_lookups_of_placed_labels_call_no_javascript(void)
{
    Module *m = load_stream("chain200.stream", 10);
    if (!m) return;
    for (int l = 0; l < 200; l++) {
        CHECK(jit_wasm_get_entry_point(m->native_code, l) != NULL, "label %d", l);
    }
    uint64_t before = atomvm_wasm_jit_engine_calls();
    uintptr_t sum = 0;
    for (int i = 0; i < 1000000; i++) {
        sum += (uintptr_t) jit_wasm_get_entry_point(m->native_code, i % 200);
    }
    uint64_t after = atomvm_wasm_jit_engine_calls();
    CHECK(sum != 0, "lookups");
    CHECK(after == before, "1e6 lookups made %llu calls into JavaScript", (unsigned long long) (after - before));
    printf("  1000000 lookups, %llu JavaScript calls\n", (unsigned long long) (after - before));
    host_unload(m);
}

/* One-step registration: placing a module grows this thread's table once,
 * by its label count, and (with direct primitives) no JIT module imports
 * the table. Reads the JS library's per-thread state. */
static void test_registration_is_one_growth_without_table_imports(void)
{
    int grows_before = EM_ASM_INT({ return AVMJIT.state().grows; });
    int len_before = host_table_length();
    /* Larger than any range freed before: it needs new slots. */
    Module *m = load_stream("chain1000.stream", 14);
    if (!m) return;
    CHECK(jit_wasm_get_entry_point(m->native_code, 999) != NULL, "place: %s", last_error());
    int grows = EM_ASM_INT({ return AVMJIT.state().grows; }) - grows_before;
    int grown = host_table_length() - len_before;
    CHECK(grows == 1 && grown == 1000, "%d growths, table +%d for 1000 labels", grows, grown);
    int table_imports = EM_ASM_INT({
        var n = 0;
        AVMJIT.state().placed.forEach(function(p) {
            WebAssembly.Module.imports(p.module).forEach(function(d) { if (d.kind === 'table') n++; });
        });
        return n;
    });
    printf("  %d growth(s), table +%d, JIT modules importing the table: %d\n", grows, grown, table_imports);
    if (direct_primitives_on) {
        CHECK(table_imports == 0, "%d JIT modules import the table", table_imports);
    } else {
        CHECK(table_imports > 0, "modules as generated import the table");
    }
    host_unload(m);
}

static void test_load_release_cycles_stay_flat(void)
{
    size_t size;
    uint8_t *bytes = host_read_file(path_of(streams_dir, "countdown.stream"), &size);
    CHECK(bytes != NULL, "read");
    if (!bytes) return;
    int table_before = 0;
    size_t heap_before = 0;
    unsigned pages_before = 0;
    for (int i = 0; i < 1000; i++) {
        if (i == 10) {
            table_before = host_table_length();
            heap_before = host_heap_in_use();
            pages_before = __builtin_wasm_memory_size(0);
        }
        Module *m = host_load_bytes(bytes, size, 5);
        CHECK(m != NULL, "cycle %d: %s", i, last_error());
        if (!m) break;
        Process p;
        process_init(&p, m, 1);
        p.ctx.x[0] = 3;
        CHECK(process_run(&p, 100, 10) && p.ctx.x[1] == 3, "cycle %d run", i);
        host_unload(m);
    }
    int table_after = host_table_length();
    size_t heap_after = host_heap_in_use();
    printf("  1000 cycles: table %d -> %d entries, heap in use %zu -> %zu bytes, memory %u -> %u pages\n",
        table_before, table_after, heap_before, heap_after, pages_before, (unsigned) __builtin_wasm_memory_size(0));
    CHECK(table_after == table_before, "table grew from %d to %d", table_before, table_after);
    CHECK(heap_after <= heap_before + 4096, "heap grew from %zu to %zu", heap_before, heap_after);
    CHECK(__builtin_wasm_memory_size(0) == pages_before, "memory grew");
    CHECK(atomvm_wasm_jit_thread_modules() == 0, "thread still holds %u modules", atomvm_wasm_jit_thread_modules());
    free(bytes);
}

static void test_bad_streams_give_null_and_a_message(void)
{
    char line[512];
    FILE *list = fopen(path_of(streams_dir, "bad/expected.txt"), "r");
    CHECK(list != NULL, "no bad/expected.txt");
    if (!list) return;
    int count = 0;
    int live = (int) atomvm_wasm_jit_live_modules();
    while (fgets(line, sizeof(line), list)) {
        line[strcspn(line, "\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        const char *expected = tab + 1;
        char name[600];
        snprintf(name, sizeof(name), "bad/%s", line);
        size_t size;
        uint8_t *bytes = host_read_file(path_of(streams_dir, name), &size);
        atomvm_wasm_jit_clear_error();
        const void *nc = sys_map_native_code(bytes, size);
        CHECK(nc == NULL, "%s loaded", line);
        CHECK(strstr(last_error(), expected) != NULL, "%s: message \"%s\" lacks \"%s\"", line, last_error(), expected);
        free(bytes);
        count++;
    }
    fclose(list);
    CHECK(count >= 14, "only %d bad streams", count);
    CHECK(sys_map_native_code(NULL, 0) == NULL && strstr(last_error(), "truncated"), "NULL: %s", last_error());
    CHECK((int) atomvm_wasm_jit_live_modules() == live, "a failed load left a module behind");
}

static void test_handles_labels_and_release(void)
{
    Module *m = load_stream("chain200.stream", 6);
    if (!m) return;
    const void *nc = m->native_code;
    const void *e5 = jit_wasm_get_entry_point(nc, 5);
    CHECK(e5 != NULL && host_table_slot_is_function((int) (uintptr_t) e5), "label 5: %s", last_error());
    CHECK(jit_wasm_get_entry_point(nc, 200) == NULL && strstr(last_error(), "out of range"), "label 200: %s", last_error());
    CHECK(jit_wasm_get_entry_point(nc, -1) == NULL && strstr(last_error(), "negative"), "label -1: %s", last_error());
    CHECK(jit_wasm_get_entry_point((const void *) 12345678, 0) == NULL && strstr(last_error(), "not a loaded module"),
        "made-up handle: %s", last_error());
    CHECK(jit_wasm_get_entry_point(NULL, 0) == NULL, "NULL handle");
    const uint8_t *lines = jit_wasm_get_lines_metadata(nc);
    CHECK(lines != NULL && lines[0] == 1 && lines[1] == 0, "lines metadata");
    uint16_t version = 7;
    ModuleNativeEntryPoint ep = NULL;
    uint32_t labels = 0;
    CHECK(!sys_get_cache_native_code(NULL, m, &version, &ep, &labels), "no binary: a cache miss");
    int slot = (int) (uintptr_t) e5;
    sys_release_native_code(nc);
    CHECK(host_table_slot_is_null(slot), "slot %d still set after release", slot);
    CHECK(jit_wasm_get_entry_point(nc, 5) == NULL && strstr(last_error(), "not a loaded module"),
        "after release: %s", last_error());
    CHECK(jit_wasm_get_lines_metadata(nc) == NULL, "lines after release");
    atomvm_wasm_jit_clear_error();
    sys_release_native_code(nc);
    CHECK(strstr(last_error(), "not a loaded module") != NULL, "double release: %s", last_error());
    free(m);
}

static void test_shim_entry_point_and_nif(void)
{
    size_t size;
    uint8_t *bytes = host_read_file(path_of(streams_dir, "countdown.stream"), &size);
    struct TestBinary bin = { size, bytes };
    Context ctx = { 0 };
    ModuleNativeEntryPoint nc = jit_stream_entry_point(&ctx, term_from_test_binary(&bin));
    CHECK(nc != NULL, "binary stream: %s", last_error());
    if (nc) {
        CHECK(jit_wasm_get_entry_point((const void *) nc, 2) != NULL, "lookup: %s", last_error());
        sys_release_native_code((const void *) nc);
    }
    CHECK(jit_stream_entry_point(&ctx, term_from_int(42)) == NULL && strstr(last_error(), "not a binary"),
        "non-binary: %s", last_error());
    const struct Nif *nif = jit_stream_wasm_get_nif("jit:stream_module/0");
    CHECK(nif != NULL && nif->base.type == NIFFunctionType, "nif lookup");
    if (nif) {
        term atom = nif->nif_ptr(&ctx, 0, NULL);
        CHECK(strcmp(host_atom_name(atom), "jit_stream_binary") == 0, "atom %s", host_atom_name(atom));
    }
    CHECK(jit_stream_wasm_get_nif("jit:other/0") == NULL, "unknown nif");
    free(bytes);
}

/* The native-code cache through AtomVM's hooks as the shim implements them:
 * a stream compiled at run time (jit_stream_entry_point), stored by
 * sys_set_cache_native_code, is what sys_get_cache_native_code gives for the
 * same module binary, and it runs; another binary misses; a damaged entry
 * is a miss with a message and is removed; with the cache off nothing is
 * stored. */
static void test_native_code_cache_through_the_hooks(void)
{
    char dir[] = "/tmp/avmjit-cache-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(false, "mkdtemp");
        return;
    }
    atomvm_wasm_jit_set_cache_dir(dir, 0);
    size_t size;
    uint8_t *bytes = host_read_file(path_of(streams_dir, "countdown.stream"), &size);
    uint8_t beam[] = "FOR1\0\0\0\0BEAM countdown";
    uint8_t other[] = "FOR1\0\0\0\0BEAM another";
    Module mod = { .module_index = 3, .binary = beam, .binary_size = sizeof(beam) };
    Module mod2 = { .module_index = 4, .binary = other, .binary_size = sizeof(other) };
    uint16_t version = 0;
    uint32_t labels = 0;
    ModuleNativeEntryPoint ep = NULL;
    CHECK(!sys_get_cache_native_code(NULL, &mod, &version, &ep, &labels), "first load: a miss");
    struct TestBinary bin = { size, bytes };
    Context ctx = { 0 };
    ModuleNativeEntryPoint nc = jit_stream_entry_point(&ctx, term_from_test_binary(&bin));
    CHECK(nc != NULL, "run-time stream: %s", last_error());
    sys_set_cache_native_code(NULL, &mod, JIT_FORMAT_VERSION, nc, 4);
    sys_release_native_code((const void *) nc);
    CHECK(!sys_get_cache_native_code(NULL, &mod2, &version, &ep, &labels), "another module: a miss");
    bool hit = sys_get_cache_native_code(NULL, &mod, &version, &ep, &labels);
    CHECK(hit && ep != NULL && version == JIT_FORMAT_VERSION && labels == 4, "hit=%d version=%u labels=%u: %s", hit,
        (unsigned) version, (unsigned) labels, last_error());
    if (hit) {
        Module *m = host_adopt((const void *) ep, 3);
        Process p;
        process_init(&p, m, 1);
        p.ctx.x[0] = 1000;
        CHECK(process_run(&p, 100, 1000), "run from the cache: %s", last_error());
        CHECK(p.ctx.x[0] == 0 && p.ctx.x[1] == 1000, "x0=%u x1=%u", (unsigned) p.ctx.x[0], (unsigned) p.ctx.x[1]);
        host_unload(m);
    }
    /* Damage every entry: a miss, a message, no entry left. */
    bool damaged = false;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r+b");
        if (f) {
            fseek(f, 60, SEEK_SET);
            int c = fgetc(f);
            fseek(f, 60, SEEK_SET);
            fputc(c ^ 0x10, f);
            fclose(f);
            damaged = true;
        }
    }
    if (d) closedir(d);
    CHECK(damaged, "no entry written in %s", dir);
    CHECK(!sys_get_cache_native_code(NULL, &mod, &version, &ep, &labels), "damaged entry used");
    CHECK(strstr(last_error(), "cache entry refused") != NULL, "message: %s", last_error());
    CHECK(atomvm_wasm_jit_cache_clear() == 0, "the damaged entry was not removed");
    /* Off: nothing stored. */
    atomvm_wasm_jit_set_cache_dir(NULL, 0);
    nc = jit_stream_entry_point(&ctx, term_from_test_binary(&bin));
    sys_set_cache_native_code(NULL, &mod, JIT_FORMAT_VERSION, nc, 4);
    sys_release_native_code((const void *) nc);
    atomvm_wasm_jit_set_cache_dir(dir, 0);
    CHECK(!sys_get_cache_native_code(NULL, &mod, &version, &ep, &labels), "stored while off");
    atomvm_wasm_jit_set_cache_dir(NULL, 0);
    rmdir(dir);
    free(bytes);
}

static void test_fixtures_register_every_label(void)
{
    if (!fixtures_dir) {
        printf("  (no fixtures directory given)\n");
        return;
    }
    static const struct { const char *name; int entries; } fx[] = {
        { "fx_arith.stream", 30 }, { "fx_terms.stream", 33 }, { "fx_procs.stream", 29 }, { "fx_many.stream", 953 }
    };
    static int seen[2048];
    int nseen = 0;
    Module *mods[4];
    for (int f = 0; f < 4; f++) {
        mods[f] = host_load_file(path_of(fixtures_dir, fx[f].name), 20 + f);
        CHECK(mods[f] != NULL, "%s: %s", fx[f].name, last_error());
        if (!mods[f]) return;
        CHECK(jit_wasm_get_lines_metadata(mods[f]->native_code) != NULL, "%s lines", fx[f].name);
        for (int l = 0; l < fx[f].entries; l++) {
            int index = (int) (uintptr_t) jit_wasm_get_entry_point(mods[f]->native_code, l);
            CHECK(index != 0 && host_table_slot_is_function(index), "%s label %d: %s", fx[f].name, l, last_error());
            for (int k = 0; k < nseen; k++) {
                CHECK(seen[k] != index, "%s label %d shares slot %d", fx[f].name, l, index);
            }
            seen[nseen++] = index;
        }
        CHECK(jit_wasm_get_entry_point(mods[f]->native_code, fx[f].entries) == NULL, "%s past the end", fx[f].name);
    }
    printf("  %d fixture labels placed in distinct table slots\n", nseen);
    for (int f = 0; f < 4; f++) {
        host_unload(mods[f]);
    }
}

/* A label that traps ends the call it is in (a RuntimeError reaches
 * JavaScript); the runtime's state must not be affected. */
EMSCRIPTEN_KEEPALIVE void host_run_label_1(Module *m)
{
    Process p;
    process_init(&p, m, 1);
    process_run(&p, 100, 10);
}

static void test_a_trap_leaves_the_runtime_intact(void)
{
    Module *m = load_stream("trap.stream", 11);
    if (!m) return;
    unsigned live = atomvm_wasm_jit_live_modules();
    int caught = EM_ASM_INT({
        try {
            Module['_host_run_label_1']($0);
            return 0;
        } catch (e) {
            return e instanceof WebAssembly.RuntimeError ? 1 : 2;
        }
    }, m);
    CHECK(caught == 1, "the trap did not reach JavaScript as a RuntimeError (%d)", caught);
    CHECK(atomvm_wasm_jit_live_modules() == live, "live modules changed");
    Module *c = load_stream("countdown.stream", 12);
    if (c) {
        Process p;
        process_init(&p, c, 1);
        p.ctx.x[0] = 5;
        CHECK(process_run(&p, 100, 10) && p.ctx.x[1] == 5, "the runtime works after a trap");
        host_unload(c);
    }
    CHECK(jit_wasm_get_entry_point(m->native_code, 1) != NULL, "the trapping module still resolves");
    host_unload(m);
}

/* Built without -sALLOW_TABLE_GROWTH: placing a module must fail cleanly. */
static void test_a_table_that_cannot_grow_is_an_error(void)
{
    Module *m = load_stream("chain200.stream", 13);
    if (!m) return;
    int before = host_table_length();
    const void *e = jit_wasm_get_entry_point(m->native_code, 1);
    CHECK(e == NULL, "placed in a table that cannot grow");
    CHECK(atomvm_wasm_jit_last_error_code() == AtomvmWasmJitErrorKind_Resource, "kind %u: %s",
        atomvm_wasm_jit_last_error_code(), last_error());
    CHECK(strstr(last_error(), "table") != NULL, "message: %s", last_error());
    printf("  message: %s\n", last_error());
    CHECK(host_table_length() == before, "the table changed");
    CHECK(jit_wasm_get_entry_point(m->native_code, 1) == NULL, "a second attempt also fails cleanly");
    host_unload(m);
    CHECK(atomvm_wasm_jit_live_modules() == 0, "module left behind");
}

/* Built with -sMAXIMUM_MEMORY=64MB: a stream whose module is 40 MB (a valid
 * module plus a large custom section) cannot be loaded; the load must fail
 * with a message, and smaller modules must still load. */
static void test_short_memory_is_an_error(void)
{
    size_t size;
    uint8_t *small = host_read_file(path_of(streams_dir, "countdown.stream"), &size);
    if (!small) return;
    uint32_t wasm_offset, lines_offset;
    memcpy(&wasm_offset, small + 4, 4);
    memcpy(&lines_offset, small + 8, 4);
    size_t custom = 40u << 20;
    size_t wasm_len = (lines_offset - wasm_offset) + 1 + 5 + 2 + custom; /* id, size, name, payload */
    uint8_t *big = malloc(wasm_offset + wasm_len);
    CHECK(big != NULL, "the test's own 40 MB");
    if (!big) return;
    memcpy(big, small, lines_offset); /* header, reserved area, module */
    uint8_t *p = big + lines_offset;
    *p++ = 0; /* custom section: id 0, size (5-byte LEB), name "x", payload */
    uint32_t payload = (uint32_t) (1 + 1 + custom);
    for (int i = 0; i < 5; i++) *p++ = (uint8_t) ((payload >> (7 * i)) & 0x7F) | (i < 4 ? 0x80 : 0);
    *p++ = 1;
    *p++ = 'x';
    memset(p, 0, custom);
    uint32_t new_lines = (uint32_t) (wasm_offset + wasm_len);
    memcpy(big + 8, &new_lines, 4); /* no line metadata */
    unsigned live = atomvm_wasm_jit_live_modules();
    /* Modules that keep the table import keep their custom sections: the
     * rewritten module is as large as the original. */
    atomvm_wasm_jit_set_direct_primitives(false);
    const void *nc = sys_map_native_code(big, wasm_offset + wasm_len);
    atomvm_wasm_jit_set_direct_primitives(true);
    CHECK(nc == NULL, "a 40 MB module loaded in a 64 MB program");
    CHECK(atomvm_wasm_jit_last_error_code() == AtomvmWasmJitErrorKind_Resource, "kind %u: %s",
        atomvm_wasm_jit_last_error_code(), last_error());
    printf("  message: %s\n", last_error());
    free(big);
    CHECK(atomvm_wasm_jit_live_modules() == live, "module left behind");
    const void *ok = sys_map_native_code(small, size);
    CHECK(ok != NULL, "a small module still loads: %s", last_error()); /* (this table cannot grow) */
    if (ok) sys_release_native_code(ok);
    free(small);
}

/* Absurd sizes: a 100 MB stream of zeros after a valid-looking header, and
 * num_entries just below 2^24, are refused quickly with a message. */
static void test_absurd_sizes_are_refused(void)
{
    size_t n = 100u << 20;
    uint8_t *huge = calloc(1, n);
    CHECK(huge != NULL, "the test's own 100 MB");
    if (!huge) return;
    uint32_t header[3] = { 5, 16, (uint32_t) n };
    memcpy(huge, header, sizeof(header));
    memcpy(huge + 16, "\0asm\1\0\0\0", 8);
    double t0 = emscripten_get_now();
    CHECK(sys_map_native_code(huge, n) == NULL, "100 MB of zeros loaded");
    double ms = emscripten_get_now() - t0;
    printf("  100 MB stream refused in %.1f ms: %s\n", ms, last_error());
    free(huge);
    size_t size;
    uint8_t *bytes = host_read_file(path_of(streams_dir, "countdown.stream"), &size);
    if (!bytes) return;
    uint32_t entries = (1u << 24) - 1;
    memcpy(bytes, &entries, 4);
    CHECK(sys_map_native_code(bytes, size) == NULL && strstr(last_error(), "num_entries is 16777215"),
        "num_entries 2^24-1: %s", last_error());
    free(bytes);
}

/* Emscripten caches table entries for its invoke_* and dynCall wrappers
 * (wasmTableMirror, read by getWasmTableEntry, which this test program
 * includes). A slot reused by another module must not be served from that
 * cache with the released module's function. */
static void test_a_reused_slot_is_not_served_stale(void)
{
    Module *a = load_stream("chain200.stream", 17);
    if (!a) return;
    int slot = (int) (uintptr_t) jit_wasm_get_entry_point(a->native_code, 0);
    int cached = EM_ASM_INT({ return typeof getWasmTableEntry($0) === 'function' ? 1 : 0; }, slot);
    CHECK(cached == 1, "slot %d not readable through Emscripten's cache", slot);
    host_unload(a);
    int cleared = EM_ASM_INT({ return getWasmTableEntry($0) === null ? 1 : 0; }, slot);
    CHECK(cleared == 1, "released slot %d still served by Emscripten's cache", slot);
    Module *b = load_stream("chain200.stream", 18);
    if (!b) return;
    int again = (int) (uintptr_t) jit_wasm_get_entry_point(b->native_code, 0);
    CHECK(again == slot, "slot %d not reused (got %d)", slot, again);
    int fresh = EM_ASM_INT({ return getWasmTableEntry($0) === wasmTable.get($0) ? 1 : 0; }, slot);
    CHECK(fresh == 1, "Emscripten's cache serves slot %d stale", slot);
    host_unload(b);
}

/* ---- issue 9: valid streams that a rewrite once broke ------------------------ */

/* Runs `name` from label 1 with x[0..2] set; returns the process. */
static bool run_stream(const char *name, int index, term x0, term x2, Process *p)
{
    Module *m = load_stream(name, index);
    if (!m) return false;
    process_init(p, m, 1);
    p->ctx.x[0] = x0;
    p->ctx.x[2] = x2;
    bool ok = process_run(p, 100, 10);
    CHECK(ok, "%s: run: %s", name, last_error());
    host_unload(m);
    return ok;
}

/* A 6 MB stream of 600,000 jumps: its rewrite is 4.3 times larger, which
 * the load reserves exactly (it once peaked at 9.7 times and aborted). */
static void test_a_jump_dense_stream_loads(void)
{
    size_t size;
    uint8_t *bytes = host_read_file(path_of(streams_dir, "jump_dense.stream"), &size);
    CHECK(bytes != NULL, "read");
    if (!bytes) return;
    double t0 = emscripten_get_now();
    const void *nc = sys_map_native_code(bytes, size);
    double ms = emscripten_get_now() - t0;
    free(bytes);
    if (!nc) {
        /* A program short of memory may refuse it, cleanly. */
        CHECK(atomvm_wasm_jit_last_error_code() == AtomvmWasmJitErrorKind_Resource, "kind %u: %s",
            atomvm_wasm_jit_last_error_code(), last_error());
        printf("  %zu-byte stream refused: %s\n", size, last_error());
        return;
    }
    printf("  %zu-byte stream loaded in %.0f ms, heap in use %zu bytes\n", size, ms, host_heap_in_use());
    if (!fixed_table) {
        CHECK(jit_wasm_get_entry_point(nc, 120) != NULL, "place: %s", last_error());
    }
    sys_release_native_code(nc);
}

/* Label 1 loads another interface into local 2 and calls its entry 10,
 * which marks x[1] and stops the process without ending it. */
static void test_primitives_through_a_written_local_2(void)
{
    Module *m = load_stream("local2_written.stream", 40);
    if (!m) return;
    Process p;
    process_init(&p, m, 1);
    p.ctx.x[2] = (term) (uintptr_t) &host_alt_interface;
    CHECK(run_slice(&p, 100), "run: %s", last_error());
    CHECK(p.ctx.x[1] == 77 && !p.done, "x1=%u done=%d: the call must reach the interface in local 2",
        (unsigned) p.ctx.x[1], p.done);
    host_unload(m);
}

/* Label 1 has a call through entry 80 (past the interface's 77, where the
 * test host keeps words that are not table indices), not taken. */
static void test_calls_past_the_interface_are_not_bound(void)
{
    Process p;
    if (!run_stream("past_interface.stream", 41, 0, 0, &p)) return;
    CHECK(p.done && p.ctx.x[1] == 3, "done=%d x1=%u", p.done, (unsigned) p.ctx.x[1]);
}

/* Label 1 calls label 2, which jumps to label 4: label 4 runs after label 1
 * returns to the loop, not inside the call. */
static void test_a_jump_in_a_called_function(void)
{
    Process p;
    if (!run_stream("called_jump.stream", 42, 0, 0, &p)) return;
    CHECK(p.done && p.ctx.x[1] == 99, "done=%d x1=%u, expected 99", p.done, (unsigned) p.ctx.x[1]);
}

/* Label 1 asks get_imported_bif (entry 8) for import 2, the host's BIF
 * x[0] * 2, and calls it, as AtomVM's generator writes a BIF call. The
 * shim's probe finds the host's entry 8 reading as AtomVM's does, so the
 * rewrite reads the import in place: the host's entry 8 is never called.
 * Switched off, it is called once. x[1] = 2 * x[0] either way. */
static void test_imported_bifs_are_read_in_place(void)
{
    uint32_t layout[2] = { 0, 0 };
    CHECK(atomvm_wasm_jit_imported_bif_layout(layout), "the shim's probe of entry 8 failed");
    CHECK(layout[0] == offsetof(Module, imported_funcs) && layout[1] == offsetof(struct Bif, bif0_ptr),
        "layout %u %u", (unsigned) layout[0], (unsigned) layout[1]);
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_imported_bifs(on);
        host_get_imported_bif_calls = 0;
        Process p;
        if (run_stream("bif_call.stream", 44, 21, 0, &p)) {
            CHECK(p.done && p.ctx.x[1] == 42, "on=%d: done=%d x1=%u, expected 42", on, p.done, (unsigned) p.ctx.x[1]);
            CHECK(host_get_imported_bif_calls == (on ? 0 : 1), "on=%d: entry 8 called %d times", on,
                host_get_imported_bif_calls);
        }
    }
    atomvm_wasm_jit_set_imported_bifs(true);
}

/* Label 1 asks module_get_atom_term_by_id (entry 3) for the module's atom
 * 2, global atom 1000, and stores its term in x[1], as AtomVM's generator
 * writes an atom constant. The shim's probe finds the host's entry 3
 * reading as AtomVM's does, so the rewrite reads the atom in place: the
 * host's entry 3 is never called. Switched off, it is called once. x[1] is
 * the atom's term either way. */
static void test_atom_constants_are_read_in_place(void)
{
    uint32_t layout[1] = { 0 };
    CHECK(atomvm_wasm_jit_atom_layout(layout), "the shim's probe of entry 3 failed");
    CHECK(layout[0] == offsetof(Module, local_atoms_to_global_table), "layout %u", (unsigned) layout[0]);
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_atom_terms(on);
        host_atom_term_calls = 0;
        Process p;
        if (run_stream("atom_call.stream", 51, 0, 0, &p)) {
            CHECK(p.done && p.ctx.x[1] == term_from_atom_index(1000), "on=%d: done=%d x1=%#x", on, p.done,
                (unsigned) p.ctx.x[1]);
            CHECK(host_atom_term_calls == (on ? 0 : 1), "on=%d: entry 3 called %d times", on, host_atom_term_calls);
        }
    }
    atomvm_wasm_jit_set_atom_terms(true);
}

/* Label 1 calls trim_live_regs (entry 7) with live = 3 as AtomVM's
 * generator does. The shim's probe finds the host's entry 7 leaving a
 * context without extended x registers untouched, so the module calls it
 * only when the process has some: then it trims (x[2] = 3) either way. */
static void test_trims_are_made_only_with_extended_registers(void)
{
    CHECK(atomvm_wasm_jit_extended_x_regs_offset() == (int32_t) offsetof(Context, extended_x_regs),
        "the shim's probe of entry 7 failed");
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_trim_live_regs(on);
        for (int extended = 0; extended <= 1; extended++) {
            Module *m = load_stream("trim_call.stream", 46);
            if (!m) continue;
            Process p;
            process_init(&p, m, 1);
            struct ListHead reg;
            if (extended) {
                p.ctx.extended_x_regs.next = &reg;
                p.ctx.extended_x_regs.prev = &reg;
            }
            host_trim_calls = 0;
            process_run(&p, 100, 10);
            int expected = on && !extended ? 0 : 1;
            CHECK(p.done && p.ctx.x[1] == 5 && p.ctx.x[2] == (extended ? 3u : 0u),
                "on=%d extended=%d: done=%d x1=%u x2=%u", on, extended, p.done, (unsigned) p.ctx.x[1],
                (unsigned) p.ctx.x[2]);
            CHECK(host_trim_calls == expected, "on=%d extended=%d: entry 7 called %d times, expected %d", on,
                extended, host_trim_calls, expected);
            host_unload(m);
        }
    }
    atomvm_wasm_jit_set_trim_live_regs(true);
}

/* Label 1 calls import 3, the host's erlang:'+'/2, on x[0] and x[1] as
 * AtomVM's generator calls a GC BIF. The shim's probe finds the host's
 * six small-integer BIFs computing as AtomVM's, so the module answers
 * small integers itself: the host's BIF is called only when the switch is
 * off, when the module keeps its table (direct primitives off), or for
 * terms that are not small integers (or overflow). */
static void test_small_int_bifs_are_answered_in_the_module(void)
{
    uint32_t bifs[6] = { 0, 0, 0, 0, 0, 0 };
    CHECK(atomvm_wasm_jit_small_int_bifs(bifs), "the shim's probe of the BIFs failed");
    CHECK(bifs[0] == (uint32_t) (uintptr_t) bif_erlang_add_2 && bifs[2] == (uint32_t) (uintptr_t) bif_erlang_band_2
            && bifs[3] == (uint32_t) (uintptr_t) bif_erlang_bor_2 && bifs[4] == (uint32_t) (uintptr_t) bif_erlang_bxor_2
            && bifs[5] == (uint32_t) (uintptr_t) bif_erlang_bsr_2,
        "pointers %u %u %u %u %u", (unsigned) bifs[0], (unsigned) bifs[2], (unsigned) bifs[3], (unsigned) bifs[4],
        (unsigned) bifs[5]);
    static const struct
    {
        term a, b, sum;
        bool called_when_on;
    } cases[] = {
        { 0x14F, 0x16F, 0x2AF, false }, /* 20 + 22 = 42 */
        { 0x7FFFFFFF, 0x1F, 0, true }, /* overflow: the BIF answers (0 here) */
        { 0x14F, 0xB, 0, true }, /* an atom */
    };
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_small_int_bifs(on);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            host_small_int_bif_calls = 0;
            Module *m = load_stream("bif2_call.stream", 45);
            if (!m) continue;
            Process p;
            process_init(&p, m, 1);
            p.ctx.x[0] = cases[i].a;
            p.ctx.x[1] = cases[i].b;
            process_run(&p, 100, 10);
            CHECK(p.done && p.ctx.x[1] == cases[i].sum, "on=%d case %zu: done=%d x1=%#x, expected %#x", on, i, p.done,
                (unsigned) p.ctx.x[1], (unsigned) cases[i].sum);
            /* The module gets the function only if it is detached (direct
             * primitives). */
            int expected = on && direct_primitives_on && !cases[i].called_when_on ? 0 : 1;
            CHECK(host_small_int_bif_calls == expected, "on=%d case %zu: the BIF called %d times, expected %d", on, i,
                host_small_int_bif_calls, expected);
            host_unload(m);
        }
    }
    atomvm_wasm_jit_set_small_int_bifs(true);
}

/* compare_x stores term_compare(ctx, jit_state, x[0], x[1], 1) in x[1],
 * as AtomVM's generator calls it. The shim finds the host's entry 11
 * answering equal words and small integers as AtomVM's, so the module
 * answers them itself, and answers two atoms from its cache once the entry
 * has answered them; the entry is called for anything else, for every
 * case when the switch is off, and when the module keeps its table. One
 * module, loaded once: the cache lives in its instance. */
static void test_compares_of_immediates_are_answered_in_the_module(void)
{
    CHECK(atomvm_wasm_jit_term_compare_known(), "the shim's probe of term_compare failed");
    static const struct
    {
        term a, b;
        term answer;
        bool called_when_on;
    } cases[] = {
        { 0x14F, 0x14F, 1, false }, /* equal words */
        { 0xFFFFFFFF, 0x1F, 2, false }, /* -1 < 1 */
        { 0x7FFFFFFF, 0x8000000F, 4, false }, /* the largest > the smallest */
        { 0x4B, 0x8B, 2, true }, /* two atoms: the entry answers */
        { 0x4B, 0x8B, 2, false }, /* the same atoms: the cache answers */
        { 0x8B, 0x4B, 4, true }, /* the other way round: another pair */
        { 0x14F, 0x4B, 0, true }, /* an integer and an atom */
    };
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_immediate_compares(on);
        Module *m = load_stream("compare_x.stream", 47);
        if (!m) continue;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            host_term_compare_calls = 0;
            Process p;
            process_init(&p, m, 1);
            p.ctx.x[0] = cases[i].a;
            p.ctx.x[1] = cases[i].b;
            process_run(&p, 100, 10);
            CHECK(p.done && p.ctx.x[1] == cases[i].answer, "on=%d case %zu: done=%d x1=%#x, expected %#x", on, i,
                p.done, (unsigned) p.ctx.x[1], (unsigned) cases[i].answer);
            int expected = on && direct_primitives_on && !cases[i].called_when_on ? 0 : 1;
            CHECK(host_term_compare_calls == expected, "on=%d case %zu: term_compare called %d times, expected %d", on,
                i, host_term_compare_calls, expected);
        }
        host_unload(m);
    }
    atomvm_wasm_jit_set_immediate_compares(true);
}

/* map_x stores term_find_map_pos(ctx, x[0], x[1]) in x[1], as AtomVM's
 * generator calls it. The shim finds the host's entry 49 answering a map
 * of immediate keys as AtomVM's, so the module finds small integers and
 * atoms among immediate keys itself; the entry is called for other keys,
 * for a key after a boxed one, for every case when the switch is off, and
 * when the module keeps its table. */
static void test_map_lookups_are_answered_in_the_module(void)
{
    CHECK(atomvm_wasm_jit_map_lookup_known(), "the shim's probe of term_find_map_pos failed");
    uint32_t map_get = 0;
    CHECK(atomvm_wasm_jit_map_get_bif(&map_get) && map_get == (uint32_t) (uintptr_t) bif_erlang_map_get_2,
        "the shim's probe of erlang:map_get/2 failed (%#x)", (unsigned) map_get);
    static term keys[6] __attribute__((aligned(8)));
    static term map[6] __attribute__((aligned(8)));
    keys[0] = 4 << 6;
    keys[1] = 0x4B; /* an atom */
    keys[2] = 0xFFFFFFFF; /* -1 */
    keys[3] = (term) (uintptr_t) &map[0] | 0x2; /* a boxed term */
    keys[4] = 0x2F; /* 2 */
    map[0] = (5 << 6) | 0x2C;
    map[1] = (term) (uintptr_t) &keys[0] | 0x2;
    term m_term = (term) (uintptr_t) &map[0] | 0x2;
    static const struct
    {
        term key;
        int answer;
        bool called_when_on;
    } cases[] = {
        { 0x4B, 0, false }, /* found */
        { 0xFFFFFFFF, 1, false }, /* found */
        { 0x2F, 3, true }, /* after the boxed key: the entry answers */
        { 0x3B, -1, true }, /* nil: the entry answers */
    };
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_map_lookups(on);
        Module *m = load_stream("map_x.stream", 49);
        if (!m) continue;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            host_map_pos_calls = 0;
            Process p;
            process_init(&p, m, 1);
            p.ctx.x[0] = m_term;
            p.ctx.x[1] = cases[i].key;
            process_run(&p, 100, 10);
            CHECK(p.done && (int) p.ctx.x[1] == cases[i].answer, "on=%d case %zu: done=%d x1=%d, expected %d", on,
                i, p.done, (int) p.ctx.x[1], cases[i].answer);
            int expected = on && direct_primitives_on && !cases[i].called_when_on ? 0 : 1;
            CHECK(host_map_pos_calls == expected, "on=%d case %zu: term_find_map_pos called %d times, expected %d",
                on, i, host_map_pos_calls, expected);
        }
        host_unload(m);
    }
    atomvm_wasm_jit_set_map_lookups(true);
}

/* map_update_x stores jit_put_map_assoc(ctx, jit_state, x[0], 0, 1, x[1])
 * in x[2], as AtomVM's generator calls it for M#{K => V} when M has K. The
 * shim finds the host's entry 63 making the new map as AtomVM's, so the
 * module makes it itself for a small integer or an atom found after
 * smaller small integers; the entry is called for a key after an atom,
 * for every case when the switch is off, and when the module keeps its
 * table. The new maps are the same either way. */
static void test_map_updates_are_made_in_the_module(void)
{
    CHECK(atomvm_wasm_jit_map_update_known(), "the shim's probe of jit_put_map_assoc failed");
    static term keys[5] __attribute__((aligned(8)));
    static term map[6] __attribute__((aligned(8)));
    keys[0] = 4 << 6;
    keys[1] = 0xFFFFFFFF; /* -1 */
    keys[2] = 0x2F; /* 2 */
    keys[3] = 0x4B; /* an atom */
    keys[4] = 0x8B; /* another */
    map[0] = (5 << 6) | 0x2C;
    map[1] = (term) (uintptr_t) &keys[0] | 0x2;
    for (int i = 0; i < 4; i++) {
        map[2 + i] = term_from_int(100 + i);
    }
    term m_term = (term) (uintptr_t) &map[0] | 0x2;
    static const struct
    {
        term key;
        int position;
        bool called_when_on;
    } cases[] = {
        { 0xFFFFFFFF, 0, false },
        { 0x2F, 1, false },
        { 0x4B, 2, false },
        { 0x8B, 3, true }, /* after an atom: the entry makes it */
    };
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_map_updates(on);
        Module *m = load_stream("map_update_x.stream", 50);
        if (!m) continue;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            host_map_update_calls = 0;
            Process p;
            process_init(&p, m, 1);
            static term kv[2];
            kv[0] = cases[i].key;
            kv[1] = term_from_int(999);
            p.ctx.x[0] = m_term;
            p.ctx.x[1] = (term) (uintptr_t) kv;
            process_run(&p, 100, 10);
            const term *made = p.heap;
            bool same = p.done && p.ctx.x[2] == ((term) (uintptr_t) made | 0x2) && p.ctx.heap.heap_ptr == p.heap + 6
                && made[0] == map[0] && made[1] == map[1];
            for (int j = 0; j < 4; j++) {
                same = same && made[2 + j] == (j == cases[i].position ? term_from_int(999) : map[2 + j]);
            }
            CHECK(same, "on=%d case %zu: done=%d x2=%#x, heap used %d words, new map %#x %#x %#x %#x %#x %#x", on, i,
                p.done, (unsigned) p.ctx.x[2], (int) (p.ctx.heap.heap_ptr - p.heap), (unsigned) made[0],
                (unsigned) made[1], (unsigned) made[2], (unsigned) made[3], (unsigned) made[4], (unsigned) made[5]);
            int expected = on && direct_primitives_on && !cases[i].called_when_on ? 0 : 1;
            CHECK(host_map_update_calls == expected, "on=%d case %zu: jit_put_map_assoc called %d times, expected %d",
                on, i, host_map_update_calls, expected);
        }
        host_unload(m);
    }
    atomvm_wasm_jit_set_map_updates(true);
}

/* frames.stream makes a frame of 2 words with 3 words of heap, sets cp to
 * 0x770, and drops the frame, as AtomVM's generator calls allocate and
 * deallocate. The shim finds the host's entries making and dropping a
 * frame as AtomVM's, so the module does it itself when no collection is
 * due: with fragments, or with a heap too full for the frame, the entry is
 * called (and drops the fragments, so deallocate is then the module's);
 * when the switch is off, or the module keeps its table, both are called.
 * Either way e and cp end as they started. */
static void test_frames_are_made_in_the_module(void)
{
    uint32_t layout[3] = { 0, 0, 0 };
    CHECK(atomvm_wasm_jit_heap_layout(layout), "the shim's probe of allocate and deallocate failed");
    CHECK(layout[0] == 4 && layout[1] == 12 && layout[2] == 0, "layout %u %u %u", (unsigned) layout[0],
        (unsigned) layout[1], (unsigned) layout[2]);
    enum { NO_GC, FRAGMENTS, FULL };
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_stack_frames(on);
        Module *m = load_stream("frames.stream", 48);
        if (!m) continue;
        for (int heap = NO_GC; heap <= FULL; heap++) {
            host_frame_calls = 0;
            Process p;
            process_init(&p, m, 1);
            term *e = p.ctx.e;
            p.ctx.cp = 0x5550;
            if (heap == FRAGMENTS) {
                p.root.next = &p.fragment;
            } else if (heap == FULL) {
                p.ctx.heap.heap_ptr = p.ctx.e - 4; /* 3 frame words + 3 heap words do not fit */
            }
            process_run(&p, 100, 10);
            CHECK(p.done && p.ctx.x[1] == 1 && p.ctx.x[3] == 1 && p.ctx.x[2] == (term) (uintptr_t) (e - 3),
                "on=%d heap %d: done=%d answers %u %u, frame at %#x", on, heap, p.done, (unsigned) p.ctx.x[1],
                (unsigned) p.ctx.x[3], (unsigned) p.ctx.x[2]);
            CHECK(p.ctx.e == e && p.ctx.cp == 0x5550, "on=%d heap %d: e moved by %d, cp %#x", on, heap,
                (int) (p.ctx.e - e), (unsigned) p.ctx.cp);
            int expected = !(on && direct_primitives_on) ? 2 : heap == NO_GC ? 0 : 1;
            CHECK(host_frame_calls == expected, "on=%d heap %d: allocate and deallocate called %d times, expected %d",
                on, heap, host_frame_calls, expected);
        }
        host_unload(m);
    }
    atomvm_wasm_jit_set_stack_frames(true);
}

/* heap_allocs.stream checks the heap for 20 words (x[1]), makes a tuple of
 * 3 (x[2]) and stores the heap's top (x[3]), as AtomVM's generator calls
 * test_heap and term_alloc_tuple. The shim finds the host's entries
 * answering its probes as AtomVM's, so the module answers test_heap
 * itself when no collection is due (64 words free, with the stack in the
 * heap's fragment or, the fragment's end then bounding them, outside it)
 * and calls the entry otherwise (10 words free); it always makes the
 * tuple itself. Switched off, or with the module keeping its table, both
 * are called. Either way the answers and the heap are the same. */
static void test_heap_checks_and_tuples_are_made_in_the_module(void)
{
    uint32_t bounds[4] = { 0, 0, 0, 0 };
    CHECK(atomvm_wasm_jit_heap_bounds(bounds), "the shim's probe of test_heap and term_alloc_tuple failed");
    CHECK(bounds[0] == 8 && bounds[1] == 12 && bounds[2] == 16 && bounds[3] == 64, "bounds %u %u %u %u",
        (unsigned) bounds[0], (unsigned) bounds[1], (unsigned) bounds[2], (unsigned) bounds[3]);
    enum { NO_GC, STACK_ELSEWHERE, FULL };
    static term elsewhere[4];
    for (int on = 1; on >= 0; on--) {
        atomvm_wasm_jit_set_heap_allocs(on);
        Module *m = load_stream("heap_allocs.stream", 48);
        if (!m) continue;
        for (int heap = NO_GC; heap <= FULL; heap++) {
            host_heap_calls = 0;
            Process p;
            process_init(&p, m, 1);
            if (heap == STACK_ELSEWHERE) {
                p.ctx.e = elsewhere;
            } else if (heap == FULL) {
                p.ctx.heap.heap_ptr = p.ctx.e - 10;
            }
            term *top = p.ctx.heap.heap_ptr;
            process_run(&p, 100, 10);
            CHECK(p.done && p.ctx.x[1] == 1 && p.ctx.x[2] == ((term) (uintptr_t) top | 2)
                    && p.ctx.x[3] == (term) (uintptr_t) (top + 4) && p.ctx.heap.heap_ptr == top + 4
                    && top[0] == (term) (3 << 6),
                "on=%d heap %d: done=%d answers %#x %#x %#x, top moved by %d, header %#x", on, heap, p.done,
                (unsigned) p.ctx.x[1], (unsigned) p.ctx.x[2], (unsigned) p.ctx.x[3],
                (int) (p.ctx.heap.heap_ptr - top), (unsigned) top[0]);
            int expected = !(on && direct_primitives_on) ? 2 : heap == FULL ? 1 : 0;
            CHECK(host_heap_calls == expected, "on=%d heap %d: test_heap and term_alloc_tuple called %d times, expected %d",
                on, heap, host_heap_calls, expected);
        }
        host_unload(m);
    }
    atomvm_wasm_jit_set_heap_allocs(true);
}

/* A module loaded cold runs as it came (allocate and deallocate called from
 * the module) until its look-ups on this thread run out, then from the
 * rewritten module placed beside it (frames made in the module, with direct
 * primitives): the answers never change, the switch happens once, and it
 * costs one call into JavaScript. */
static void test_modules_loaded_cold_are_rewritten_once_hot(void)
{
    atomvm_wasm_jit_set_tier_up(5);
    Module *m = load_stream("frames.stream", 48);
    atomvm_wasm_jit_set_tier_up(0);
    if (!m) return;
    uint64_t calls = atomvm_wasm_jit_engine_calls();
    int first = -1, last = -1, switches = 0;
    for (int run = 0; run < 20; run++) {
        host_frame_calls = 0;
        Process p;
        process_init(&p, m, 1);
        term *e = p.ctx.e;
        p.ctx.cp = 0x5550;
        process_run(&p, 100, 10);
        CHECK(p.done && p.ctx.x[1] == 1 && p.ctx.x[3] == 1 && p.ctx.x[2] == (term) (uintptr_t) (e - 3),
            "run %d: done=%d answers %u %u", run, p.done, (unsigned) p.ctx.x[1], (unsigned) p.ctx.x[3]);
        CHECK(p.ctx.e == e && p.ctx.cp == 0x5550, "run %d: e moved by %d, cp %#x", run, (int) (p.ctx.e - e),
            (unsigned) p.ctx.cp);
        if (run == 0) first = host_frame_calls;
        else if (host_frame_calls != last) switches++;
        last = host_frame_calls;
    }
    CHECK(first == 2, "the first run made %d calls of allocate and deallocate, not 2 (as it came)", first);
    int hot = direct_primitives_on ? 0 : 2;
    CHECK(last == hot, "the last run made %d calls of allocate and deallocate, expected %d", last, hot);
    CHECK(switches == (hot != 2), "%d switches", switches);
    uint64_t more = atomvm_wasm_jit_engine_calls() - calls;
    CHECK(more == 1, "%llu calls into JavaScript after the load, expected 1 (the rewritten module)",
        (unsigned long long) more);
    host_unload(m);
}

/* The bad streams, loaded cold: each refused at load with its message. */
static void test_bad_streams_loaded_cold(void)
{
    atomvm_wasm_jit_set_tier_up(1);
    test_bad_streams_give_null_and_a_message();
    atomvm_wasm_jit_set_tier_up(0);
}

/* Label 1 sets cp to its own label 3 and returns as AtomVM's generator does
 * (cp decoded into the continuation): with computed jumps (and tail calls)
 * label 3 runs in the same call from the loop, without them the loop calls
 * it; both end with x1 = 11. A cp past the module's labels is left to the
 * loop, whose lookup then fails either way. */
static void test_returns_within_a_module_skip_the_loop(void)
{
    bool linked = tail_calls_on && atomvm_wasm_jit_tail_calls_supported();
    for (int computed_jumps = 1; computed_jumps >= 0; computed_jumps--) {
        atomvm_wasm_jit_set_computed_jumps(computed_jumps);
        Process p;
        if (run_stream("return_here.stream", 43, 0, 0, &p)) {
            int expected = computed_jumps && linked ? 1 : 2;
            CHECK(p.done && p.ctx.x[1] == 11, "done=%d x1=%u", p.done, (unsigned) p.ctx.x[1]);
            CHECK(p.calls == expected, "computed jumps %d: %d calls from the loop, expected %d", computed_jumps,
                p.calls, expected);
        }
        Module *m = load_stream("return_past.stream", 44);
        if (m) {
            process_init(&p, m, 1);
            CHECK(!process_run(&p, 100, 10), "a return to label 7 of 5 ran");
            CHECK(p.calls == 1 && p.ctx.x[1] == 1, "calls=%d x1=%u", p.calls, (unsigned) p.ctx.x[1]);
            host_unload(m);
        }
    }
    atomvm_wasm_jit_set_computed_jumps(true);
}

/* A function with 50,000 locals, and a 1.8 MB body of jumps: valid for V8,
 * and still valid after the rewrite (which leaves their jumps unlinked). */
static void test_functions_at_the_engine_limits(void)
{
    static const char *names[] = { "many_locals.stream", "big_body.stream" };
    for (int i = 0; i < 2; i++) {
        Process p;
        if (!run_stream(names[i], 43 + i, 0, 0, &p)) continue;
        CHECK(p.done && p.ctx.x[1] == 2, "%s: done=%d x1=%u", names[i], p.done, (unsigned) p.ctx.x[1]);
    }
}

/* Calls label 1's lookup of `m` (placing it) from JavaScript. */
EMSCRIPTEN_KEEPALIVE const void *host_lookup(Module *m, int label)
{
    return jit_wasm_get_entry_point(m->native_code, label);
}

EMSCRIPTEN_KEEPALIVE const void *host_load(const uint8_t *bytes, size_t size)
{
    return sys_map_native_code(bytes, size);
}

EMSCRIPTEN_KEEPALIVE void host_release(const void *native_code)
{
    sys_release_native_code(native_code);
}

/* A JavaScript exception passing through the runtime (a stack overflow deep
 * in a recursion that the embedder catches) must not wedge the thread. First
 * an exception thrown by the JS side's next call, then a real stack overflow
 * of recursive loads. */
static void test_a_javascript_exception_leaves_the_runtime_usable(void)
{
    Module *m = load_stream("chain200.stream", 15);
    if (!m) return;
    int caught = EM_ASM_INT({
        var real = AVMJIT.state;
        AVMJIT.state = function() {
            AVMJIT.state = real;
            throw new RangeError('Maximum call stack size exceeded (injected)');
        };
        var sp = stackSave();
        try {
            Module['_host_lookup']($0, 1);
            return 0;
        } catch (e) {
            stackRestore(sp);
            return e instanceof RangeError ? 1 : 2;
        } finally {
            AVMJIT.state = real;
        }
    }, m);
    CHECK(caught == 1, "the injected exception did not come through (%d)", caught);
    CHECK(jit_wasm_get_entry_point(m->native_code, 1) != NULL, "lookup after the exception: %s", last_error());
    Process p;
    process_init(&p, m, 1);
    p.ctx.x[0] = 50;
    CHECK(process_run(&p, 100, 10) && p.ctx.x[1] == 50, "run after the exception: %s", last_error());
    host_unload(m);

    size_t size;
    uint8_t *bytes = host_read_file(path_of(streams_dir, "countdown.stream"), &size);
    if (!bytes) return;
    unsigned live = atomvm_wasm_jit_live_modules();
    int depth = EM_ASM_INT({
        var depth = 0;
        function deeper() {
            depth++;
            var h = Module['_host_load']($0, $1);
            if (h) Module['_host_release'](h);
            deeper();
        }
        var sp = stackSave();
        try {
            deeper();
        } catch (e) {
            stackRestore(sp);
            if (!(e instanceof RangeError)) return -depth;
        }
        return depth;
    }, bytes, size);
    printf("  stack overflow after %d nested loads\n", depth);
    CHECK(depth > 10, "not a stack overflow (depth %d)", depth);
    const void *nc = sys_map_native_code(bytes, size);
    CHECK(nc != NULL, "load after the overflow: %s", last_error());
    if (nc) {
        CHECK(jit_wasm_get_entry_point(nc, 1) != NULL, "lookup after the overflow: %s", last_error());
        sys_release_native_code(nc);
    }
    /* At most the load interrupted by the overflow is left live. */
    CHECK(atomvm_wasm_jit_live_modules() <= live + 1, "live %u -> %u", live, atomvm_wasm_jit_live_modules());
    free(bytes);
}

/* ---- threads ----------------------------------------------------------------- */

#ifdef __EMSCRIPTEN_PTHREADS__
enum { THREADS = 4, ROUNDS = 40 };
static Module *shared_ping, *shared_pong;
/* The stream, read once by the main thread: with Emscripten 3.1.69, a
 * program whose pthreads read files under NODERAWFS exits with status 1
 * (seen with a plain C program too), so workers do not read files. */
static uint8_t *worker_stream;
static size_t worker_stream_size;

static void *worker(void *arg)
{
    int t = (int) (intptr_t) arg;
    int table_start = 0;
    for (int i = 0; i < ROUNDS; i++) {
        if (i == 2) table_start = host_table_length();
        Module *own = host_load_bytes(worker_stream, worker_stream_size, 30 + t);
        CHECK(own != NULL, "thread %d load: %s", t, last_error());
        if (!own) break;
        Process p;
        process_init(&p, own, 1);
        p.ctx.x[0] = 200;
        CHECK(process_run(&p, 50, 100) && p.ctx.x[1] == 200, "thread %d countdown", t);
        /* A module loaded on the main thread, run here. */
        Process q;
        process_init(&q, shared_ping, 1);
        q.ctx.x[0] = (term) (t * 1000 + i);
        CHECK(process_run(&q, 100, 10) && q.ctx.x[0] == (term) (t * 1000 + i + 100) * 3, "thread %d ping-pong", t);
        host_unload(own);
    }
    CHECK(host_table_length() == table_start, "thread %d table %d -> %d", t, table_start, host_table_length());
    CHECK(atomvm_wasm_jit_thread_modules() == 2, "thread %d holds %u modules", t, atomvm_wasm_jit_thread_modules());
    return NULL;
}

static void test_four_threads_load_run_release(void)
{
    shared_ping = load_stream("ping.stream", 1);
    shared_pong = load_stream("pong.stream", 2);
    worker_stream = host_read_file(path_of(streams_dir, "countdown.stream"), &worker_stream_size);
    if (!shared_ping || !shared_pong || !worker_stream) return;
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        pthread_create(&threads[t], NULL, worker, (void *) (intptr_t) t);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    printf("  %d threads x %d rounds of load, run, run a shared module, release\n", THREADS, ROUNDS);
    free(worker_stream);
    host_unload(shared_ping);
    host_unload(shared_pong);
}

static atomic_int phase;
static Module *crossed;
static int crossed_slot;
static const void *crossed_after;
static bool crossed_slot_null;

static void *holder(void *arg)
{
    (void) arg;
    crossed_slot = (int) (uintptr_t) jit_wasm_get_entry_point(crossed->native_code, 3);
    atomic_store(&phase, 1);
    while (atomic_load(&phase) != 2) {
    }
    crossed_after = jit_wasm_get_entry_point(crossed->native_code, 3);
    crossed_slot_null = host_table_slot_is_null(crossed_slot);
    return NULL;
}

/* Stress: threads load marker modules into shared slots, look up and run
 * what others published, and release what they replace, for a bounded
 * time. Every run must reach the module asked for. */
enum { STRESS_THREADS = 4, STRESS_SLOTS = 8, STRESS_MS = 4000 };
static _Atomic(uintptr_t) stress_slots[STRESS_SLOTS];
static _Atomic int marker_of[1 << 16];
static uint8_t *marker_bytes[8];
static size_t marker_size[8];
static atomic_long stress_runs, stress_loads, stress_gone, stress_wrong;

static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void *stress_worker(void *arg)
{
    uint32_t seed = 0x9E3779B9u * (uint32_t) ((intptr_t) arg + 1);
    double deadline = emscripten_get_now() + STRESS_MS;
    int table_start = host_table_length();
    while (emscripten_get_now() < deadline) {
        uint32_t r = next_random(&seed);
        int slot = (int) (r % STRESS_SLOTS);
        if ((r >> 8) % 4 == 0) {
            int k = (int) ((r >> 12) % 8);
            const void *nc = sys_map_native_code(marker_bytes[k], marker_size[k]);
            if (!nc) {
                CHECK(0, "stress load: %s", last_error());
                continue;
            }
            atomic_store(&marker_of[(uintptr_t) nc & 0xFFFF], k);
            atomic_fetch_add(&stress_loads, 1);
            uintptr_t old = atomic_exchange(&stress_slots[slot], (uintptr_t) nc);
            if (old) sys_release_native_code((const void *) old);
        } else {
            uintptr_t h = atomic_load(&stress_slots[slot]);
            if (!h) continue;
            int k = atomic_load(&marker_of[h & 0xFFFF]);
            Module mod = { .module_index = 0, .native_code = (const void *) h };
            Process p;
            process_init(&p, &mod, 1);
            p.ctx.x[0] = 0xDEAD;
            if (process_run(&p, 100, 3)) {
                atomic_fetch_add(&stress_runs, 1);
                if (p.ctx.x[0] != (term) k) {
                    atomic_fetch_add(&stress_wrong, 1);
                }
            } else {
                /* released meanwhile: the lookup must have said so */
                atomic_fetch_add(&stress_gone, 1);
                CHECK(strstr(last_error(), "not a loaded module") != NULL, "stress lookup: %s", last_error());
            }
        }
    }
    int grown = host_table_length() - table_start;
    CHECK(grown <= STRESS_SLOTS * 60 * 2, "thread table grew by %d entries", grown);
    return (void *) (intptr_t) grown;
}

static void test_stress_load_run_release_on_four_threads(void)
{
    for (int k = 0; k < 8; k++) {
        char name[32];
        snprintf(name, sizeof(name), "marker%d.stream", k);
        marker_bytes[k] = host_read_file(path_of(streams_dir, name), &marker_size[k]);
        CHECK(marker_bytes[k] != NULL, "read %s", name);
        if (!marker_bytes[k]) return;
    }
    size_t heap_before = host_heap_in_use();
    unsigned live_before = atomvm_wasm_jit_live_modules();
    pthread_t threads[STRESS_THREADS];
    for (int t = 0; t < STRESS_THREADS; t++) {
        pthread_create(&threads[t], NULL, stress_worker, (void *) (intptr_t) t);
    }
    int grown[STRESS_THREADS];
    for (int t = 0; t < STRESS_THREADS; t++) {
        void *g;
        pthread_join(threads[t], &g);
        grown[t] = (int) (intptr_t) g;
    }
    for (int s = 0; s < STRESS_SLOTS; s++) {
        uintptr_t h = atomic_exchange(&stress_slots[s], 0);
        if (h) sys_release_native_code((const void *) h);
    }
    /* Under PROXY_TO_PTHREAD (AtomVM on the web) a joined thread's stack is
     * freed later, by the browser's main thread: give it up to 2 s. */
    int waited_ms = 0;
    while (host_heap_in_use() > heap_before + 64 * 1024 && waited_ms < 2000) {
        usleep(50000);
        waited_ms += 50;
    }
    size_t heap_after = host_heap_in_use();
    if (waited_ms) printf("  waited %d ms for exited threads' stacks to be freed\n", waited_ms);
    printf("  %d threads for %d ms: %ld loads, %ld runs, %ld lookups of just-released modules refused, %ld wrong\n",
        STRESS_THREADS, STRESS_MS, (long) stress_loads, (long) stress_runs, (long) stress_gone, (long) stress_wrong);
    printf("  table growth per thread: %d %d %d %d entries; heap in use %zu -> %zu bytes; live modules %u -> %u\n",
        grown[0], grown[1], grown[2], grown[3], heap_before, heap_after, live_before, atomvm_wasm_jit_live_modules());
    CHECK(stress_wrong == 0, "%ld runs reached another module's code", (long) stress_wrong);
    CHECK(stress_runs > 1000 && stress_loads > 100, "too little work done");
    CHECK(atomvm_wasm_jit_live_modules() == live_before, "modules left behind");
    CHECK(heap_after <= heap_before + 64 * 1024, "heap grew from %zu to %zu", heap_before, heap_after);
    for (int k = 0; k < 8; k++) free(marker_bytes[k]);
}

/* The same, with the modules loaded cold and hot after 2 look-ups on a
 * thread: threads place the rewritten modules beside the first ones while
 * others release them. */
static void test_stress_with_modules_loaded_cold(void)
{
    atomvm_wasm_jit_set_tier_up(2);
    test_stress_load_run_release_on_four_threads();
    atomvm_wasm_jit_set_tier_up(0);
}

static void test_release_on_one_thread_frees_another(void)
{
    crossed = load_stream("chain200.stream", 7);
    if (!crossed) return;
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    while (atomic_load(&phase) != 1) {
    }
    const void *nc = crossed->native_code;
    host_unload(crossed);
    crossed = &(Module) { .module_index = 7, .native_code = nc };
    atomic_store(&phase, 2);
    pthread_join(t, NULL);
    CHECK(crossed_slot != 0, "the other thread placed the module");
    CHECK(crossed_after == NULL, "released module still resolves on the other thread");
    CHECK(crossed_slot_null, "slot %d of the other thread not cleared", crossed_slot);
}

/* A placement that fails on a thread that did not load the module leaves
 * that thread's JS side holding nothing (issue 9, defect 8). */
static Module *failing_module;
static int failed_held = -1, failed_kind;

static void *fail_placement(void *arg)
{
    (void) arg;
    EM_ASM({
        var real = AVMJIT.alloc;
        AVMJIT.alloc = function() {
            AVMJIT.alloc = real;
            throw new RangeError('table full (injected)');
        };
    });
    const void *e = jit_wasm_get_entry_point(failing_module->native_code, 1);
    failed_kind = e == NULL ? (int) atomvm_wasm_jit_last_error_code() : 0;
    failed_held = EM_ASM_INT({ return AVMJIT.state().placed.size; });
    return NULL;
}

static void test_a_failed_placement_on_a_worker_leaves_nothing(void)
{
    failing_module = load_stream("chain200.stream", 16);
    if (!failing_module) return;
    pthread_t t;
    pthread_create(&t, NULL, fail_placement, NULL);
    pthread_join(t, NULL);
    CHECK(failed_kind == AtomvmWasmJitErrorKind_Resource, "kind %d", failed_kind);
    CHECK(failed_held == 0, "the worker's JS side holds %d module(s)", failed_held);
    host_unload(failing_module);
}

/* A thread that loads modules that another thread releases keeps nothing of
 * them (issue 9, defect 9). */
static _Atomic(uintptr_t) handed;
static atomic_int handed_back;

static void *only_load(void *arg)
{
    (void) arg;
    for (int i = 0; i < 20; i++) {
        const void *nc = sys_map_native_code(worker_stream, worker_stream_size);
        CHECK(nc != NULL, "load %d: %s", i, last_error());
        atomic_store(&handed, (uintptr_t) nc);
        while (atomic_load(&handed_back) != i + 1) {
        }
    }
    int held = EM_ASM_INT({ return AVMJIT.state().placed.size; });
    CHECK(held == 0, "the loading thread's JS side holds %d module(s)", held);
    CHECK(atomvm_wasm_jit_thread_modules() == 0, "it holds %u module(s)", atomvm_wasm_jit_thread_modules());
    return NULL;
}

static void test_a_thread_that_only_loads_keeps_nothing(void)
{
    worker_stream = host_read_file(path_of(streams_dir, "countdown.stream"), &worker_stream_size);
    if (!worker_stream) return;
    pthread_t t;
    pthread_create(&t, NULL, only_load, NULL);
    for (int i = 0; i < 20; i++) {
        uintptr_t nc;
        while (!(nc = atomic_exchange(&handed, 0))) {
        }
        CHECK(jit_wasm_get_entry_point((const void *) nc, 1) != NULL, "main lookup: %s", last_error());
        sys_release_native_code((const void *) nc);
        atomic_store(&handed_back, i + 1);
    }
    pthread_join(t, NULL);
    free(worker_stream);
}
#endif

/* ---- runner ------------------------------------------------------------------ */

static const char *only; /* --only SUBSTRING: run the tests whose name has it */

static void run(const char *name, void (*test)(void))
{
    if (only && !strstr(name, only)) return;
    int before = atomic_load(&checks_failed);
    test();
    bool ok = atomic_load(&checks_failed) == before;
    printf("%s %s\n", ok ? "ok  " : "FAIL", name);
    if (ok) passed++;
    else failed++;
}

int main(int argc, char **argv)
{
    /* Options first: --no-tail-calls, --no-direct-primitives. */
    int arg = 1;
    bool tail_calls = true, direct = true;
    for (; arg < argc && strncmp(argv[arg], "--", 2) == 0; arg++) {
        if (strcmp(argv[arg], "--no-tail-calls") == 0) tail_calls = false;
        else if (strcmp(argv[arg], "--no-direct-primitives") == 0) direct = false;
        else if (strcmp(argv[arg], "--constrained") == 0) fixed_table = true;
        else if (strcmp(argv[arg], "--only") == 0 && arg + 1 < argc) only = argv[++arg];
    }
    streams_dir = arg < argc ? argv[arg] : "target/streams";
    fixtures_dir = arg + 1 < argc ? argv[arg + 1] : NULL;
    atomvm_wasm_jit_set_logging(false);
    /* Modules rewritten at load, so that each test sees its rewrite; the
     * tests of modules loaded cold set it themselves. */
    atomvm_wasm_jit_set_tier_up(0);
    atomvm_wasm_jit_set_tail_calls(tail_calls);
    atomvm_wasm_jit_set_direct_primitives(direct);
    direct_primitives_on = direct;
    tail_calls_on = tail_calls;
    printf("# tail-linked jumps: %s (engine support: %s), direct primitives: %s\n", tail_calls ? "on" : "off",
        atomvm_wasm_jit_tail_calls_supported() ? "yes" : "no", direct ? "on" : "off");
#ifdef __EMSCRIPTEN_PTHREADS__
    printf("# variant: -pthread\n");
#else
    printf("# variant: single thread\n");
#endif
    if (fixed_table) {
        /* This build has no -sALLOW_TABLE_GROWTH and at most 64 MB. */
        run("a table that cannot grow is an error", test_a_table_that_cannot_grow_is_an_error);
        run("short memory is an error", test_short_memory_is_an_error);
        run("a jump-dense 6 MB stream loads or is refused", test_a_jump_dense_stream_loads);
        printf("%d passed, %d failed\n", passed, failed);
        return failed == 0 ? 0 : 1;
    }
    run("countdown yields when reductions run out", test_countdown_yields_when_reductions_run_out);
    run("call and return through cp and do_return", test_call_and_return_through_cp);
    run("two modules calling each other", test_two_modules_calling_each_other);
    run("module switch right before a jump", test_module_switch_before_a_jump);
    run("lookups of placed labels call no JavaScript", test_lookups_of_placed_labels_call_no_javascript);
    run("registration: one growth, no table imports", test_registration_is_one_growth_without_table_imports);
    run("1000 load/release cycles stay flat", test_load_release_cycles_stay_flat);
    run("bad streams give NULL and a message", test_bad_streams_give_null_and_a_message);
    run("handles, labels and release", test_handles_labels_and_release);
    run("shim: binary term entry point and NIF", test_shim_entry_point_and_nif);
    run("native-code cache through the hooks: hit, miss, damage, off", test_native_code_cache_through_the_hooks);
    run("fixtures register every label", test_fixtures_register_every_label);
    run("a trap leaves the runtime intact", test_a_trap_leaves_the_runtime_intact);
    run("absurd sizes are refused", test_absurd_sizes_are_refused);
    run("a reused slot is not served stale by Emscripten's cache", test_a_reused_slot_is_not_served_stale);
    run("a jump-dense 6 MB stream loads", test_a_jump_dense_stream_loads);
    run("primitive calls through a written local 2", test_primitives_through_a_written_local_2);
    run("calls past the interface are not bound", test_calls_past_the_interface_are_not_bound);
    run("a jump in a called function returns first", test_a_jump_in_a_called_function);
    run("returns within a module skip the loop", test_returns_within_a_module_skip_the_loop);
    run("imported BIFs are read in place", test_imported_bifs_are_read_in_place);
    run("atom constants are read in place", test_atom_constants_are_read_in_place);
    run("small-integer BIFs are answered in the module", test_small_int_bifs_are_answered_in_the_module);
    run("trims are made only with extended x registers", test_trims_are_made_only_with_extended_registers);
    run("compares of immediates are answered in the module", test_compares_of_immediates_are_answered_in_the_module);
    run("frames are made in the module", test_frames_are_made_in_the_module);
    run("heap checks and tuples are made in the module", test_heap_checks_and_tuples_are_made_in_the_module);
    run("map lookups are answered in the module", test_map_lookups_are_answered_in_the_module);
    run("map updates are made in the module", test_map_updates_are_made_in_the_module);
    run("functions at the engine's limits still load", test_functions_at_the_engine_limits);
    run("a JavaScript exception leaves the runtime usable", test_a_javascript_exception_leaves_the_runtime_usable);
    run("modules loaded cold are rewritten once hot", test_modules_loaded_cold_are_rewritten_once_hot);
    run("bad streams loaded cold give NULL and a message", test_bad_streams_loaded_cold);
#ifdef __EMSCRIPTEN_PTHREADS__
    run("four threads load, run and release", test_four_threads_load_run_release);
    run("release on one thread frees another's slots", test_release_on_one_thread_frees_another);
    run("stress: load, run, release on four threads", test_stress_load_run_release_on_four_threads);
    run("stress, with modules loaded cold", test_stress_with_modules_loaded_cold);
    run("a failed placement on a worker leaves nothing", test_a_failed_placement_on_a_worker_leaves_nothing);
    run("a thread that only loads keeps nothing", test_a_thread_that_only_loads_keeps_nothing);
#endif
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
