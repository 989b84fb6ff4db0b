//! Comparisons of immediates answered in the module
//! ([`super::Options::immediate_compares`]).
//!
//! AtomVM's generated code compares two terms by calling interface entry
//! 11, `term_compare(ctx, jit_state, t, other, opts)`, with the standard
//! type `(i32 × 5) -> i32`: every `is_lt`, `is_ge`, `is_equal`, and every
//! `select_val` arm and `is_eq_exact` against a term that is not a
//! compile-time constant (atoms are loaded at run time). AtomVM 0.7's
//! `term_compare` answers (`TermEquals` 1, `TermLessThan` 2,
//! `TermGreaterThan` 4; 0 only when its temporary stack cannot grow, which
//! two terms never make it do):
//!
//! - `t == other`: equal, whatever they are;
//! - two small integers (`(t & 0xF) == 0xF`): by their signed values, which
//!   order as the tagged words do;
//! - two atoms (`(t & 0x3F) == 0x0B`): by their names, through the global
//!   atom table under its lock. An atom's index never changes its name in
//!   a running VM, so that answer is a function of the two words, whatever
//!   `opts` is.
//!
//! So every bound call of entry 11 goes to one function added to the
//! module, with the entry's type. It answers the first two cases itself,
//! and the third from a cache of the last [`SLOTS`] answers the C gave for
//! two atoms, in globals of the module (so per thread: each thread has its
//! own instance); anything else, and a miss, is the same call of the bound
//! entry. On those paths the C reads no memory of the process and writes
//! none (`ctx` is read only for `ctx->global`, on the atom path), so
//! nothing else is observable.
//!
//! The C shim hands the facts over only after checking AtomVM's term
//! encoding in its headers and probing entry 11 with equal words and small
//! integers. No facts, no rewrite. The module gets the function only if it
//! is detached (the call is bound), has no globals of its own (the cache's
//! indices start at 0), and binds entry 11 with that type.

use super::primitives::forward;
use super::small_ints::both_small_ints;
use wasm_encoder::{BlockType, Function, ValType};

/// Interface entry `term_compare`.
pub const TERM_COMPARE: usize = 11;

/// Standard type 4, `(i32 × 5) -> i32`: entry 11's.
pub const ENTRY_TYPE: u8 = 4;

/// `TermEquals`, `TermLessThan`, `TermGreaterThan`.
const EQUALS: i32 = 1;
const LESS: i32 = 2;
const GREATER: i32 = 4;

/// `term_is_atom`: `TERM_IMMED2_TAG_MASK`, `TERM_IMMED2_ATOM`.
const ATOM_MASK: i32 = 0x3F;
const ATOM_TAG: i32 = 0x0B;

/// Atom pairs the cache remembers. Each is two globals: the pair as an
/// i64 (`t << 32 | other`, 0 when empty: 0 is not an atom), and the
/// answer.
pub const SLOTS: u32 = 4;

/// The globals the function uses (all defined by the rewrite).
pub const GLOBALS: u32 = 2 * SLOTS;

/// The added function's parameters and locals.
const T: u32 = 2;
const OTHER: u32 = 3;
const R: u32 = 5;
const KEY: u32 = 6;

/// The section payload of the cache's globals: `SLOTS` mutable i64s, then
/// `SLOTS` mutable i32s, all 0.
pub fn globals() -> Vec<u8> {
    const _: () = assert!(GLOBALS < 0x80, "the count is one LEB byte");
    const I64: [u8; 5] = [0x7E, 0x01, 0x42, 0x00, 0x0B]; // i64 mut, i64.const 0; end
    const I32: [u8; 5] = [0x7F, 0x01, 0x41, 0x00, 0x0B]; // i32 mut, i32.const 0; end
    let mut out = Vec::with_capacity(1 + 5 * GLOBALS as usize);
    out.push(GLOBALS as u8);
    for i in 0..GLOBALS {
        out.extend_from_slice(if i < SLOTS { &I64 } else { &I32 });
    }
    out
}

/// The added function's body (size-prefixed, as in the code section):
/// parameters `(ctx, jit_state, t, other, opts)`, the fast paths, then the
/// call of `entry` (the import bound to entry 11), a `return_call` if
/// `tail`.
pub fn function(entry: u32, tail: bool) -> Vec<u8> {
    let mut f = Function::new([(1, ValType::I32), (1, ValType::I64)]);
    let mut ins = f.instructions();
    // The same word.
    ins.local_get(T)
        .local_get(OTHER)
        .i32_eq()
        .if_(BlockType::Empty)
        .i32_const(EQUALS)
        .return_()
        .end();
    // Two small integers (they differ).
    both_small_ints(&mut ins, T, OTHER);
    ins.if_(BlockType::Empty)
        .i32_const(LESS)
        .i32_const(GREATER)
        .local_get(T)
        .local_get(OTHER)
        .i32_lt_s()
        .select()
        .return_()
        .end();
    // Two atoms: the cache, or the call, remembered.
    ins.local_get(T)
        .i32_const(ATOM_MASK)
        .i32_and()
        .i32_const(ATOM_TAG)
        .i32_eq()
        .local_get(OTHER)
        .i32_const(ATOM_MASK)
        .i32_and()
        .i32_const(ATOM_TAG)
        .i32_eq()
        .i32_and()
        .if_(BlockType::Empty)
        .local_get(T)
        .i64_extend_i32_u()
        .i64_const(32)
        .i64_shl()
        .local_get(OTHER)
        .i64_extend_i32_u()
        .i64_or()
        .local_set(KEY);
    for s in 0..SLOTS {
        ins.global_get(s)
            .local_get(KEY)
            .i64_eq()
            .if_(BlockType::Empty)
            .global_get(SLOTS + s)
            .return_()
            .end();
    }
    forward(&mut ins, 5, entry, false);
    ins.local_tee(R)
        .i32_const(LESS)
        .i32_eq()
        .local_get(R)
        .i32_const(GREATER)
        .i32_eq()
        .i32_or()
        .if_(BlockType::Empty);
    // Newest first: every slot moves down one, the last falls out.
    for s in (1..SLOTS).rev() {
        ins.global_get(s - 1)
            .global_set(s)
            .global_get(SLOTS + s - 1)
            .global_set(SLOTS + s);
    }
    ins.local_get(KEY)
        .global_set(0)
        .local_get(R)
        .global_set(SLOTS)
        .end()
        .local_get(R)
        .return_()
        .end();
    // Anything else: as the module made it.
    forward(&mut ins, 5, entry, tail);
    ins.end();
    super::added_body(&f)
}
