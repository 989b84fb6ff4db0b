//! Tail-linked jumps ([`super::Options::tail_calls`]). A jump to label L
//! (spec section 4) gets, in front of it,
//!
//! ```text
//! if jit_state->remaining_reductions != 0
//!    && jit_state->module == <module at function entry>:
//!     jit_state->continuation = 0
//!     return_call f_L(ctx, jit_state, p)
//! ```
//!
//! which is what the dispatch loop (spec 6.2) would do next: it calls label
//! L of the same module with continuation 0, unless reductions are 0 or the
//! module changed (then the original sequence runs and the loop decides).
//!
//! That is exact only if the function was called by the dispatch loop (or by
//! such a `return_call`, which keeps the loop's state), so that returning
//! from it means returning to the loop, and its entry module is the loop's.
//! So a function is linked only if the analysis shows:
//!
//! - it is entered by the loop only: no `call` or `return_call` in the
//!   module targets it (a called function returns to its caller, not to the
//!   loop; one reached by `return_call` may see a module its caller changed,
//!   and either receives whatever parameters its caller passes);
//! - it never writes locals 0-2 (the loop would see the ctx it returns, and
//!   the fast path passes jit_state and the interface on);
//! - the added local and the added code keep it within the engine's limits
//!   ([`crate::limits`]).

use super::FnFacts;
use crate::abi;
use std::sync::OnceLock;
use wasm_encoder::{BlockType, InstructionSink};

/// Whether jumps in function `f`, with these facts, may be linked (before
/// the size check).
pub fn may_link(facts: &FnFacts) -> bool {
    facts.has_jumps && returns_to_the_loop(facts)
}

/// Whether returning ctx from function `f` means returning it to the loop,
/// with the loop's state, and one more local fits: the conditions every
/// fast path into another label needs (jumps here, exits in `exits.rs`).
pub fn returns_to_the_loop(facts: &FnFacts) -> bool {
    facts.entered_by_loop && facts.params_read_only && facts.locals_room
}

/// At function entry: `entry_module = jit_state->module`.
pub fn entry(sink: &mut Vec<u8>, entry_local: u32) {
    InstructionSink::new(sink)
        .local_get(1)
        .i32_load(super::mem(abi::JIT_STATE_MODULE))
        .local_set(entry_local);
}

/// The fast path inserted before a jump to the function at index `callee`.
///
/// Its fixed runs of instructions are encoded once ([`parts`]) and copied;
/// only the two instructions that carry the indices are encoded here (the
/// load path runs mostly in V8's baseline tier, where each call counts).
pub fn fast_path(sink: &mut Vec<u8>, callee: u32, entry_local: u32) {
    let [test, then] = parts();
    sink.extend_from_slice(test);
    InstructionSink::new(sink).local_get(entry_local);
    sink.extend_from_slice(then);
    InstructionSink::new(sink).return_call(callee).end();
}

/// [`fast_path`]'s fixed runs: the reductions' test and the module's
/// load; then `==`, `&&`, the `if` and what the loop does before it calls
/// a label.
fn parts() -> &'static [Vec<u8>; 2] {
    static PARTS: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    PARTS.get_or_init(|| {
        let mut test = Vec::new();
        InstructionSink::new(&mut test)
            .local_get(1)
            .i32_load(super::mem(abi::JIT_STATE_REDUCTIONS))
            .i32_const(0)
            .i32_ne()
            .local_get(1)
            .i32_load(super::mem(abi::JIT_STATE_MODULE));
        let mut then = Vec::new();
        let mut ins = InstructionSink::new(&mut then);
        ins.i32_eq().i32_and().if_(BlockType::Empty);
        as_the_loop_calls(&mut ins);
        [test, then]
    })
}

/// What the loop does before it calls a label: `continuation = 0`, then
/// the call's arguments (ctx, jit_state, interface).
pub fn as_the_loop_calls<'a, 'b>(ins: &'b mut InstructionSink<'a>) -> &'b mut InstructionSink<'a> {
    ins.local_get(1)
        .i32_const(0)
        .i32_store(super::mem(abi::JIT_STATE_CONTINUATION))
        .local_get(0)
        .local_get(1)
        .local_get(2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::TEST_INDICES;

    /// The fast path as one sequence of instructions.
    fn reference(sink: &mut Vec<u8>, callee: u32, entry_local: u32) {
        let mut ins = InstructionSink::new(sink);
        ins.local_get(1)
            .i32_load(super::super::mem(abi::JIT_STATE_REDUCTIONS))
            .i32_const(0)
            .i32_ne()
            .local_get(1)
            .i32_load(super::super::mem(abi::JIT_STATE_MODULE))
            .local_get(entry_local)
            .i32_eq()
            .i32_and()
            .if_(BlockType::Empty);
        as_the_loop_calls(&mut ins).return_call(callee).end();
    }

    #[test]
    fn the_fixed_runs_and_the_indices_make_the_fast_path() {
        for entry_local in TEST_INDICES {
            for callee in TEST_INDICES {
                let (mut direct, mut from) = (Vec::new(), Vec::new());
                reference(&mut direct, callee, entry_local);
                fast_path(&mut from, callee, entry_local);
                assert_eq!(from, direct, "entry local {entry_local}, callee {callee}");
            }
        }
    }
}
