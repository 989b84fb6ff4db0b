//! The structures generated code relies on (spec section 2), with their wasm32
//! layouts asserted at compile time, and the two `jit.h` helpers a host
//! without its own needs: label to entry point for a `Module *`, and the
//! `jit_return` primitive (cp to `label + 1`, spec section 6.3).
//!
//! AtomVM defines `module_get_native_entry_point` and `jit_return` itself, so
//! ours are exported under distinct names (`atomvm_wasm_jit_*`, see `ffi`)
//! and never clash when linked into AtomVM. They need to map a module index
//! (from `cp`) to a `Module *`: the host tells us with
//! `atomvm_wasm_jit_bind_module`.

use libc::{c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// `JITState`: 12 bytes on wasm32.
#[repr(C)]
#[derive(Debug)]
pub struct JitState {
    /// `Module *` of the running code.
    pub module: *mut c_void,
    /// `label + 1` to continue at, 0 for none.
    pub continuation: usize,
    pub remaining_reductions: c_int,
}

/// The beginning of AtomVM's `Context`, up to the last field generated code
/// touches. Only the offsets matter; the rest belongs to AtomVM.
#[repr(C)]
pub struct ContextPrefix {
    _head: [u32; 5],
    pub e: u32,
    pub x: [u32; 17],
    pub cp: u32,
    pub fr: u32,
    pub bs: u32,
    pub bs_offset: u32,
}

#[cfg(target_pointer_width = "32")]
mod layout {
    use super::*;
    use static_assertions::const_assert_eq;
    use std::mem::{offset_of, size_of};

    const_assert_eq!(size_of::<JitState>(), 12);
    const_assert_eq!(offset_of!(JitState, module) as u64, JIT_STATE_MODULE);
    const_assert_eq!(
        offset_of!(JitState, continuation) as u64,
        JIT_STATE_CONTINUATION
    );
    const_assert_eq!(
        offset_of!(JitState, remaining_reductions) as u64,
        JIT_STATE_REDUCTIONS
    );

    const_assert_eq!(offset_of!(ContextPrefix, e) as u64, CONTEXT_E);
    const_assert_eq!(offset_of!(ContextPrefix, x) as u64, CONTEXT_X);
    const_assert_eq!(offset_of!(ContextPrefix, cp) as u64, CONTEXT_CP);
    const_assert_eq!(offset_of!(ContextPrefix, fr), 0x60);
    const_assert_eq!(offset_of!(ContextPrefix, bs), 0x64);
    const_assert_eq!(offset_of!(ContextPrefix, bs_offset), 0x68);
}

/// Offsets of spec section 2 as generated code encodes them, for the
/// rewriter and the test generator; asserted against the structs above on
/// wasm32.
pub const JIT_STATE_MODULE: u64 = 0x0;
pub const JIT_STATE_CONTINUATION: u64 = 0x4;
pub const JIT_STATE_REDUCTIONS: u64 = 0x8;
pub const CONTEXT_E: u64 = 0x14;
pub const CONTEXT_X: u64 = 0x18;
pub const CONTEXT_CP: u64 = 0x5C;

/// Module indices fit in the 8 high bits of a `cp`.
pub const MAX_MODULES: usize = 256;

/// `cp` to `(module index, label)` (spec section 6.3).
pub const fn decode_cp(cp: u32) -> (u32, u32) {
    (cp >> 24, ((cp & 0x00FF_FFFF) >> 2) / 4)
}

/// Module index to (`Module *`, `native_code`), set by the host.
struct Binding {
    module: AtomicPtr<c_void>,
    native_code: AtomicUsize,
}

static BINDINGS: [Binding; MAX_MODULES] = [const {
    Binding {
        module: AtomicPtr::new(std::ptr::null_mut()),
        native_code: AtomicUsize::new(0),
    }
}; MAX_MODULES];

/// Records that the module at `index` is `module` with handle `native_code`.
/// Returns false if `index` is not below [`MAX_MODULES`].
pub fn bind_module(index: u32, module: *mut c_void, native_code: usize) -> bool {
    let Some(b) = BINDINGS.get(index as usize) else {
        return false;
    };
    b.native_code.store(native_code, Ordering::Release);
    b.module.store(module, Ordering::Release);
    true
}

/// The bound `Module *` and handle at `index`.
pub fn binding(index: u32) -> Option<(*mut c_void, usize)> {
    let b = BINDINGS.get(index as usize)?;
    let module = b.module.load(Ordering::Acquire);
    (!module.is_null()).then(|| (module, b.native_code.load(Ordering::Acquire)))
}
