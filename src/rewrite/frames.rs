//! Stack frames made in the module ([`super::Options::stack_frames`]).
//!
//! AtomVM's generated code makes and drops a stack frame by calling
//! interface entries 5, `allocate(ctx, jit_state, stack_need, heap_need,
//! live)` (standard type 4), and 9, `deallocate(ctx, jit_state, n_words)`
//! (standard type 2), both answering a bool. In AtomVM 0.7 (`jit.c`):
//!
//! - `allocate` collects garbage first if the heap has fragments
//!   (`ctx->heap.root->next`) or if `heap_ptr + heap_need > e -
//!   (stack_need + 1)` (term pointers); then `e -= stack_need + 1;
//!   e[stack_need] = cp` and true;
//! - `deallocate` does `cp = e[n_words]; e += n_words + 1`, then collects
//!   garbage if the heap has fragments, and answers true.
//!
//! Without garbage collection these are a few loads and stores. So every
//! bound call of either entry goes to a function added to the module, with
//! the entry's type, that does exactly that when no collection would
//! happen, and otherwise makes the same call of the bound entry. The fast
//! path is taken only where no arithmetic wraps (`stack_need` below 2^16,
//! `heap_need` and `n_words` below 2^24, `e` at least the frame's size,
//! the heap's end compared in 64 bits), so the C's pointer arithmetic means
//! what the module computes. Those calls do nothing else observable: the
//! C reads and writes the same words (`live` and `jit_state` are read only
//! on the way to a collection).
//!
//! The offsets of `Context.heap.root`, `.heap.heap_ptr` and
//! `HeapFragment.next` come from the C shim, which reads them from AtomVM's
//! headers and hands them over only after both entries made and dropped a
//! frame on a probe context as above (`e` and `cp` are spec section 2's).
//! No offsets, no rewrite. The module gets the functions only if it is
//! detached (the calls are bound).

use super::mem;
use super::primitives::forward;
use crate::abi;
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

/// Interface entries `allocate` and `deallocate`, and their standard types.
pub const ALLOCATE: usize = 5;
pub const ALLOCATE_TYPE: u8 = 4;
pub const DEALLOCATE: usize = 9;
pub const DEALLOCATE_TYPE: u8 = 2;

/// Where AtomVM keeps the heap, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapLayout {
    /// `offsetof(Context, heap.root)`.
    pub root: u32,
    /// `offsetof(Context, heap.heap_ptr)`.
    pub heap_ptr: u32,
    /// `offsetof(HeapFragment, next)`.
    pub next: u32,
}

impl HeapLayout {
    /// AtomVM 0.7's on wasm32, which the differential oracle's model
    /// (`oracle::model`) also uses.
    pub const MODEL: HeapLayout = HeapLayout {
        root: 0x4,
        heap_ptr: 0xC,
        next: 0,
    };
}

const E: u64 = abi::CONTEXT_E;
const CP: u64 = abi::CONTEXT_CP;

/// Pushes `ctx->heap.root->next == 0`.
fn no_fragments(ins: &mut InstructionSink<'_>, layout: HeapLayout) {
    ins.local_get(0)
        .i32_load(mem(u64::from(layout.root)))
        .i32_load(mem(u64::from(layout.next)))
        .i32_eqz();
}

/// `allocate`'s function (size-prefixed, as in the code section):
/// parameters `(ctx, jit_state, stack_need, heap_need, live)`, locals `e`
/// and the frame's size in bytes; `entry` is the import bound to entry 5.
pub fn allocate(layout: HeapLayout, entry: u32, tail: bool) -> Vec<u8> {
    const S: u32 = 2;
    const H: u32 = 3;
    const FRAME_E: u32 = 5;
    const SIZE: u32 = 6;
    let mut f = Function::new([(2, ValType::I32)]);
    let mut ins = f.instructions();
    ins.local_get(S)
        .i32_const(0x1_0000)
        .i32_lt_u()
        .local_get(H)
        .i32_const(0x100_0000)
        .i32_lt_u()
        .i32_and()
        .if_(BlockType::Empty);
    no_fragments(&mut ins, layout);
    ins.if_(BlockType::Empty)
        // size = (stack_need + 1) * 4; e = ctx->e
        .local_get(S)
        .i32_const(1)
        .i32_add()
        .i32_const(2)
        .i32_shl()
        .local_set(SIZE)
        .local_get(0)
        .i32_load(mem(E))
        .local_tee(FRAME_E)
        .local_get(SIZE)
        .i32_ge_u()
        .if_(BlockType::Empty)
        // heap_ptr + heap_need * 4 <= e - size, in 64 bits
        .local_get(0)
        .i32_load(mem(u64::from(layout.heap_ptr)))
        .i64_extend_i32_u()
        .local_get(H)
        .i64_extend_i32_u()
        .i64_const(2)
        .i64_shl()
        .i64_add()
        .local_get(FRAME_E)
        .local_get(SIZE)
        .i32_sub()
        .local_tee(FRAME_E)
        .i64_extend_i32_u()
        .i64_le_u()
        .if_(BlockType::Empty)
        // e[stack_need] = cp; ctx->e = e
        .local_get(FRAME_E)
        .local_get(S)
        .i32_const(2)
        .i32_shl()
        .i32_add()
        .local_get(0)
        .i32_load(mem(CP))
        .i32_store(mem(0))
        .local_get(0)
        .local_get(FRAME_E)
        .i32_store(mem(E))
        .i32_const(1)
        .return_()
        .end()
        .end()
        .end()
        .end();
    forward(&mut ins, 5, entry, tail);
    ins.end();
    super::added_body(&f)
}

/// `deallocate`'s function (size-prefixed): parameters `(ctx, jit_state,
/// n_words)`, local `e`; `entry` is the import bound to entry 9.
pub fn deallocate(layout: HeapLayout, entry: u32, tail: bool) -> Vec<u8> {
    const N: u32 = 2;
    const FRAME_E: u32 = 3;
    let mut f = Function::new([(1, ValType::I32)]);
    let mut ins = f.instructions();
    ins.local_get(N).i32_const(0x100_0000).i32_lt_u();
    no_fragments(&mut ins, layout);
    ins.i32_and()
        .if_(BlockType::Empty)
        // cp = e[n]; ctx->e = e + n + 1
        .local_get(0)
        .local_get(0)
        .i32_load(mem(E))
        .local_tee(FRAME_E)
        .local_get(N)
        .i32_const(2)
        .i32_shl()
        .i32_add()
        .i32_load(mem(0))
        .i32_store(mem(CP))
        .local_get(0)
        .local_get(FRAME_E)
        .local_get(N)
        .i32_const(1)
        .i32_add()
        .i32_const(2)
        .i32_shl()
        .i32_add()
        .i32_store(mem(E))
        .i32_const(1)
        .return_()
        .end();
    forward(&mut ins, 3, entry, tail);
    ins.end();
    super::added_body(&f)
}
