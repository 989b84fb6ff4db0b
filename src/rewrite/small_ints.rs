//! Small-integer BIFs answered in the module
//! ([`super::Options::small_int_bifs`]).
//!
//! AtomVM's generated code calls a GC BIF of two arguments through its
//! function pointer: `call_indirect (type 4)` with `(ctx, fail_label, live,
//! arg1, arg2)` and the pointer (read with entry 8, or in place by
//! `bifs.rs`). In a detached module that call goes through the trampoline
//! `ci.t4` into AtomVM's C. For `erlang:'+'/2`, `'-'/2`, `'band'/2`,
//! `'bor'/2`, `'bxor'/2` and `'bsr'/2` on two small integers the C does a
//! few machine operations (AtomVM 0.7's `bif_erlang_add_2`, `_sub_2`,
//! `_band_2`, `_bor_2`, `_bxor_2`, `_bsr_2`):
//!
//! - both are small integers when `(arg & 0xF) == 0xF` (`term_is_integer`);
//! - `+` and `-` work on `arg & ~0xF` in `avm_int_t` (32 bits on wasm32),
//!   checking overflow; without overflow the result is that value `| 0xF`;
//!   with it, they leave for a helper that makes a big integer;
//! - `band` returns `arg1 & arg2`, `bor` `arg1 | arg2`, `bxor` `(arg1 ^
//!   arg2) | 0xF`;
//! - `bsr` with a shift `arg2 >> 4` that is not negative shifts the value
//!   `arg1 >> 4` right arithmetically in 64 bits (all of its bits from 64
//!   on, `int64_bsr_safe`), which for a value of 28 bits is the 32-bit
//!   arithmetic shift by `min(shift, 31)`; the result always fits a small
//!   integer. A negative shift is a left shift, which may overflow: the C
//!   answers it.
//!
//! So every such call goes to one function added to the module, `(ctx,
//! fail_label, live, arg1, arg2, pointer) -> term`: when the pointer is one
//! of those six BIFs and the arguments take the small-integer path
//! without overflow, it returns what the C would; otherwise it hands the
//! same six values to `ci.t4` (a `return_call` with tail calls), which makes
//! the call the module made before. Nothing else is observable: on that
//! path the C reads no memory and writes none (`ctx`, `fail_label` and
//! `live` are not read), and it cannot trap.
//!
//! With `R = arg1 + arg2 - 15` (wrapping), `R` is the C's `(arg1 & ~0xF) +
//! (arg2 & ~0xF)` with its low four bits set, and the C's add overflows
//! exactly when `((arg1 ^ R) & (arg2 ^ R)) < 0`. For `-`, `R = arg1 - arg2 +
//! 15` and the test is `((arg1 ^ arg2) & (arg1 ^ R)) < 0`. The low four
//! bits never reach the sign bit, so the signs are those of the C's values.
//!
//! The pointers (table indices of the C functions) come from the C shim,
//! which takes their addresses from AtomVM's headers and hands them over
//! only after each answered a probe of small integers as above. No
//! pointers, no rewrite. The module gets the function only if it is
//! detached (it has `ci.t4` to fall back on).

use super::primitives::forward;
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

/// Table indices (function pointers) of AtomVM's small-integer BIFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallIntBifs {
    /// `bif_erlang_add_2`.
    pub add: u32,
    /// `bif_erlang_sub_2`.
    pub sub: u32,
    /// `bif_erlang_band_2`.
    pub band: u32,
    /// `bif_erlang_bor_2`.
    pub bor: u32,
    /// `bif_erlang_bxor_2`.
    pub bxor: u32,
    /// `bif_erlang_bsr_2`.
    pub bsr: u32,
}

impl SmallIntBifs {
    /// The differential oracle's model (`oracle::model`): its BIF
    /// primitives of those names, for tests.
    pub const MODEL: SmallIntBifs = SmallIntBifs {
        add: 1 + 60,
        sub: 1 + 61,
        band: 1 + 62,
        bor: 1 + 65,
        bxor: 1 + 66,
        bsr: 1 + 67,
    };
}

/// The standard type of a GC BIF call with two arguments, `(ctx,
/// fail_label, live, arg1, arg2) -> term`.
pub const CALL_TYPE: u8 = 4;

/// `term_is_integer`: the low four bits of a small integer.
const INTEGER_TAG: i32 = 0xF;

/// Pushes whether locals `a` and `b` both hold small integers
/// (`term_is_integer`: both have the low four bits 0xF).
pub(super) fn both_small_ints(ins: &mut InstructionSink<'_>, a: u32, b: u32) {
    ins.local_get(a)
        .local_get(b)
        .i32_and()
        .i32_const(INTEGER_TAG)
        .i32_and()
        .i32_const(INTEGER_TAG)
        .i32_eq();
}

/// The added function's parameters and local.
const A: u32 = 3;
const B: u32 = 4;
const P: u32 = 5;
const R: u32 = 6;

/// Opens a block run if the pointer is `bif`, with `a` and `b` pushed.
fn if_pointer_is(ins: &mut InstructionSink<'_>, bif: u32) {
    ins.local_get(P)
        .i32_const(bif as i32)
        .i32_eq()
        .if_(BlockType::Empty)
        .local_get(A)
        .local_get(B);
}

/// `+` (`add`) or `-`, if the pointer is `bif`: `R` is `a + b - 15` or
/// `a - b + 15`, returned unless the C's operation overflows, which is when
/// `(a ^ R) & (b ^ R)` (for `+`) or `(a ^ b) & (a ^ R)` (for `-`) is
/// negative.
fn add_or_sub(ins: &mut InstructionSink<'_>, bif: u32, add: bool) {
    if_pointer_is(ins, bif);
    if add {
        ins.i32_add().i32_const(INTEGER_TAG).i32_sub();
    } else {
        ins.i32_sub().i32_const(INTEGER_TAG).i32_add();
    }
    ins.local_tee(R).local_get(A).i32_xor();
    if add {
        ins.local_get(R).local_get(B).i32_xor();
    } else {
        ins.local_get(A).local_get(B).i32_xor();
    }
    ins.i32_and()
        .i32_const(0)
        .i32_ge_s()
        .if_(BlockType::Empty)
        .local_get(R)
        .return_()
        .end()
        .end();
}

/// The bitwise BIFs: on two small integers, `band` and `bor` keep the
/// tags (both are 0xF), `bxor` sets them again.
#[derive(Clone, Copy)]
enum Bitwise {
    And,
    Or,
    Xor,
}

/// `a op b` (with the tag set again for `Xor`) if the pointer is `bif`.
fn bitwise(ins: &mut InstructionSink<'_>, bif: u32, op: Bitwise) {
    if_pointer_is(ins, bif);
    match op {
        Bitwise::And => ins.i32_and(),
        Bitwise::Or => ins.i32_or(),
        Bitwise::Xor => ins.i32_xor().i32_const(INTEGER_TAG).i32_or(),
    };
    ins.return_().end();
}

/// `bsr` if the pointer is `bif` and the shift is not negative (the word
/// `b` is not: its sign is its value's): `((a >> 4) >> min(b >> 4, 31)) <<
/// 4 | 0xF`, arithmetic shifts.
fn shift_right(ins: &mut InstructionSink<'_>, bif: u32) {
    ins.local_get(P)
        .i32_const(bif as i32)
        .i32_eq()
        .local_get(B)
        .i32_const(0)
        .i32_ge_s()
        .i32_and()
        .if_(BlockType::Empty)
        .local_get(A)
        .i32_const(4)
        .i32_shr_s()
        .local_get(B)
        .i32_const(4)
        .i32_shr_s()
        .local_tee(R)
        .i32_const(31)
        .local_get(R)
        .i32_const(31)
        .i32_lt_u()
        .select()
        .i32_shr_s()
        .i32_const(4)
        .i32_shl()
        .i32_const(INTEGER_TAG)
        .i32_or()
        .return_()
        .end();
}

/// The added function's body (size-prefixed, as in the code section):
/// parameters `(ctx, fail_label, live, arg1, arg2, pointer)`, the fast
/// paths, then the call through trampoline function `t4` (a `return_call`
/// if `tail`).
pub fn function(bifs: SmallIntBifs, t4: u32, tail: bool) -> Vec<u8> {
    let mut f = Function::new([(1, ValType::I32)]);
    let mut ins = f.instructions();
    both_small_ints(&mut ins, A, B);
    ins.if_(BlockType::Empty);
    add_or_sub(&mut ins, bifs.add, true);
    add_or_sub(&mut ins, bifs.sub, false);
    bitwise(&mut ins, bifs.band, Bitwise::And);
    bitwise(&mut ins, bifs.bor, Bitwise::Or);
    bitwise(&mut ins, bifs.bxor, Bitwise::Xor);
    shift_right(&mut ins, bifs.bsr);
    ins.end();
    // Any other call: as the module made it.
    forward(&mut ins, P + 1, t4, tail);
    ins.end();
    super::added_body(&f)
}
