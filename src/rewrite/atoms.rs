//! Atom constants read in the module ([`super::Options::atom_terms`]).
//!
//! AtomVM's generated code gets the term of each atom it uses from
//! interface entry 3, `module_get_atom_term_by_id(jit_state, i)`, with `i`
//! the atom's index in the module's own atom table. Entry 3 only reads
//! memory, always the same way: the global atom index
//! `jit_state->module->local_atoms_to_global_table[i]` (an `atom_index_t`,
//! 32 bits), which it turns into a term: `(index << 6) | 0xB` (AtomVM's
//! `term_from_atom_index`). The generator always passes constants:
//! `local.get 1; i32.const i; local.get 2; i32.load offset=12;
//! call_indirect (type 1)`. Such a call becomes the reads and the
//! arithmetic themselves, in the order of the C:
//!
//! ```text
//! local.get 1; i32.load offset=0        ;; jit_state->module
//! i32.load offset=A                     ;; ->local_atoms_to_global_table
//! i32.const 4*i; i32.add; i32.load      ;; [i] (4*i wraps as C's index does on wasm32)
//! i32.const 6; i32.shl; i32.const 0xB; i32.or
//! ```
//!
//! The same words are read at the same moment, so the result is the same,
//! and nothing else observable happens: entry 3 writes nothing and calls
//! nothing. `A` is AtomVM's struct layout ([`AtomLayout`]), which the C
//! shim reads from AtomVM's headers and hands over only after calling entry
//! 3 on a probe and getting the answer those reads give. No layout, no
//! rewrite. A call is replaced only if:
//!
//! - its function's local 2 is the loop's interface (entered by the loop
//!   only, never writes local 2), as for binding a primitive, so entry 3 is
//!   AtomVM's;
//! - it reads entry 3 (offset 12) with type `(i32, i32) -> i32`;
//! - its two arguments are a `local.get` and an `i32.const` right before
//!   it (with another shape it stays a call).
//!
//! The pattern and its guards are those of `bifs.rs`
//! ([`super::primitives::generated_call`]); only the reads differ.

use super::analysis::Site;
use super::mem;
use super::primitives::{generated_call, PrimitiveFacts};
use wasm_encoder::InstructionSink;

/// Interface entry `module_get_atom_term_by_id`.
pub const GET_ATOM_TERM: usize = 3;

/// Where entry 3 reads, in AtomVM's structs (wasm32 byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomLayout {
    /// `offsetof(Module, local_atoms_to_global_table)`.
    pub local_atoms: u32,
}

impl AtomLayout {
    /// The layout of the differential oracle's model (`oracle::model`),
    /// for tests.
    pub const MODEL: AtomLayout = AtomLayout { local_atoms: 8 };
}

/// Standard type 1, `(i32, i32) -> i32`: entry 3's.
const ENTRY_TYPE: u8 = 1;

/// AtomVM's `term_from_atom_index`: the index above the six tag bits of an
/// atom (`TERM_IMMED2_ATOM`).
pub const ATOM_SHIFT: u32 = 6;
pub const ATOM_TAG: u32 = 0xB;

/// If `site` is a call of entry 3 to read in place, the bytes it replaces:
/// `[from, to)` (from its first argument to the end of the `call_indirect`;
/// a `return` after it stays), with the reads written into `out`.
pub fn inline(
    out: &mut Vec<u8>,
    layout: AtomLayout,
    facts: &PrimitiveFacts,
    site: &Site,
    p_is_interface: bool,
) -> Option<(usize, usize)> {
    let (args, call_end) = generated_call(facts, site, p_is_interface, GET_ATOM_TERM, ENTRY_TYPE)?;
    let index_bytes = (args.value as u32).wrapping_mul(4);
    let mut ins = InstructionSink::new(out);
    ins.local_get(args.local)
        .i32_load(mem(crate::abi::JIT_STATE_MODULE))
        .i32_load(mem(u64::from(layout.local_atoms)))
        .i32_const(index_bytes as i32)
        .i32_add()
        .i32_load(mem(0))
        .i32_const(ATOM_SHIFT as i32)
        .i32_shl()
        .i32_const(ATOM_TAG as i32)
        .i32_or();
    Some((args.start, call_end))
}
