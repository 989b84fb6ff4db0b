//! # atomvm_wasm_jit
//!
//! The runtime half of AtomVM's WebAssembly JIT, for Emscripten builds of
//! AtomVM: it loads JIT streams (one WebAssembly module per BEAM module),
//! places their label functions in each thread's `WebAssembly.Table`, and
//! answers "which function is label L of module M on this thread".
//!
//! It replaces AtomVM's `jit_stream_wasm.c` with the same C ABI. One file per
//! concern:
//!
//! | file | concern |
//! |---|---|
//! | `stream.rs` | the JIT stream format (spec section 3) |
//! | `module.rs` | the shape a JIT module must have (spec section 4) |
//! | `limits.rs` | the engine's limits on a module (V8's) |
//! | `rewrite/` | what the runtime changes in a module: one shared analysis, one file per rewrite |
//! | `tiering.rs` | keeping the hot loops of loading in small functions of their own, for V8's tiers |
//! | `memory.rs` | fallible allocations on the load path, exactly sized (the rewrite's list of sites grows, counted) |
//! | `registry.rs` | loaded modules, per-thread placement, the lookup fast path |
//! | `engine.rs` | the JavaScript engine behind safe wrappers (fake natively) |
//! | `abi.rs` | struct layouts and the `jit.h` helpers for hosts without one |
//! | `ffi.rs` | the exported C functions |
//! | `error.rs` | errors and the per-thread last error |
//! | `testgen.rs` | a generator of test modules of the spec's shape |
//! | `oracle/` | the differential oracle: original vs rewritten, run under wasmi (feature `oracle`) |
//!
//! The JavaScript side is `emscripten/atomvm_wasm_jit.js`.

pub mod abi;
pub mod cache;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod limits;
pub mod memory;
pub mod mirror;
pub mod module;
#[cfg(all(feature = "oracle", not(target_os = "emscripten")))]
pub mod oracle;
pub mod registry;
pub mod rewrite;
pub mod stream;
pub mod testgen;
pub mod tiering;
