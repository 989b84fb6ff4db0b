//! How loading meets V8's tiers, in the program AtomVM links.
//!
//! V8 runs a wasm function first as baseline code (Liftoff) and compiles it
//! with its optimising tier (TurboFan) once the function has run long,
//! in background threads; the new code serves the calls made after that,
//! never a call already running. TurboFan's time grows faster than the
//! function's size. When AtomVM loads modules (in a page, in its first
//! second), the library's load path is what runs long: the loops over
//! every instruction, body and export. Linked as usual, LLVM and
//! binaryen (emcc's optimiser, which inlines every function that has one
//! caller) fold the whole load path into two or three functions of 25 to
//! 28 KB of wasm, and V8 compiled those whole: 0.4 to 1 s of TurboFan in
//! headless Chromium on a 2-core machine while AtomVM's test_call page
//! started, against about 75 ms for upstream's build (stop 19's traces).
//!
//! [`out_of_line`] keeps a function that holds a hot loop a function of its
//! own, called through a pointer neither optimiser sees through, so that
//! what V8 compiles is the loop and not everything around it. The price is
//! one indirect call per body or per module.

/// `f`, as a value the optimisers cannot see through: calling the result
/// is an indirect call of `f`, which therefore stays a function of the
/// linked program. `f` must be a function pointer (`fn(..) -> ..`), not a
/// function item, or there is nothing to call indirectly.
#[inline(always)]
pub fn out_of_line<F: Copy>(f: F) -> F {
    std::hint::black_box(f)
}
