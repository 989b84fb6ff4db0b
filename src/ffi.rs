//! The C ABI: AtomVM's platform hooks (spec section 5) and this library's own
//! `atomvm_wasm_jit_*` functions. Each function converts its arguments, calls
//! the registry, and maps an error to NULL (or false) after recording its
//! message for `atomvm_wasm_jit_last_error`. Nothing here panics.
//!
//! `native_code` handles are opaque: they are module ids (see `registry`),
//! never dereferenced. Entry points are table indices cast to pointers.

use crate::abi::{self, JitState};
use crate::error::{self, Error, ErrorKind, Result};
use crate::registry::{self, ModuleId};
use libc::{c_char, c_int, c_void};
use std::ptr;

/// Returns the value, or records the error and returns `on_err`.
fn or_record<T>(result: Result<T>, on_err: T) -> T {
    match result {
        Ok(value) => value,
        Err(err) => {
            error::record(&err);
            on_err
        }
    }
}

fn handle(native_code: *const c_void) -> Result<ModuleId> {
    ModuleId::from_handle(native_code as usize).ok_or_else(|| {
        Error::new(
            ErrorKind::BadHandle,
            format!("native_code {native_code:p} is not a module handle"),
        )
    })
}

fn label(label: c_int) -> Result<u32> {
    u32::try_from(label)
        .map_err(|_| Error::new(ErrorKind::BadLabel, format!("label {label} is negative")))
}

fn entry(index: u32) -> *const c_void {
    ptr::without_provenance(index as usize)
}

/// The `size` bytes at `code`, empty if NULL.
///
/// # Safety
/// `code` is NULL or points to `size` bytes readable for `'a`.
unsafe fn bytes_or_empty<'a>(code: *const u8, size: usize) -> &'a [u8] {
    if code.is_null() || size == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `size` readable bytes at `code`.
        unsafe { std::slice::from_raw_parts(code, size) }
    }
}

/// Loads a JIT stream stored in a module file (spec section 5). Returns the
/// module's `native_code` handle, or NULL with a message.
///
/// # Safety
/// `code` must point to `size` readable bytes for the duration of the call
/// (it may be NULL only with `size` 0). The bytes are copied.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sys_map_native_code(code: *const u8, size: usize) -> *const c_void {
    // SAFETY: the caller guarantees `size` readable bytes at `code`.
    let bytes = unsafe { bytes_or_empty(code, size) };
    let loaded = registry::load(bytes).map(|id| ptr::without_provenance(id.to_handle()));
    or_record(loaded, ptr::null())
}

/// Releases a module on every thread (spec section 5). Releasing twice or a
/// handle that was never loaded records an error and changes nothing.
#[unsafe(no_mangle)]
pub extern "C" fn sys_release_native_code(native_code: *const c_void) {
    or_record(handle(native_code).and_then(registry::release), ());
}

/// The calling thread's table index of `label`, as a function pointer, or
/// NULL with a message if the handle or label is not valid or the module
/// cannot be placed on this thread (spec section 5).
#[unsafe(no_mangle)]
pub extern "C" fn jit_wasm_get_entry_point(
    native_code: *const c_void,
    label: c_int,
) -> *const c_void {
    // A negative label becomes a huge one, which no cache line accepts.
    match registry::cached_entry_point(native_code as usize, label as u32) {
        Some(index) => entry(index),
        None => entry_point_slow(native_code, label),
    }
}

/// Everything but a cache hit: checks, placement on this thread, errors.
#[cold]
#[inline(never)]
fn entry_point_slow(native_code: *const c_void, label: c_int) -> *const c_void {
    let index =
        handle(native_code).and_then(|id| registry::entry_point_slow(id, self::label(label)?));
    or_record(index.map(entry), ptr::null())
}

/// The module's copy of its line metadata, or NULL if it has none or the
/// handle is not a live module (spec section 5).
#[unsafe(no_mangle)]
pub extern "C" fn jit_wasm_get_lines_metadata(native_code: *const c_void) -> *const u8 {
    or_record(handle(native_code).and_then(registry::lines), ptr::null())
}

/// `jit_stream_entry_point`'s work (the C shim hands over the bytes of the
/// Erlang binary): loads a stream compiled at run time, like
/// [`sys_map_native_code`], and keeps a copy of it for the
/// `sys_set_cache_native_code` that follows, if a cache is on.
///
/// # Safety
/// As [`sys_map_native_code`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_map_runtime_stream(
    code: *const u8,
    size: usize,
) -> *const c_void {
    // SAFETY: the caller's guarantee is the same.
    let bytes = unsafe { bytes_or_empty(code, size) };
    match registry::load(bytes) {
        Ok(id) => {
            crate::cache::remember(id.to_handle(), bytes);
            ptr::without_provenance(id.to_handle())
        }
        Err(e) => or_record(Err(e), ptr::null()),
    }
}

/// `sys_get_cache_native_code`'s work: the module whose BEAM binary is
/// `beam` from the cache, as a `native_code` handle with the version and
/// labels count stored with it; NULL on a miss, when the cache is off, or
/// when the entry was refused (then removed, with a message). `build` names
/// AtomVM's build (the C shim passes its version and JIT format version).
///
/// # Safety
/// `beam` must point to `beam_size` readable bytes, `build` to a
/// NUL-terminated string, `version` and `labels` to writable values; any
/// may be NULL, which is a miss.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_cache_get(
    beam: *const u8,
    beam_size: usize,
    build: *const c_char,
    version: *mut u16,
    labels: *mut u32,
) -> *const c_void {
    if beam.is_null() || build.is_null() || version.is_null() || labels.is_null() {
        return ptr::null();
    }
    // SAFETY: non-NULL, and the caller guarantees the sizes and the NUL.
    let (beam, build) = unsafe {
        (
            std::slice::from_raw_parts(beam, beam_size),
            std::ffi::CStr::from_ptr(build).to_bytes(),
        )
    };
    match crate::cache::load(beam, build) {
        Some((handle, v, n)) => {
            // SAFETY: non-NULL and writable, as the caller guarantees.
            unsafe {
                version.write(v);
                labels.write(n);
            }
            ptr::without_provenance(handle)
        }
        None => ptr::null(),
    }
}

/// `sys_set_cache_native_code`'s work: stores the stream of `native_code`
/// (remembered by [`atomvm_wasm_jit_map_runtime_stream`]) for the module
/// whose BEAM binary is `beam`. True if an entry was written; false if the
/// cache is off, the handle is not this thread's last run-time compilation,
/// or the write failed (with a message).
///
/// # Safety
/// As [`atomvm_wasm_jit_cache_get`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_cache_put(
    beam: *const u8,
    beam_size: usize,
    build: *const c_char,
    version: u16,
    native_code: *const c_void,
    labels: u32,
) -> bool {
    if beam.is_null() || build.is_null() {
        return false;
    }
    // SAFETY: non-NULL, and the caller guarantees the size and the NUL.
    let (beam, build) = unsafe {
        (
            std::slice::from_raw_parts(beam, beam_size),
            std::ffi::CStr::from_ptr(build).to_bytes(),
        )
    };
    let stored = crate::cache::store(beam, build, version, native_code as usize, labels);
    or_record(stored, false)
}

/// Sets the cache directory for what follows: NULL switches the cache off,
/// an empty string goes back to the platform's default (see README).
/// `max_bytes` 0 keeps the default bound.
///
/// # Safety
/// `dir` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_set_cache_dir(dir: *const c_char, max_bytes: u64) {
    if dir.is_null() {
        crate::cache::configure(None, None);
        return;
    }
    // SAFETY: non-NULL and NUL-terminated, as the caller guarantees.
    let dir = unsafe { std::ffi::CStr::from_ptr(dir) }.to_string_lossy();
    if dir.is_empty() {
        crate::cache::reset();
    } else {
        let max = (max_bytes > 0).then_some(max_bytes);
        crate::cache::configure(Some(dir.into_owned().into()), max);
    }
}

/// Removes every entry of the cache in force; returns how many files, or -1
/// with a message.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_cache_clear() -> c_int {
    let Some(cache) = crate::cache::current() else {
        return 0;
    };
    let cleared = cache
        .clear()
        .map(|n| c_int::try_from(n).unwrap_or(c_int::MAX));
    or_record(cleared, -1)
}

/// The message of the calling thread's last failure, or NULL. Valid until the
/// next failure on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_last_error() -> *const c_char {
    error::last_message_ptr()
}

/// The kind of the calling thread's last failure (see `ErrorKind`), 0 if none.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_last_error_code() -> u32 {
    error::last_kind()
}

/// Forgets the calling thread's last failure.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_clear_error() {
    error::clear()
}

/// Whether failures are also printed on standard error (default: yes).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_logging(on: bool) {
    error::set_logging(on)
}

/// Records a failure found by C code (the shim) as the last error.
///
/// # Safety
/// `message` must be NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_record_error(message: *const c_char) {
    let text = if message.is_null() {
        "unspecified error".into()
    } else {
        // SAFETY: the caller guarantees a NUL-terminated string.
        unsafe { std::ffi::CStr::from_ptr(message) }.to_string_lossy()
    };
    error::record(&Error::new(ErrorKind::BadArgument, text));
}

/// Reads `module_index` (offset 0 of AtomVM's `Module`).
///
/// # Safety
/// `module` must point to a readable `Module`.
unsafe fn module_index(module: *const c_void) -> u32 {
    // SAFETY: the caller guarantees a readable Module, whose first field is
    // `int module_index` (spec section 2).
    unsafe { module.cast::<c_int>().read() as u32 }
}

/// For hosts without their own `jit.h`: records that `module` (whose
/// `module_index` is read at offset 0) has the handle `native_code`, so that
/// `atomvm_wasm_jit_return` and `atomvm_wasm_jit_module_get_native_entry_point`
/// can find it. Returns false if the index is 256 or more.
///
/// # Safety
/// `module` must point to a readable `Module` that outlives its binding.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_bind_module(
    module: *mut c_void,
    native_code: *const c_void,
) -> bool {
    if module.is_null() {
        error::record(&Error::new(
            ErrorKind::BadArgument,
            "bind_module: module is NULL",
        ));
        return false;
    }
    // SAFETY: non-null, and the caller guarantees it is a readable Module.
    let index = unsafe { module_index(module) };
    if !abi::bind_module(index, module, native_code as usize) {
        error::record(&Error::new(
            ErrorKind::BadArgument,
            format!(
                "module_index {index} does not fit in a cp (at most {})",
                abi::MAX_MODULES - 1
            ),
        ));
        return false;
    }
    true
}

/// For hosts without their own `jit.h`: `module_get_native_entry_point`, label
/// to this thread's entry point for a bound `Module *` (AtomVM's own is named
/// `module_get_native_entry_point`; this one never clashes with it).
///
/// # Safety
/// `module` must point to a readable `Module`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_module_get_native_entry_point(
    module: *const c_void,
    label: c_int,
) -> *const c_void {
    if module.is_null() {
        return or_record(
            Err(Error::new(ErrorKind::BadArgument, "module is NULL")),
            ptr::null(),
        );
    }
    // SAFETY: non-null, and the caller guarantees it is a readable Module.
    let index = unsafe { module_index(module) };
    match abi::binding(index) {
        Some((_, native_code)) => {
            jit_wasm_get_entry_point(ptr::without_provenance(native_code), label)
        }
        None => or_record(
            Err(Error::new(
                ErrorKind::BadHandle,
                format!("module index {index} is not bound"),
            )),
            ptr::null(),
        ),
    }
}

/// For hosts without their own `jit.h`: the `jit_return` primitive
/// (`do_return`, interface entry 1; spec section 6.3). Sets
/// `jit_state->module` and `continuation = label + 1` from `ctx->cp`. If the
/// cp's module is not bound it records an error and leaves the continuation
/// at 0, so the dispatch loop stops instead of jumping anywhere.
///
/// # Safety
/// `ctx` must point to a readable `Context` and `jit_state` to a writable
/// `JITState` (spec section 2 layouts).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn atomvm_wasm_jit_return(
    ctx: *mut c_void,
    jit_state: *mut JitState,
) -> *mut c_void {
    // SAFETY: the caller guarantees a readable Context; cp is at 0x5C.
    let cp = unsafe { (*ctx.cast::<abi::ContextPrefix>()).cp };
    let (index, label) = abi::decode_cp(cp);
    // SAFETY: the caller guarantees a writable JITState.
    let state = unsafe { &mut *jit_state };
    match abi::binding(index) {
        Some((module, _)) => {
            state.module = module;
            state.continuation = label as usize + 1;
        }
        None => {
            error::record(&Error::new(
                ErrorKind::BadHandle,
                format!("return to module index {index} (cp {cp:#x}), which is not bound"),
            ));
            state.continuation = 0;
        }
    }
    ctx
}

/// Number of live modules in the process.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_live_modules() -> u32 {
    registry::live_count() as u32
}

/// Number of modules compiled or placed on the calling thread, after freeing
/// those released elsewhere.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_thread_modules() -> u32 {
    registry::local_count() as u32
}

/// Number of calls the calling thread made into the JavaScript engine glue.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_engine_calls() -> u64 {
    crate::engine::calls_on_this_thread()
}

/// When modules loaded from now on are rewritten: 0 at load; `n` once a
/// thread has looked labels of the module up `n` times (they run as they
/// came until then); `UINT32_MAX` (auto, the default), once a thread has
/// looked them up once per 8 bytes of the module's wasm (at least 64
/// times). Default: `ATOMVM_WASM_JIT_TIER_UP` in node's environment (a
/// count or `auto`), else auto. Modules already loaded keep theirs.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_tier_up(after: u32) {
    static_assertions::const_assert_eq!(crate::engine::TIER_UP_AUTO, u32::MAX);
    crate::engine::set_tier_up(after)
}

/// Whether modules loaded from now on get tail-linked jumps, where the engine
/// supports tail calls (default: yes). Modules already loaded keep theirs.
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_tail_calls(on: bool) {
    crate::engine::set(crate::engine::Rewrite::TailCalls, on)
}

/// Whether the engine runs WebAssembly tail calls (`return_call`).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_tail_calls_supported() -> bool {
    crate::engine::tail_calls_supported()
}

/// Whether modules loaded from now on call primitives through imports bound
/// at instantiation and import no table (default: yes).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_direct_primitives(on: bool) {
    crate::engine::set(crate::engine::Rewrite::DirectPrimitives, on)
}

/// Whether modules loaded from now on go straight to a label of their own
/// that a computed continuation names (such as a return within the module)
/// instead of through the dispatch loop, where they get tail-linked jumps
/// (default: yes).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_computed_jumps(on: bool) {
    crate::engine::set(crate::engine::Rewrite::ComputedJumps, on)
}

/// Whether modules loaded from now on read the function pointer of an
/// imported BIF in place instead of calling AtomVM's `get_imported_bif`
/// (default: yes; takes effect only in AtomVM, whose layout the shim
/// checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_imported_bifs(on: bool) {
    crate::engine::set(crate::engine::Rewrite::ImportedBifs, on)
}

/// Whether modules loaded from now on read the terms of their atom
/// constants in place instead of calling AtomVM's
/// `module_get_atom_term_by_id` (default: yes; takes effect only in AtomVM,
/// whose layout the shim checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_atom_terms(on: bool) {
    crate::engine::set(crate::engine::Rewrite::AtomTerms, on)
}

/// Whether modules loaded from now on answer `erlang:'+'/2`, `'-'/2`,
/// `'band'/2`, `'bor'/2`, `'bxor'/2` and `'bsr'/2` (with a shift that is not
/// negative) of two small integers themselves instead of calling AtomVM's
/// BIFs (default: yes; takes effect only in AtomVM, whose BIFs the shim
/// checks, and in modules that import no table).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_small_int_bifs(on: bool) {
    crate::engine::set(crate::engine::Rewrite::SmallIntBifs, on)
}

/// Whether modules loaded from now on call AtomVM's `trim_live_regs` only
/// when the process has extended x registers, the only case in which it
/// does something (default: yes; takes effect only in AtomVM, whose layout
/// the shim checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_trim_live_regs(on: bool) {
    crate::engine::set(crate::engine::Rewrite::TrimLiveRegs, on)
}

/// Whether modules loaded from now on answer AtomVM's `term_compare` of
/// two equal words, two small integers, or two atoms compared before in
/// the module, without calling it (default: yes; takes effect only in
/// AtomVM, whose term encoding the shim checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_immediate_compares(on: bool) {
    crate::engine::set(crate::engine::Rewrite::ImmediateCompares, on)
}

/// Whether modules loaded from now on make and drop stack frames (AtomVM's
/// `allocate` and `deallocate`) without calling them when no garbage
/// collection is due (default: yes; takes effect only in AtomVM, whose
/// heap layout the shim checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_stack_frames(on: bool) {
    crate::engine::set(crate::engine::Rewrite::StackFrames, on)
}

/// Whether modules loaded from now on answer AtomVM's `test_heap` when no
/// garbage collection is due, and make tuples (`term_alloc_tuple`),
/// themselves (default: yes; takes effect only in AtomVM, whose heap the
/// shim checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_heap_allocs(on: bool) {
    crate::engine::set(crate::engine::Rewrite::HeapAllocs, on)
}

/// Whether modules loaded from now on find small integers and atoms among
/// a map's keys (AtomVM's `term_find_map_pos`) without calling it while
/// the keys they pass are immediates (default: yes; takes effect only in
/// AtomVM, whose term encoding and map layout the shim checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_map_lookups(on: bool) {
    crate::engine::set(crate::engine::Rewrite::MapLookups, on)
}

/// Whether modules loaded from now on replace the value of one small
/// integer or atom key of a map (`M#{K => V}` where `M` has `K`, as
/// AtomVM's `jit_put_map_assoc` does) without calling it (default: yes;
/// takes effect only in AtomVM, whose heap layout and map updates the shim
/// checks).
#[unsafe(no_mangle)]
pub extern "C" fn atomvm_wasm_jit_set_map_updates(on: bool) {
    crate::engine::set(crate::engine::Rewrite::MapUpdates, on)
}
