//! Computed jumps ([`super::Options::computed_jumps`], with tail calls).
//! Any other return of ctx to the dispatch loop (`local.get 0` then
//! `return` or the body's end, not a jump of `jumps.rs`) may carry a
//! continuation the code computed: the generator's return to a label of the
//! same module is one (`cp` decoded into `jit_state->continuation`, spec
//! 6.3). In front of its `local.get 0` goes
//!
//! ```text
//! label = jit_state->continuation - 1
//! if label < <number of labels>                    (so continuation != 0)
//!    && jit_state->remaining_reductions != 0
//!    && jit_state->module == <module at function entry>:
//!     jit_state->continuation = 0
//!     return_call_indirect <own table>[label](ctx, jit_state, p)
//! ```
//!
//! which is what the loop would do on that return: it gets ctx back, goes
//! on while the continuation is not 0 and reductions remain, keeps the
//! module, resets the continuation and calls the label (every label below
//! the module's count is registered while one of its functions runs). The
//! module gets a table of its own holding its label functions (it imports
//! no other table, or keeps table 0).
//!
//! Exact under the conditions of tail-linked jumps (`jumps.rs`): the
//! function is entered by the loop only and never writes locals 0-2, so
//! that returning ctx from it means returning it to the loop, and the added
//! locals and code keep it within the engine's limits. The loop's decision
//! depends only on what it reads back, so what the code stored before the
//! return, and where, does not matter.

use crate::abi;
use std::sync::OnceLock;
use wasm_encoder::{BlockType, InstructionSink};

/// The fast path inserted before a return of ctx, in a module of `n` labels
/// whose own table is `table` and label type `label_type`. `entry` holds the
/// module at function entry, `label` is scratch.
///
/// Its fixed runs of instructions are encoded once ([`parts`]) and copied;
/// only the five instructions that carry these values are encoded here (the
/// load path runs mostly in V8's baseline tier, where each call counts).
pub fn fast_path(sink: &mut Vec<u8>, entry: u32, label: u32, n: u32, table: u32, label_type: u32) {
    let [continuation, rest, then] = parts();
    sink.extend_from_slice(continuation);
    InstructionSink::new(sink)
        .local_tee(label)
        .i32_const(n as i32);
    sink.extend_from_slice(rest);
    InstructionSink::new(sink).local_get(entry);
    sink.extend_from_slice(then);
    InstructionSink::new(sink)
        .local_get(label)
        .return_call_indirect(table, label_type)
        .end();
}

/// [`fast_path`]'s fixed runs: `continuation - 1`; `<`, the reductions'
/// test and the module's load; then `==`, `&&`, the `if` and what the loop
/// does before it calls a label.
fn parts() -> &'static [Vec<u8>; 3] {
    static PARTS: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    PARTS.get_or_init(|| {
        let mut continuation = Vec::new();
        InstructionSink::new(&mut continuation)
            .local_get(1)
            .i32_load(super::mem(abi::JIT_STATE_CONTINUATION))
            .i32_const(1)
            .i32_sub();
        let mut rest = Vec::new();
        InstructionSink::new(&mut rest)
            .i32_lt_u()
            .local_get(1)
            .i32_load(super::mem(abi::JIT_STATE_REDUCTIONS))
            .i32_const(0)
            .i32_ne()
            .i32_and()
            .local_get(1)
            .i32_load(super::mem(abi::JIT_STATE_MODULE));
        let mut then = Vec::new();
        let mut ins = InstructionSink::new(&mut then);
        ins.i32_eq().i32_and().if_(BlockType::Empty);
        super::jumps::as_the_loop_calls(&mut ins);
        [continuation, rest, then]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::TEST_INDICES;

    /// The fast path as one sequence of instructions.
    fn reference(sink: &mut Vec<u8>, entry: u32, label: u32, n: u32, table: u32, label_type: u32) {
        let mut ins = InstructionSink::new(sink);
        ins.local_get(1)
            .i32_load(super::super::mem(abi::JIT_STATE_CONTINUATION))
            .i32_const(1)
            .i32_sub()
            .local_tee(label)
            .i32_const(n as i32)
            .i32_lt_u()
            .local_get(1)
            .i32_load(super::super::mem(abi::JIT_STATE_REDUCTIONS))
            .i32_const(0)
            .i32_ne()
            .i32_and()
            .local_get(1)
            .i32_load(super::super::mem(abi::JIT_STATE_MODULE))
            .local_get(entry)
            .i32_eq()
            .i32_and()
            .if_(BlockType::Empty);
        super::super::jumps::as_the_loop_calls(&mut ins)
            .local_get(label)
            .return_call_indirect(table, label_type)
            .end();
    }

    #[test]
    fn the_fixed_runs_and_the_values_make_the_fast_path() {
        for entry in TEST_INDICES {
            for n in TEST_INDICES {
                for (table, label_type) in [(0, 0), (1, 7), (2, 200)] {
                    let label = entry.wrapping_add(1);
                    let (mut direct, mut from) = (Vec::new(), Vec::new());
                    reference(&mut direct, entry, label, n, table, label_type);
                    fast_path(&mut from, entry, label, n, table, label_type);
                    assert_eq!(from, direct, "entry {entry}, n {n}, table {table}");
                }
            }
        }
    }
}
