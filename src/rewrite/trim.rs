//! `jit_trim_live_regs` skipped when it has nothing to do
//! ([`super::Options::trim_live_regs`]).
//!
//! AtomVM's generated code calls interface entry 7, `trim_live_regs(ctx,
//! live)`, before most calls and returns; the generator passes constants:
//! `local.get 0; i32.const live; local.get 2; i32.load offset=28;
//! call_indirect (type 7)`. In AtomVM 0.7 the entry does nothing unless the
//! process has extended x registers: its body is `if
//! (!list_is_empty(&ctx->extended_x_regs)) destroy_extended_registers(ctx,
//! live)`, and a list is empty when its `next` points at the list itself.
//! So such a call becomes that test, with the call inside:
//!
//! ```text
//! local.get X; i32.load offset=E        ;; ctx->extended_x_regs.next
//! local.get X; i32.const E; i32.add     ;; &ctx->extended_x_regs
//! i32.ne
//! if
//!   local.get X; i32.const live; <the call, as the other rewrites leave it>
//! end
//! ```
//!
//! The word is read as the C reads it (a wasm load at the same effective
//! address, trapping where the C's would), and when the list is empty the
//! call would have read that word only. `E` is
//! `offsetof(Context, extended_x_regs)`, which the C shim reads from
//! AtomVM's headers and hands over only after entry 7 left a probe context
//! with an empty list untouched. No offset, no rewrite. A call is guarded
//! only if its function's local 2 is the loop's interface (as for binding a
//! primitive, so entry 7 is AtomVM's), it reads entry 7 (offset 28) with
//! type `(i32, i32) -> ()`, and its arguments are a `local.get` and an
//! `i32.const` right before it.

use super::analysis::Site;
use super::mem;
use super::primitives::{generated_call, PrimitiveFacts};
use wasm_encoder::{BlockType, InstructionSink};

/// Interface entry `trim_live_regs`.
pub const TRIM_LIVE_REGS: usize = 7;

/// Standard type 7, `(i32, i32) -> ()`: entry 7's.
const ENTRY_TYPE: u8 = 7;

/// The offset of `Context.extended_x_regs` in the differential oracle's
/// model (`oracle::model`), for tests.
pub const MODEL_OFFSET: u32 = 0x80;

/// How a guarded call is made.
pub struct Call<'a> {
    /// The import it is bound to (entry 7 of a detached module), or `None`:
    /// the call as it was, from the module's bytes `wasm`.
    pub bound: Option<u32>,
    pub wasm: &'a [u8],
    pub prims: &'a PrimitiveFacts,
}

/// If `site` is a call of entry 7 to guard, the bytes it replaces
/// (`[from, to)`: from its first argument to the end of the call), with
/// the guarded call written into `out`.
pub fn guard(
    out: &mut Vec<u8>,
    offset: u32,
    call: Call<'_>,
    site: &Site,
    p_is_interface: bool,
) -> Option<(usize, usize)> {
    let (args, call_end) =
        generated_call(call.prims, site, p_is_interface, TRIM_LIVE_REGS, ENTRY_TYPE)?;
    let Site::Primitive { start, .. } = *site else {
        return None;
    };
    let original = call.wasm.get(start..call_end)?;
    InstructionSink::new(out)
        .local_get(args.local)
        .i32_load(mem(u64::from(offset)))
        .local_get(args.local)
        .i32_const(offset as i32)
        .i32_add()
        .i32_ne()
        .if_(BlockType::Empty)
        .local_get(args.local)
        .i32_const(args.value);
    match call.bound {
        Some(func) => {
            InstructionSink::new(out).call(func);
        }
        None => out.extend_from_slice(original),
    }
    InstructionSink::new(out).end();
    Some((args.start, call_end))
}
