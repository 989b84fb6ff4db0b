// Where the time goes in AtomVM with this library: reads the V8 CPU
// profiles (node --cpu-prof, one file per thread) of each benchmark case,
// run on a build linked with --profiling-funcs, and splits the busy time
// (all threads, idle left out) by the function each sample was in:
//
//   JIT code      functions of JIT modules (unnamed, one wasm module each)
//   trampolines   this library's per-thread trampolines (t0 .. t12)
//   dispatch      AtomVM's dispatch loop and label lookups (scheduler_entry_point,
//                 module_get_native_entry_point, jit_wasm_get_entry_point)
//   primitives    AtomVM's JIT primitives (jit.c: jit_*)
//   BIFs          bif_*, nif_*
//   GC            memory_* (AtomVM's garbage collector)
//   locks         pthread and futex functions, smp_*
//   AtomVM other  the rest of AtomVM's C (and libc)
//   this library  its Rust code (load, rewrite, registry) and C ABI
//   JavaScript    JS, including Emscripten's runtime, this library's glue,
//                 V8's own work ((program), (garbage collector)), and wasm
//                 compilation and instantiation
//
//   node profile.js DIR [BENCH]   (DIR/<case>/*.cpuprofile)
//
// With BENCH (the bench stage's bench.json), it also prints where each
// case's floor is: the time this library's build spends in AtomVM's
// collector, locks and libc's allocator (their share of the busy time
// without JavaScript, which is mostly node starting, times the case's
// median and its fastest round in the benchmark set), over the native
// JIT's median and fastest round. That work is AtomVM's C compiled to
// wasm, which this library neither changes nor can skip: where it alone
// is over 1.5 times the native JIT, the case cannot come within 1.5 times
// however fast the rest becomes.
'use strict';
const fs = require('fs');
const path = require('path');

// libc's allocator (counted in "AtomVM other"), part of the floor below.
const ALLOCATOR = /^(emscripten_builtin_(malloc|free|realloc|calloc|memalign)|dl(malloc|free|realloc|calloc|memalign)|malloc|free|realloc|calloc|sbrk)$/;

const CATEGORIES = ['JIT code', 'trampolines', 'dispatch', 'primitives', 'BIFs', 'GC', 'locks', 'AtomVM other', 'this library', 'JavaScript'];

function category(frame) {
  const { functionName: f, url } = frame;
  if (f === '(idle)' || f === '(root)') return null;
  if (url.startsWith('wasm://')) {
    if (/^t\d+$/.test(f)) return 'trampolines';
    if (!url.includes('AtomVM.wasm')) return 'JIT code';
    if (/^(scheduler_entry_point|module_get_native_entry_point|jit_wasm_get_entry_point)$/.test(f)) return 'dispatch';
    if (f.includes('::') || f.startsWith('<') || /^(atomvm_wasm_jit|sys_map_native_code|sys_release_native_code|jit_stream_entry_point|jit_wasm_get_lines_metadata)/.test(f)) return 'this library';
    if (/^jit_/.test(f)) return 'primitives';
    if (/^(bif_|nif_)/.test(f)) return 'BIFs';
    if (/^memory_/.test(f)) return 'GC';
    if (/pthread|futex|mutex|^smp_|^__wait|^emscripten_thread/.test(f)) return 'locks';
    return 'AtomVM other';
  }
  return 'JavaScript';
}

function load(file) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) || 0) + (p.timeDeltas[i] || 0)));
  return [...self].map(([id, us]) => ({ us, frame: byId.get(id).callFrame }));
}

const dir = process.argv[2];
const cases = fs.readdirSync(dir).filter((c) => fs.statSync(path.join(dir, c)).isDirectory());
const rows = [];
const header = ['case', 'busy ms', ...CATEGORIES];
for (const c of cases) {
  const totals = Object.fromEntries(CATEGORIES.map((k) => [k, 0]));
  let alloc = 0;
  const byFunction = new Map();
  for (const f of fs.readdirSync(path.join(dir, c)).filter((f) => f.endsWith('.cpuprofile'))) {
    for (const { us, frame } of load(path.join(dir, c, f))) {
      const k = category(frame);
      if (!k) continue;
      totals[k] += us;
      if (k === 'AtomVM other' && ALLOCATOR.test(frame.functionName)) alloc += us;
      const name = k === 'JIT code' ? 'JIT code' : frame.functionName || '(anonymous)';
      byFunction.set(name, (byFunction.get(name) || 0) + us);
    }
  }
  const busy = Object.values(totals).reduce((a, b) => a + b, 0);
  rows.push({ c, busy, totals, alloc, top: [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 8) });
}
const pct = (x, busy) => ((100 * x) / busy).toFixed(1) + '%';
console.log('share of busy time (all threads), per benchmark case');
console.log(header.map((h, i) => (i === 0 ? h.padEnd(9) : h.padStart(i === 1 ? 8 : 13))).join(''));
for (const { c, busy, totals } of rows) {
  console.log(c.padEnd(9) + (busy / 1000).toFixed(0).padStart(8) + CATEGORIES.map((k) => pct(totals[k], busy).padStart(13)).join(''));
}
console.log('\nthe functions with the most time, per case');
for (const { c, busy, top } of rows) {
  console.log(`${c}: ` + top.map(([n, us]) => `${n} ${pct(us, busy)}`).join(', '));
}

const benchFile = process.argv[3];
if (benchFile && fs.existsSync(benchFile)) {
  const { medians, samples } = JSON.parse(fs.readFileSync(benchFile, 'utf8'));
  const fastest = (v, c) => Math.min(...samples[v][c]);
  if (medians['wasm-jit'] && medians['native-jit']) {
    console.log('\nwhere the floor is: AtomVM\'s collector, locks and allocator (GC, locks, malloc and free) with this library, against the native JIT');
    console.log('(floor: their share of the busy time without JavaScript, times the case\'s median, or its fastest round, in the benchmark set; ms)');
    const cols = ['case', 'floor share', 'wasm-jit', 'native-jit', 'floor', 'floor/native', 'fastest: floor', 'floor/native'];
    console.log(cols.map((h, i) => (i === 0 ? h.padEnd(9) : h.padStart(15))).join(''));
    for (const { c, busy, totals, alloc } of rows) {
      if (!(c in medians['wasm-jit']) || !(c in medians['native-jit'])) continue;
      const share = (totals.GC + totals.locks + alloc) / (busy - totals.JavaScript);
      const jit = medians['wasm-jit'][c];
      const native = medians['native-jit'][c];
      const floor = share * jit;
      const floorFast = share * fastest('wasm-jit', c);
      const cells = [(100 * share).toFixed(1) + '%', jit.toFixed(1), native.toFixed(1), floor.toFixed(1), (floor / native).toFixed(2) + 'x', floorFast.toFixed(1), (floorFast / fastest('native-jit', c)).toFixed(2) + 'x'];
      console.log(c.padEnd(9) + cells.map((x) => x.padStart(15)).join(''));
    }
    console.log('(a case whose floor is over 1.50x cannot come within 1.5 times the native JIT without a faster AtomVM C)');
  }
}
