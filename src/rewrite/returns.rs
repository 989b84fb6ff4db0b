//! Inline returns ([`super::Options::inline_returns`], with tail calls). A
//! return is AtomVM's `do_return` primitive (spec 6.3) in tail position:
//! `local.get 0; local.get 1; local.get 2; i32.load offset=4; call_indirect;
//! return`. It reads `ctx->cp`, sets `jit_state->module` to the module of
//! index `cp >> 24` and the continuation to the label `(cp & 0xFFFFFF) >> 4`
//! plus one, and the dispatch loop then calls that label. In front of it
//! goes
//!
//! ```text
//! if jit_state->remaining_reductions != 0
//!    && cp >> 24 == <module at function entry>->module_index:
//!     label = (cp & 0xFFFFFF) >> 4
//!     if label < <number of labels>:
//!         jit_state->module = <module at function entry>
//!         jit_state->continuation = 0
//!         return_call_indirect <own table>[label](ctx, jit_state, p)
//! ```
//!
//! which is what `do_return` and the loop would do when the return stays in
//! the module: the module of that index is the entry module (indices name
//! modules one to one), the loop goes on while reductions remain, resets
//! the continuation, and calls the label. The module gets a table of its own
//! holding its label functions (it imports no other, or keeps table 0).
//!
//! Exact under the conditions of tail-linked jumps (`jumps.rs`): the
//! function is entered by the loop only and never writes locals 0-2 (so its
//! entry module is the loop's, and returning from it means returning to the
//! loop), and the locals and code added keep it within the engine's limits.
//! The two instructions before the call must push locals 0 and 1 (the call's
//! arguments are then ctx and jit_state).

use super::analysis::{Arg, Site};
use crate::abi;
use wasm_encoder::{BlockType, InstructionSink};

/// Entry of `do_return` in the native interface.
const DO_RETURN: u64 = 1;

/// The fast path's insertion point if `site` is a return that can have one:
/// the offset of its `local.get 0`.
pub fn insertion_point(site: &Site, returns_ctx: impl Fn(u32) -> bool) -> Option<usize> {
    match *site {
        Site::Primitive {
            offset,
            ty,
            ret_end: Some(_),
            args: [(Arg::Local(0), at), (Arg::Local(1), _)],
            ..
        } if offset == DO_RETURN * 4 && returns_ctx(ty) => Some(at),
        _ => None,
    }
}

/// Locals the fast path uses besides the entry module (after it).
pub struct Scratch {
    pub entry: u32,
    pub cp: u32,
    pub label: u32,
}

/// The fast path inserted before a return, in a module of `n` labels whose
/// own table is `table` and label type `label_type`.
pub fn fast_path(sink: &mut Vec<u8>, l: &Scratch, n: u32, table: u32, label_type: u32) {
    InstructionSink::new(sink)
        .local_get(1)
        .i32_load(super::mem(abi::JIT_STATE_REDUCTIONS))
        .i32_const(0)
        .i32_ne()
        .local_get(0)
        .i32_load(super::mem(abi::CONTEXT_CP))
        .local_tee(l.cp)
        .i32_const(24)
        .i32_shr_u()
        .local_get(l.entry)
        .i32_load(super::mem(0)) // Module.module_index
        .i32_eq()
        .i32_and()
        .if_(BlockType::Empty)
        .local_get(l.cp)
        .i32_const(0x00FF_FFFF)
        .i32_and()
        .i32_const(4)
        .i32_shr_u()
        .local_tee(l.label)
        .i32_const(n as i32)
        .i32_lt_u()
        .if_(BlockType::Empty)
        .local_get(1)
        .local_get(l.entry)
        .i32_store(super::mem(abi::JIT_STATE_MODULE))
        .local_get(1)
        .i32_const(0)
        .i32_store(super::mem(abi::JIT_STATE_CONTINUATION))
        .local_get(0)
        .local_get(1)
        .local_get(2)
        .local_get(l.label)
        .return_call_indirect(table, label_type)
        .end()
        .end();
}
