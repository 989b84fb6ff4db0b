/*
 * Benchmark: measures, in one run, the runtime against the design of the C
 * runtime it replaces (a JavaScript Map lookup per label lookup, one
 * addFunction per label), and tail-linked jumps against the dispatch loop.
 * Usage: bench STREAMS_DIR OUT_JSON WASM_BYTES_ADDED ENGINE
 * Prints a table and writes OUT_JSON.
 */
#include <emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

static double now(void) { return emscripten_get_now(); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return v[n / 2];
}

/* ---- the C runtime's design, as the baseline ----------------------------- */

/* Compile + instantiate with the table imported + one addFunction per label,
 * keyed by the address of the module bytes, as jit_stream_wasm.c did. */
EM_JS(int, baseline_register, (const uint8_t *wasm, int size, int n), {
    if (!Module.baselineCache) Module.baselineCache = new Map();
    var bytes = new Uint8Array(wasmMemory.buffer, wasm, size).slice();
    var instance = new WebAssembly.Instance(new WebAssembly.Module(bytes),
        { env: { memory: wasmMemory, __indirect_function_table: wasmTable } });
    var cache = new Int32Array(n);
    for (var i = 0; i < n; i++) cache[i] = addFunction(instance.exports['f' + i], 'iiii');
    Module.baselineCache.set(wasm, cache);
    return cache[0];
});

/* The lookup of the C runtime in SMP builds: a call into JavaScript, a
 * fresh Int32Array view of the (shared, growable) heap, a Map lookup. */
EM_JS(int, baseline_lookup, (const uint8_t *wasm, int label), {
    var heap = new Int32Array(wasmMemory.buffer);
    var cache = Module.baselineCache.get(wasm);
    if (!cache || label < 0 || label >= cache.length || !heap) return 0;
    return cache[label];
});

/* The same without the heap view: the call into JavaScript and the Map. */
EM_JS(int, baseline_lookup_map_only, (const uint8_t *wasm, int label), {
    var cache = Module.baselineCache.get(wasm);
    if (!cache || label < 0 || label >= cache.length) return 0;
    return cache[label];
});

/* The module bytes as the baseline runtime would get them: the stream's
 * module, with the memory import made to match this program. */
static uint8_t *plain_module(const uint8_t *stream, size_t size, int *out_size)
{
    (void) size;
    uint32_t wasm_offset, lines_offset;
    memcpy(&wasm_offset, stream + 4, 4);
    memcpy(&lines_offset, stream + 8, 4);
    *out_size = (int) (lines_offset - wasm_offset);
    uint8_t *copy = malloc(*out_size);
    memcpy(copy, stream + wasm_offset, *out_size);
    return copy;
}

/* module_get_native_entry_point as the C runtime answered it, for the ring
 * registered by baseline_register (keyed by its bytes). */
static const uint8_t *baseline_ring;
static ModuleNativeEntryPoint baseline_entry_point(Module *mod, int label)
{
    (void) mod;
    return (ModuleNativeEntryPoint) (uintptr_t) baseline_lookup(baseline_ring, label);
}

/* ---- measurements ----------------------------------------------------------- */

/* ns per lookup of `n` labels in turn: best of 5 runs. This loop and the
 * baseline's below are written out separately on purpose: sharing one loop
 * through a function pointer would add an indirect call to what is timed. */
static double resolve_ns(const void *nc, int n)
{
    const int iters = 4000000;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        uintptr_t sum = 0;
        int label = 0;
        double t0 = now();
        for (int i = 0; i < iters; i++) {
            sum += (uintptr_t) jit_wasm_get_entry_point(nc, label);
            if (++label == n) label = 0;
        }
        double ns = (now() - t0) * 1e6 / iters;
        if (sum == 0) printf("(checksum 0)\n");
        if (ns < best) best = ns;
    }
    return best;
}

static double resolve_ns_baseline(const uint8_t *key, int n, int map_only)
{
    const int iters = 1000000;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        uintptr_t sum = 0;
        int label = 0;
        double t0 = now();
        for (int i = 0; i < iters; i++) {
            sum += (uintptr_t) (map_only ? baseline_lookup_map_only(key, label) : baseline_lookup(key, label));
            if (++label == n) label = 0;
        }
        double ns = (now() - t0) * 1e6 / iters;
        if (sum == 0) printf("(checksum 0)\n");
        if (ns < best) best = ns;
    }
    return best;
}

/* ns per jump: one time slice of `jumps` reductions of the jump ring, which
 * makes exactly that many jumps; best of 5. With `c_runtime`, the dispatch
 * loop looks labels up as the C runtime did. */
static double jump_ns(Module *m, int jumps, bool c_runtime)
{
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        Process p;
        process_init(&p, m, 1);
        double t0 = now();
        bool ok = c_runtime ? dispatch_slice(&p, jumps, baseline_entry_point) : run_slice(&p, jumps);
        double ns = (now() - t0) * 1e6 / jumps;
        if (!ok || p.yields != 1 || p.cont == 0) {
            fprintf(stderr, "bench: ring run failed: %s\n", atomvm_wasm_jit_last_error());
            exit(1);
        }
        if (ns < best) best = ns;
    }
    return best;
}

/* Load + register (first lookup) + release, `reps` times; median ms of the
 * load and registration. */
static double load_ms(const uint8_t *stream, size_t size, int reps)
{
    double t[15];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        const void *nc = sys_map_native_code(stream, size);
        if (!nc || !jit_wasm_get_entry_point(nc, 0)) {
            fprintf(stderr, "bench: load failed: %s\n", atomvm_wasm_jit_last_error());
            exit(1);
        }
        t[r] = now() - t0;
        sys_release_native_code(nc);
    }
    return median(t, reps);
}

/* load_ms with nothing else loaded, and with 499 other copies loaded and
 * placed on this thread. */
static void load_ms_first_and_500th(const uint8_t *stream, size_t size, int reps, double *first, double *at_500)
{
    static const void *held[499];
    *first = load_ms(stream, size, reps);
    for (int i = 0; i < 499; i++) {
        held[i] = sys_map_native_code(stream, size);
        jit_wasm_get_entry_point(held[i], 0);
    }
    *at_500 = load_ms(stream, size, reps);
    for (int i = 0; i < 499; i++) sys_release_native_code(held[i]);
}

static double baseline_load_ms(const uint8_t *wasm, int wasm_size, int n, int reps)
{
    double t[15];
    for (int r = 0; r < reps; r++) {
        uint8_t *copy = malloc(wasm_size);
        memcpy(copy, wasm, wasm_size);
        double t0 = now();
        baseline_register(copy, wasm_size, n);
        t[r] = now() - t0;
        /* kept: the C runtime never freed table slots */
    }
    return median(t, reps);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench STREAMS_DIR OUT_JSON WASM_BYTES_ADDED ENGINE\n");
        return 2;
    }
    const char *dir = argv[1];
    atomvm_wasm_jit_set_logging(true);
    char path[1024];
    snprintf(path, sizeof(path), "%s/chain200.stream", dir);
    size_t size;
    uint8_t *chain = host_read_file(path, &size);
    if (!chain) {
        fprintf(stderr, "bench: cannot read %s\n", path);
        return 1;
    }
    const int labels = 200;

    /* Lookups. */
    Module *m = host_load_bytes(chain, size, 1);
    for (int l = 0; l < labels; l++) jit_wasm_get_entry_point(m->native_code, l);
    int wasm_size;
    uint8_t *plain = plain_module(chain, size, &wasm_size);
    baseline_register(plain, wasm_size, labels);
    double r_ours = resolve_ns(m->native_code, labels);
    double r_js = resolve_ns_baseline(plain, labels, 0);
    double r_map = resolve_ns_baseline(plain, labels, 1);
    host_unload(m);

    /* Jumps: the ring tail-linked against the same ring without tail links. */
    snprintf(path, sizeof(path), "%s/ring200.stream", dir);
    size_t ring_size;
    uint8_t *ring = host_read_file(path, &ring_size);
    Module *t = ring ? host_load_bytes(ring, ring_size, 1) : NULL;
    atomvm_wasm_jit_set_tail_calls(false);
    Module *d = ring ? host_load_bytes(ring, ring_size, 2) : NULL;
    atomvm_wasm_jit_set_tail_calls(true);
    if (!t || !d) {
        fprintf(stderr, "bench: cannot load the ring: %s\n", atomvm_wasm_jit_last_error());
        return 1;
    }
    const int jumps = 10000000;
    double j_tail = jump_ns(t, jumps, false);
    double j_dispatch = jump_ns(d, jumps, false);
    int ring_wasm_size;
    baseline_ring = plain_module(ring, ring_size, &ring_wasm_size);
    baseline_register(baseline_ring, ring_wasm_size, labels);
    double j_c_runtime = jump_ns(d, jumps / 4, true);
    host_unload(t);
    host_unload(d);

    /* Loading and registering a 200-label module, with 0 and 499 loaded:
     * table-free modules (direct primitives), then modules importing the
     * table. */
    const int reps = 9;
    load_ms(chain, size, 3); /* warm up */
    double l_first, l_500, t_first, t_500;
    load_ms_first_and_500th(chain, size, reps, &l_first, &l_500);
    atomvm_wasm_jit_set_direct_primitives(false);
    load_ms_first_and_500th(chain, size, reps, &t_first, &t_500);
    atomvm_wasm_jit_set_direct_primitives(true);

    /* The C runtime's registration: first, and with 499 of its own loaded. */
    double b_first = baseline_load_ms(plain, wasm_size, labels, reps);
    for (int i = 0; i < 499 - reps - 1; i++) baseline_load_ms(plain, wasm_size, labels, 1);
    double b_500 = baseline_load_ms(plain, wasm_size, labels, reps);

    long bytes_added = atol(argv[3]);
    printf("\n%-38s %12s %12s %8s %s\n", "measure", "ours", "baseline", "ratio", "target");
    printf("%-38s %12.2f %12.2f %8.1f %s\n", "label lookup, ns (vs the C runtime's)", r_ours, r_js, r_js / r_ours,
        ">= 10");
    printf("%-38s %12s %12.2f %8.1f\n", "  vs a JS Map lookup alone", "", r_map, r_map / r_ours);
    printf("%-38s %12.2f %12.2f %8.1f %s\n", "jump between labels, ns (vs loop)", j_tail, j_dispatch,
        j_dispatch / j_tail, ">= 5");
    printf("%-38s %12s %12.2f %8.1f\n", "  vs loop with the C runtime's lookup", "", j_c_runtime, j_c_runtime / j_tail);
    printf("%-38s %12.3f %12.3f %8.2f %s\n", "load+register 200 labels, ms: 1st/500th", l_first, l_500,
        l_500 / l_first, "<= 1.25 (500th/1st)");
    printf("%-38s %12.3f %12.3f %8.2f\n", "  same, modules importing the table", t_first, t_500, t_500 / t_first);
    printf("%-38s %12.3f %12.3f %8.2f\n", "  C runtime (addFunction per label)", b_first, b_500, b_500 / b_first);
    printf("%-38s %12ld %12s %8s %s\n", "wasm bytes added (-O3 -pthread)", bytes_added, "", "", "<= 100000");

    FILE *out = fopen(argv[2], "w");
    if (!out) {
        fprintf(stderr, "bench: cannot write %s\n", argv[2]);
        return 1;
    }
    fprintf(out,
        "{\n"
        "  \"engine\": \"%s\",\n"
        "  \"resolve_ns\": %.3f,\n  \"resolve_ns_js_baseline\": %.3f,\n  \"resolve_ns_js_map_only\": %.3f,\n"
        "  \"jump_ns_tail\": %.3f,\n  \"jump_ns_dispatch\": %.3f,\n  \"jump_ns_dispatch_c_runtime\": %.3f,\n"
        "  \"load_ms_first\": %.4f,\n  \"load_ms_500th\": %.4f,\n"
        "  \"load_ms_first_table_imported\": %.4f,\n  \"load_ms_500th_table_imported\": %.4f,\n"
        "  \"load_ms_addfunction_baseline\": %.4f,\n  \"load_ms_addfunction_baseline_500th\": %.4f,\n"
        "  \"wasm_bytes_added\": %ld\n}\n",
        argv[4], r_ours, r_js, r_map, j_tail, j_dispatch, j_c_runtime,
        l_first, l_500, t_first, t_500, b_first, b_500, bytes_added);
    fclose(out);
    printf("\nwrote %s\n", argv[2]);
    return 0;
}
