/*
 * atomvm_wasm_jit: the JavaScript side, an Emscripten JS library (link with
 * --js-library). It compiles and instantiates JIT modules with the program's
 * own memory and table and places their label functions in the calling
 * thread's table. Everything here is per thread: with pthreads, each worker
 * runs its own copy of this code with its own table and state.
 *
 * The Rust side (src/engine.rs) decides when to call; this file only does
 * what needs the engine. Lookups of placed labels never come here.
 *
 * Uses only what Emscripten 3.1.x through 4.x all provide: wasmMemory,
 * wasmTable and $setWasmTableEntry (which keeps Emscripten's mirror of the
 * table in sync).
 */

var AtomVMWasmJitLibrary = {
  // Per-thread state, created on first use: compiled modules and instances by
  // module id, free table ranges [base, len], and a count of calls from wasm.
  $AVMJIT: {
    st: null,
    state: function() {
      if (!AVMJIT.st) {
        AVMJIT.st = { compiled: new Map(), instances: new Map(), free: [], calls: 0 };
      }
      return AVMJIT.st;
    },
    // A private copy of the module bytes: the engine does not accept views of
    // a SharedArrayBuffer, and the heap may grow while we hold them.
    bytes: function(ptr, len) {
      return new Uint8Array(wasmMemory.buffer, ptr, len).slice();
    },
    // Writes `message` NUL-terminated into [ptr, ptr + cap).
    writeMessage: function(message, ptr, cap) {
      if (!ptr || cap <= 0) return;
      var encoded = new TextEncoder().encode(String(message));
      var n = Math.min(encoded.length, cap - 1);
      var heap = new Uint8Array(wasmMemory.buffer, ptr, cap);
      heap.set(encoded.subarray(0, n));
      heap[n] = 0;
    },
    // Status for Rust: -2 when a resource ran out (table full, memory), -1
    // when the engine refused the module.
    fail: function(e, what, ptr, cap) {
      var name = (e && e.name) || 'Error';
      var text = what + ': ' + name + ': ' + ((e && e.message) || String(e));
      AVMJIT.writeMessage(text, ptr, cap);
      return e instanceof RangeError ? -2 : -1;
    },
    // One contiguous range of `n` slots: the first free range that fits, or
    // one table growth at the end.
    alloc: function(s, n) {
      for (var i = 0; i < s.free.length; i++) {
        var r = s.free[i];
        if (r[1] >= n) {
          var base = r[0];
          if (r[1] === n) s.free.splice(i, 1);
          else { r[0] += n; r[1] -= n; }
          return base;
        }
      }
      return wasmTable.grow(n);
    },
    // Returns [base, base + n) to the free list, merging neighbours.
    freeRange: function(s, base, n) {
      s.free.push([base, n]);
      s.free.sort(function(a, b) { return a[0] - b[0]; });
      var merged = [];
      for (var i = 0; i < s.free.length; i++) {
        var last = merged[merged.length - 1];
        var r = s.free[i];
        if (last && last[0] + last[1] === r[0]) last[1] += r[1];
        else merged.push([r[0], r[1]]);
      }
      s.free = merged;
    },
  },

  atomvm_wasm_jit_js_compile__deps: ['$AVMJIT'],
  atomvm_wasm_jit_js_compile__sig: 'iiiiii',
  atomvm_wasm_jit_js_compile: function(id, ptr, len, err, errLen) {
    var s = AVMJIT.state();
    s.calls++;
    try {
      s.compiled.set(id, new WebAssembly.Module(AVMJIT.bytes(ptr, len)));
      return 0;
    } catch (e) {
      return AVMJIT.fail(e, 'compiling JIT module ' + id, err, errLen);
    }
  },

  atomvm_wasm_jit_js_register__deps: ['$AVMJIT', '$setWasmTableEntry'],
  atomvm_wasm_jit_js_register__sig: 'iiiiiii',
  atomvm_wasm_jit_js_register: function(id, ptr, len, n, err, errLen) {
    var s = AVMJIT.state();
    s.calls++;
    var what = 'instantiating JIT module ' + id;
    try {
      var mod = s.compiled.get(id);
      if (!mod) {
        mod = new WebAssembly.Module(AVMJIT.bytes(ptr, len));
        s.compiled.set(id, mod);
      }
      var instance = new WebAssembly.Instance(mod, {
        env: { memory: wasmMemory, __indirect_function_table: wasmTable },
      });
      var funcs = new Array(n);
      for (var i = 0; i < n; i++) {
        funcs[i] = instance.exports['f' + i];
        if (typeof funcs[i] !== 'function') throw new TypeError('export f' + i + ' is missing');
      }
      what = 'placing JIT module ' + id + ' (' + n + ' labels) in the table';
      var base = AVMJIT.alloc(s, n);
      for (var j = 0; j < n; j++) setWasmTableEntry(base + j, funcs[j]);
      s.instances.set(id, instance);
      return base;
    } catch (e) {
      return AVMJIT.fail(e, what, err, errLen);
    }
  },

  atomvm_wasm_jit_js_release__deps: ['$AVMJIT', '$setWasmTableEntry'],
  atomvm_wasm_jit_js_release__sig: 'viii',
  atomvm_wasm_jit_js_release: function(id, base, n) {
    var s = AVMJIT.state();
    s.calls++;
    s.compiled.delete(id);
    s.instances.delete(id);
    if (base >= 0) {
      for (var i = 0; i < n; i++) setWasmTableEntry(base + i, null);
      AVMJIT.freeRange(s, base, n);
    }
  },

  atomvm_wasm_jit_js_calls__deps: ['$AVMJIT'],
  atomvm_wasm_jit_js_calls__sig: 'd',
  atomvm_wasm_jit_js_calls: function() {
    return AVMJIT.state().calls;
  },
};

if (typeof addToLibrary === 'function') {
  addToLibrary(AtomVMWasmJitLibrary);
} else {
  mergeInto(LibraryManager.library, AtomVMWasmJitLibrary);
}
