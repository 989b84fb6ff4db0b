/*
 * atomvm_wasm_jit: the JavaScript side, an Emscripten JS library (link with
 * --js-library). It validates JIT modules, and compiles and instantiates them
 * with the program's own memory and table and places their label functions
 * in the calling thread's table. Everything here is per thread: with
 * pthreads, each worker runs its own copy of this code with its own table
 * and state.
 *
 * The Rust side (src/engine.rs) decides when to call; this file only does
 * what needs the engine. Lookups of placed labels never come here.
 *
 * State. A thread keeps only the modules placed in its table, by id, each
 * with its range. A placement is recorded last, after everything that can
 * fail, and undone if anything fails before: a call that fails, or that an
 * exception interrupts, leaves no record behind. Registering an id already
 * placed returns its base; releasing an unknown id does nothing.
 *
 * Uses only what Emscripten 3.1.x through 6.x all provide, and nothing
 * Emscripten marks internal (a link with -Werror stays clean): wasmMemory,
 * wasmTable and the WebAssembly API. Table slots are written with
 * wasmTable.set; where the program keeps Emscripten's cache of table entries
 * (wasmTableMirror, read by its invoke_* and dynCall wrappers), the slot's
 * cache entry is refreshed too, found at run time so that no dependency on
 * an internal symbol is declared.
 */

var AtomVMWasmJitLibrary = {
  // Per-thread state, created on first use: placements by module id
  // ({instance, module, base, n}), free table ranges [base, len], the trampoline
  // instance, and counters for tests.
  $AVMJIT: {
    st: null,
    state: function() {
      if (!AVMJIT.st) {
        // ownLength: the table's length before this library placed
        // anything on this thread, the program's own functions.
        AVMJIT.st = { placed: new Map(), free: [], calls: 0, grows: 0, tramp: null,
                      ownLength: wasmTable.length, priv: null, copies: 0 };
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
    // Status codes for Rust: -1 the engine refused the module, -2 a resource
    // ran out (the table cannot grow), -3 the module does not validate.
    fail: function(code, e, what, ptr, cap) {
      var name = (e && e.name) || 'Error';
      var text = what + ': ' + name + ': ' + ((e && e.message) || String(e));
      AVMJIT.writeMessage(text, ptr, cap);
      return code;
    },
    // This thread's trampoline instance: t<S> does call_indirect of type S.
    trampolines: function(s, trampPtr, trampLen) {
      if (!s.tramp) {
        s.tramp = new WebAssembly.Instance(new WebAssembly.Module(AVMJIT.bytes(trampPtr, trampLen)), {
          env: { __indirect_function_table: wasmTable },
        });
      }
      return s.tramp.exports;
    },
    // The import object for a compiled module: env.memory (and the table if
    // the module still imports it), p."N:S" bound to entry N of the native
    // interface at `iface`, ci.t<S> from this thread's trampolines. An entry
    // that is not a function in the table, or (with `viaTrampolines`, for
    // interfaces whose entries do not have the types the module calls) any
    // entry, is bound through the trampoline of type S with its index fixed:
    // calling it does exactly what the module's call_indirect would have
    // done, trap included.
    importsFor: function(s, mod, iface, trampPtr, trampLen, viaTrampolines) {
      var imports = { env: { memory: wasmMemory, __indirect_function_table: wasmTable } };
      var descs = WebAssembly.Module.imports(mod);
      var heap32 = null;
      for (var i = 0; i < descs.length; i++) {
        var d = descs[i];
        if (d.module === 'p') {
          if (!heap32) heap32 = new Uint32Array(wasmMemory.buffer);
          var parts = d.name.split(':');
          var index = heap32[(iface >>> 2) + Number(parts[0])];
          var f = null;
          if (!viaTrampolines && index) {
            try {
              f = wasmTable.get(index);
            } catch (e) {
              f = null; // not a table index: the call traps when made
            }
          }
          if (typeof f !== 'function') {
            f = AVMJIT.fixedIndex(AVMJIT.trampolines(s, trampPtr, trampLen)['t' + parts[1]], index);
          }
          (imports.p = imports.p || {})[d.name] = f;
        } else if (d.module === 'ci') {
          (imports.ci = imports.ci || {})[d.name] = AVMJIT.trampolines(s, trampPtr, trampLen)[d.name];
        }
      }
      return imports;
    },
    // The table a module placed as it came (not rewritten) imports: this
    // thread's private copy of the program's own functions (the table as it
    // was before this library placed anything), which is all such a module
    // calls through its table. Not the table itself: every instance
    // importing a table slows down each growth of it, and V8 (node 20)
    // keeps the instance alive for as long as the table lives. A copy with
    // 64 released importers behind it is retired: the next placement makes
    // a new one, and the old one goes with its last instance.
    privateTable: function(s) {
      if (!s.priv || s.priv.retired >= 64) {
        var n = s.ownLength;
        var table = new WebAssembly.Table({ element: 'anyfunc', initial: n });
        for (var i = 1; i < n; i++) {
          var f = wasmTable.get(i);
          if (f) table.set(i, f);
        }
        s.priv = { table: table, retired: 0 };
        s.copies++;
      }
      return s.priv;
    },
    // A function calling trampoline `t` with a fixed table index.
    fixedIndex: function(t, index) {
      return function() {
        var args = Array.prototype.slice.call(arguments);
        args.push(index);
        return t.apply(null, args);
      };
    },
    // Writes table slot `i`, keeping Emscripten's cache of table entries (if
    // the program has one) in step, as its own setWasmTableEntry does.
    setSlot: function(i, f) {
      wasmTable.set(i, f);
      if (typeof wasmTableMirror !== 'undefined') {
        wasmTableMirror[i] = f === null ? null : wasmTable.get(i);
      }
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
      var base = wasmTable.grow(n);
      s.grows++;
      return base;
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

  // 0 if the module validates; else -3 and the engine's message. Keeps nothing.
  atomvm_wasm_jit_js_validate__deps: ['$AVMJIT'],
  atomvm_wasm_jit_js_validate__sig: 'iiiii',
  atomvm_wasm_jit_js_validate: function(ptr, len, err, errLen) {
    var s = AVMJIT.state();
    s.calls++;
    var bytes = AVMJIT.bytes(ptr, len);
    if (WebAssembly.validate(bytes)) return 0;
    try {
      new WebAssembly.Module(bytes); // only to learn why
      return AVMJIT.fail(-3, new WebAssembly.CompileError('the module does not validate'), 'validating', err, errLen);
    } catch (e) {
      AVMJIT.writeMessage(((e && e.name) || 'Error') + ': ' + ((e && e.message) || String(e)), err, errLen);
      return -3;
    }
  },

  atomvm_wasm_jit_js_register__deps: ['$AVMJIT'],
  atomvm_wasm_jit_js_register__sig: 'iiiiiiiiiii',
  atomvm_wasm_jit_js_register: function(id, ptr, len, n, asItCame, iface, trampPtr, trampLen, err, errLen) {
    var s = AVMJIT.state();
    s.calls++;
    var placed = s.placed.get(id);
    if (placed) return placed.base;
    var what = 'compiling JIT module ' + id;
    var base = -1;
    var set = 0;
    try {
      var mod = new WebAssembly.Module(AVMJIT.bytes(ptr, len));
      what = 'instantiating JIT module ' + id;
      var instance;
      var priv = null;
      try {
        var imports = AVMJIT.importsFor(s, mod, iface, trampPtr, trampLen, false);
        if (asItCame) {
          priv = AVMJIT.privateTable(s);
          imports.env.__indirect_function_table = priv.table;
        }
        instance = new WebAssembly.Instance(mod, imports);
      } catch (e) {
        if (asItCame) throw e;
        if (!(e instanceof WebAssembly.LinkError)) throw e;
        // An entry of the interface has another type than the module calls it
        // with: bind the primitives through the trampolines, which trap only
        // if such a call is made.
        instance = new WebAssembly.Instance(mod, AVMJIT.importsFor(s, mod, iface, trampPtr, trampLen, true));
      }
      var funcs = new Array(n);
      for (var i = 0; i < n; i++) {
        funcs[i] = instance.exports['f' + i];
        if (typeof funcs[i] !== 'function') throw new TypeError('export f' + i + ' is missing');
      }
      what = 'placing JIT module ' + id + ' (' + n + ' labels) in the table';
      try {
        base = AVMJIT.alloc(s, n);
      } catch (e) {
        return AVMJIT.fail(-2, e, what, err, errLen);
      }
      for (; set < n; set++) AVMJIT.setSlot(base + set, funcs[set]);
      s.placed.set(id, { instance: instance, module: mod, base: base, n: n, priv: priv });
      return base;
    } catch (e) {
      if (base >= 0) {
        for (var j = 0; j < set; j++) AVMJIT.setSlot(base + j, null);
        AVMJIT.freeRange(s, base, n);
      }
      return AVMJIT.fail(-1, e, what, err, errLen);
    }
  },

  atomvm_wasm_jit_js_release__deps: ['$AVMJIT'],
  atomvm_wasm_jit_js_release__sig: 'vi',
  atomvm_wasm_jit_js_release: function(id) {
    var s = AVMJIT.state();
    s.calls++;
    var placed = s.placed.get(id);
    if (!placed) return;
    s.placed.delete(id);
    if (placed.priv) placed.priv.retired++;
    for (var i = 0; i < placed.n; i++) AVMJIT.setSlot(placed.base + i, null);
    AVMJIT.freeRange(s, placed.base, placed.n);
  },

  // A new pthread starts using the runtime on this worker: Emscripten reuses
  // workers, and what an earlier pthread placed in this worker's table is
  // no longer reachable by anyone. Frees it; returns how many modules.
  atomvm_wasm_jit_js_thread_start__deps: ['$AVMJIT', 'atomvm_wasm_jit_js_release'],
  atomvm_wasm_jit_js_thread_start__sig: 'i',
  atomvm_wasm_jit_js_thread_start: function() {
    var s = AVMJIT.state();
    var ids = Array.from(s.placed.keys());
    for (var i = 0; i < ids.length; i++) _atomvm_wasm_jit_js_release(ids[i]);
    s.leftovers = (s.leftovers || 0) + ids.length;
    return ids.length;
  },

  // 1 if the engine validates a module using return_call (tail calls).
  atomvm_wasm_jit_js_tail_calls__sig: 'i',
  atomvm_wasm_jit_js_tail_calls: function() {
    try {
      return WebAssembly.validate(new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, // \0asm, version 1
        1, 4, 1, 96, 0, 0, // type 0: [] -> []
        3, 3, 2, 0, 0, // two functions of type 0
        10, 9, 2, 4, 0, 18, 1, 11, 2, 0, 11, // f0: return_call 1; f1: nothing
      ])) ? 1 : 0;
    } catch (e) {
      return 0;
    }
  },

  // The native-code cache. src/cache.rs reads and writes its entries with
  // the C library's file system: on node with NODERAWFS that is the real
  // directory; in a browser, a directory kept in IndexedDB (IDBFS, linked
  // with -lidbfs.js), mounted and loaded before main and saved after writes.
  atomvm_wasm_jit_js_cache_max_bytes__deps: ['$AVMJIT_CACHE'],
  atomvm_wasm_jit_js_cache_max_bytes__sig: 'd',
  atomvm_wasm_jit_js_cache_max_bytes: function() {
    var env = AVMJIT_CACHE.env();
    var max = env ? Number(env.ATOMVM_WASM_JIT_CACHE_MAX_BYTES) : 0;
    return max > 0 ? max : 0;
  },

  // Runs on the main thread, where the browser's file system lives.
  atomvm_wasm_jit_js_cache_written__deps: ['$AVMJIT_CACHE'],
  atomvm_wasm_jit_js_cache_written__sig: 'v',
  atomvm_wasm_jit_js_cache_written__proxy: 'async',
  atomvm_wasm_jit_js_cache_written: function() {
    AVMJIT_CACHE.save();
  },

  atomvm_wasm_jit_js_on_node__deps: ['$AVMJIT_CACHE'],
  atomvm_wasm_jit_js_on_node__sig: 'i',
  atomvm_wasm_jit_js_on_node: function() {
    return AVMJIT_CACHE.env() ? 1 : 0;
  },

  // The cache's file operations (src/engine.rs, `files`): op, path, second
  // path, buffer, message buffer. Returns a size, a count or 0; -1 with a
  // message; -2 not found (size, read, the cache directory); -3 exists
  // (write_new). On node they use node's fs on the calling thread; in a
  // browser, the _main variant runs them on the main thread, on
  // Emscripten's file system and with the page's options.
  atomvm_wasm_jit_js_cache_fs__deps: ['$AVMJIT_CACHE'],
  atomvm_wasm_jit_js_cache_fs__sig: 'diiiiiiiii',
  atomvm_wasm_jit_js_cache_fs__postset: 'AVMJIT_CACHE.preload();',
  atomvm_wasm_jit_js_cache_fs: function(op, p1, l1, p2, l2, buf, cap, msg, msgCap) {
    return AVMJIT_CACHE.op(op, p1, l1, p2, l2, buf, cap, msg, msgCap);
  },
  atomvm_wasm_jit_js_cache_fs_main__deps: ['$AVMJIT_CACHE'],
  atomvm_wasm_jit_js_cache_fs_main__sig: 'diiiiiiiii',
  atomvm_wasm_jit_js_cache_fs_main__proxy: 'sync',
  atomvm_wasm_jit_js_cache_fs_main: function(op, p1, l1, p2, l2, buf, cap, msg, msgCap) {
    return AVMJIT_CACHE.op(op, p1, l1, p2, l2, buf, cap, msg, msgCap);
  },
  // A change to the browser's directory, posted by a thread that does not
  // wait (src/mirror.rs): applied on the main thread in the order posted, a
  // failure reported on the console. Sets the word at `done` last, after
  // which the poster frees the arguments.
  atomvm_wasm_jit_js_cache_fs_post__deps: ['$AVMJIT_CACHE'],
  atomvm_wasm_jit_js_cache_fs_post__sig: 'viiiiiiii',
  atomvm_wasm_jit_js_cache_fs_post__proxy: 'async',
  atomvm_wasm_jit_js_cache_fs_post: function(op, p1, l1, p2, l2, buf, cap, done) {
    try {
      var r = AVMJIT_CACHE.run(op, p1, l1, p2, l2, buf, cap);
      if (r < 0) throw new Error(r === -3 ? 'exists' : 'no such file');
    } catch (e) {
      err('atomvm_wasm_jit: cache: ' + ['mkdir', '', '', 'write', 'rename', 'remove', 'touch'][op] + ' ' +
        AVMJIT_CACHE.text(p1, l1) + ': ' + ((e && e.message) || String(e)));
    } finally {
      Atomics.store(new Int32Array(wasmMemory.buffer), done >> 2, 1);
    }
  },

  $AVMJIT_CACHE__deps: ['$AVMJIT'],
  $AVMJIT_CACHE: {
    mount: '/atomvm-wasm-jit-cache',
    timer: null,
    // Writes `text` (UTF-8, no NUL) at [ptr, ptr + cap) if it fits; returns
    // its length either way.
    put: function(text, ptr, cap) {
      var encoded = new TextEncoder().encode(text);
      if (encoded.length <= cap) new Uint8Array(wasmMemory.buffer, ptr, encoded.length).set(encoded);
      return encoded.length;
    },
    text: function(ptr, len) {
      return new TextDecoder().decode(new Uint8Array(wasmMemory.buffer, ptr, len).slice());
    },
    // node's fs, or Emscripten's FS behind the same few calls.
    files: function() {
      if (AVMJIT_CACHE.fsImpl) return AVMJIT_CACHE.fsImpl;
      var impl;
      if (AVMJIT_CACHE.env()) {
        var fs = (process.getBuiltinModule && process.getBuiltinModule('fs')) ||
          (typeof require == 'function' && require('fs'));
        impl = {
          missing: function(e) { return e && e.code === 'ENOENT'; },
          exists: function(e) { return e && e.code === 'EEXIST'; },
          mkdirAll: function(p) { fs.mkdirSync(p, { recursive: true }); },
          stat: function(p) { var st = fs.statSync(p); return { size: st.size, mtime: st.mtimeMs, file: st.isFile() }; },
          read: function(p) { return fs.readFileSync(p); },
          writeNew: function(p, data) { fs.writeFileSync(p, data, { flag: 'wx' }); },
          rename: function(a, b) { fs.renameSync(a, b); },
          unlink: function(p) { fs.unlinkSync(p); },
          touch: function(p) { var now = new Date(); fs.utimesSync(p, now, now); },
          readdir: function(p) { return fs.readdirSync(p); },
        };
      } else {
        var code = function(e) { return e && (e.code || (typeof ERRNO_CODES == 'object' && Object.keys(ERRNO_CODES).find(function(k) { return ERRNO_CODES[k] === e.errno; }))); };
        impl = {
          missing: function(e) { return code(e) === 'ENOENT'; },
          exists: function(e) { return code(e) === 'EEXIST'; },
          mkdirAll: function(p) { FS.mkdirTree(p); },
          stat: function(p) {
            if (!FS.analyzePath(p).exists) { var e = new Error('no such file'); e.code = 'ENOENT'; throw e; }
            var st = FS.stat(p);
            return { size: st.size, mtime: new Date(st.mtime).getTime(), file: FS.isFile(st.mode) };
          },
          read: function(p) { return FS.readFile(p); },
          writeNew: function(p, data) {
            if (FS.analyzePath(p).exists) { var e = new Error('exists'); e.code = 'EEXIST'; throw e; }
            FS.writeFile(p, data);
          },
          rename: function(a, b) { FS.rename(a, b); },
          unlink: function(p) { FS.unlink(p); },
          touch: function(p) { var now = Date.now(); FS.utime(p, now, now); },
          readdir: function(p) { return FS.readdir(p).filter(function(n) { return n !== '.' && n !== '..'; }); },
        };
      }
      return (AVMJIT_CACHE.fsImpl = impl);
    },
    // Runs `op`: a size, a count, 0 or a status (-2, -3); throws on failure.
    run: function(op, p1, l1, p2, l2, buf, cap) {
      var path = AVMJIT_CACHE.text(p1, l1);
      var f = AVMJIT_CACHE.files();
      switch (op) {
        case 0: f.mkdirAll(path); return 0;
        case 1:
          try { return f.stat(path).size; } catch (e) { if (f.missing(e)) return -2; throw e; }
        case 2: {
          var data;
          try { data = f.read(path); } catch (e) { if (f.missing(e)) return -2; throw e; }
          var n = Math.min(data.length, cap);
          new Uint8Array(wasmMemory.buffer, buf, n).set(data.subarray(0, n));
          return n;
        }
        case 3:
          try {
            f.writeNew(path, new Uint8Array(wasmMemory.buffer, buf, cap).slice());
            return 0;
          } catch (e) {
            if (f.exists(e)) return -3;
            try { f.unlink(path); } catch (e2) {}
            throw e;
          }
        case 4: f.rename(path, AVMJIT_CACHE.text(p2, l2)); return 0;
        case 5: f.unlink(path); return 0;
        case 6: f.touch(path); return 0;
        case 7: {
          var names;
          try { names = f.readdir(path); } catch (e) { if (f.missing(e)) return 0; throw e; }
          var lines = '';
          names.forEach(function(name) {
            try {
              var st = f.stat(path + '/' + name);
              if (st.file) lines += name + '\t' + st.size + '\t' + Math.floor(st.mtime) + '\n';
            } catch (e) {}
          });
          return AVMJIT_CACHE.put(lines, buf, cap);
        }
        case 8: {
          // The cache directory (the path is unused): -2 for none.
          var dir = AVMJIT_CACHE.dir();
          if (!dir) return -2;
          var n = AVMJIT_CACHE.put(dir, buf, cap);
          return n <= cap ? n : -2;
        }
      }
      throw new Error('unknown operation ' + op);
    },
    // `run`, a failure written as a message at [msg, msg + msgCap): -1.
    op: function(op, p1, l1, p2, l2, buf, cap, msg, msgCap) {
      try {
        return AVMJIT_CACHE.run(op, p1, l1, p2, l2, buf, cap);
      } catch (e) {
        AVMJIT.writeMessage((e && e.message) || String(e), msg, msgCap);
        return -1;
      }
    },
    env: function() {
      var node = typeof process == 'object' && process.versions && process.versions.node;
      return node ? process.env : null;
    },
    // Where the cache is, or null for none.
    dir: function() {
      var env = AVMJIT_CACHE.env();
      if (env) {
        if (env.ATOMVM_WASM_JIT_CACHE === 'off') return null;
        if (env.ATOMVM_WASM_JIT_CACHE_DIR) return env.ATOMVM_WASM_JIT_CACHE_DIR;
        var base = env.XDG_CACHE_HOME || (env.HOME && env.HOME + '/.cache') || env.LOCALAPPDATA;
        return base ? base + '/atomvm-wasm-jit' : null;
      }
      return AVMJIT_CACHE.browser() ? AVMJIT_CACHE.mount : null;
    },
    browser: function() {
      return typeof IDBFS != 'undefined' && typeof FS != 'undefined' && typeof indexedDB != 'undefined' &&
        Module['atomvmWasmJitCache'] !== false;
    },
    // In a browser, on the main thread: mount the directory and load it
    // from IndexedDB before main runs.
    preload: function() {
      if (AVMJIT_CACHE.env() || !AVMJIT_CACHE.browser()) return;
      if (typeof ENVIRONMENT_IS_PTHREAD != 'undefined' && ENVIRONMENT_IS_PTHREAD) return;
      var pre = Module['preRun'] || [];
      if (typeof pre == 'function') pre = [pre];
      pre.push(function() {
        var dir = AVMJIT_CACHE.mount;
        try {
          FS.mkdir(dir);
          FS.mount(IDBFS, {}, dir);
        } catch (e) {
          return;
        }
        var dep = typeof addRunDependency == 'function';
        if (dep) addRunDependency('atomvm-wasm-jit-cache');
        FS.syncfs(true, function(e) {
          if (e) err('atomvm_wasm_jit: cache: cannot load from IndexedDB: ' + e);
          if (dep) removeRunDependency('atomvm-wasm-jit-cache');
        });
      });
      Module['preRun'] = pre;
    },
    // In a browser: save the directory to IndexedDB soon, once for a burst
    // of writes.
    save: function() {
      if (AVMJIT_CACHE.env() || !AVMJIT_CACHE.browser() || AVMJIT_CACHE.timer) return;
      AVMJIT_CACHE.timer = setTimeout(function() {
        AVMJIT_CACHE.timer = null;
        FS.syncfs(false, function(e) {
          if (e) err('atomvm_wasm_jit: cache: cannot save to IndexedDB: ' + e);
        });
      }, 100);
    },
  },

  // A variable of node's environment (the C library's getenv does not see
  // it): its length, written into [buf, buf + cap), or -1 if unset or in a
  // browser.
  atomvm_wasm_jit_js_env__deps: ['$AVMJIT_CACHE'],
  atomvm_wasm_jit_js_env__sig: 'iiiii',
  atomvm_wasm_jit_js_env: function(namePtr, nameLen, buf, cap) {
    var env = AVMJIT_CACHE.env();
    if (!env) return -1;
    var name = AVMJIT_CACHE.text(namePtr, nameLen);
    var value = env[name];
    if (value === undefined) return -1;
    var n = AVMJIT_CACHE.put(String(value), buf, cap);
    return n <= cap ? n : -1;
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
