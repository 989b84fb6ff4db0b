//! Imported BIFs read in the module ([`super::Options::imported_bifs`]).
//!
//! AtomVM's generated code calls a BIF in two steps: interface entry 8,
//! `get_imported_bif(jit_state, i)`, answers the BIF's function pointer,
//! which the code then calls. Entry 8 only reads memory, always the same
//! way: `jit_state->module->imported_funcs[i]`, an `ExportedFunction *`,
//! then the `bif0_ptr` of the `struct Bif` that starts with it. The
//! generator always passes constants: `local.get 1; i32.const i; local.get
//! 2; i32.load offset=32; call_indirect (type 1)`. Such a call becomes the
//! reads themselves, in the order and with the arithmetic of the C:
//!
//! ```text
//! local.get 1; i32.load offset=0        ;; jit_state->module
//! i32.load offset=I                     ;; ->imported_funcs
//! i32.const 4*i; i32.add; i32.load      ;; [i] (4*i wraps as C's unsigned index does)
//! i32.load offset=B                     ;; ->bif0_ptr
//! ```
//!
//! The same words are read at the same moment, so the result is the same,
//! and nothing else observable happens: entry 8 writes nothing and calls
//! nothing. `I` and `B` are AtomVM's struct layout ([`BifLayout`]), which
//! the C shim reads from AtomVM's headers and hands over only after
//! calling entry 8 on a probe and getting the answer those reads give. No
//! layout, no rewrite. A call is replaced only if:
//!
//! - its function's local 2 is the loop's interface (entered by the loop
//!   only, never writes local 2), as for binding a primitive, so entry 8 is
//!   AtomVM's;
//! - it reads entry 8 (offset 32) with type `(i32, i32) -> i32`;
//! - its two arguments are a `local.get` and an `i32.const` right before
//!   it (with another shape it stays a call).

use super::analysis::Site;
use super::mem;
use super::primitives::{generated_call, PrimitiveFacts};
use wasm_encoder::InstructionSink;

/// Interface entry `get_imported_bif`.
pub const GET_IMPORTED_BIF: usize = 8;

/// Where entry 8 reads, in AtomVM's structs (wasm32 byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BifLayout {
    /// `offsetof(Module, imported_funcs)`.
    pub imported_funcs: u32,
    /// `bif0_ptr` from the start of the `ExportedFunction` in a `struct
    /// Bif`.
    pub bif0_ptr: u32,
}

impl BifLayout {
    /// The layout of the differential oracle's model (`oracle::model`),
    /// for tests.
    pub const MODEL: BifLayout = BifLayout {
        imported_funcs: 4,
        bif0_ptr: 4,
    };
}

/// Standard type 1, `(i32, i32) -> i32`: entry 8's.
const ENTRY_TYPE: u8 = 1;

/// If `site` is a call of entry 8 to read in place, the bytes it replaces:
/// `[from, to)` (from its first argument to the end of the `call_indirect`;
/// a `return` after it stays), with the reads written into `out`.
pub fn inline(
    out: &mut Vec<u8>,
    layout: BifLayout,
    facts: &PrimitiveFacts,
    site: &Site,
    p_is_interface: bool,
) -> Option<(usize, usize)> {
    let (args, call_end) =
        generated_call(facts, site, p_is_interface, GET_IMPORTED_BIF, ENTRY_TYPE)?;
    let index_bytes = (args.value as u32).wrapping_mul(4);
    let mut ins = InstructionSink::new(out);
    ins.local_get(args.local)
        .i32_load(mem(crate::abi::JIT_STATE_MODULE))
        .i32_load(mem(u64::from(layout.imported_funcs)))
        .i32_const(index_bytes as i32)
        .i32_add()
        .i32_load(mem(0))
        .i32_load(mem(u64::from(layout.bif0_ptr)));
    Some((args.start, call_end))
}
