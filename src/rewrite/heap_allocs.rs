//! Heap checks and tuple allocations made in the module
//! ([`super::Options::heap_allocs`]).
//!
//! Before it builds terms, AtomVM's generated code calls interface entry
//! 12, `test_heap(ctx, jit_state, heap_need, live)` (standard type 3),
//! answering a bool; a tuple is then made by entry 16,
//! `term_alloc_tuple(ctx, size)` (standard type 1), answering the tuple's
//! term. In AtomVM 0.7 (`jit.c`, `context.h`, `memory.h`, `term.h`):
//!
//! - `test_heap` computes the free words, `context_avail_free_memory`:
//!   `e - heap_ptr` if `heap_start <= e <= heap_end` (the stack is in the
//!   heap's fragment), else `heap_end - heap_ptr` (term pointers: the
//!   byte difference shifted right by 2, as a signed number, then taken as
//!   `size_t`). If that is below `heap_need`, or above `heap_need *
//!   HEAP_NEED_GC_SHRINK_THRESHOLD_COEFF` (an `unsigned` product, so
//!   modulo 2^32), it collects garbage (to grow or to shrink the heap);
//!   otherwise it answers true and does nothing else;
//! - `term_alloc_tuple` takes `1 + size` words at the heap's top
//!   (`memory_heap_alloc`: `heap_ptr` moves past them, pointer arithmetic
//!   modulo 2^32 on wasm32), writes the header `size << 6` (the tuple tag
//!   is 0) in the first and answers its address `| 2` (a boxed term).
//!
//! So every bound call of entry 12 goes to a function added to the module,
//! with the entry's type, that computes the same free words with the same
//! arithmetic and answers true when no collection would happen; otherwise
//! it makes the same call of the bound entry, which decides again from the
//! same words. Every bound call of entry 16 goes to a function that does
//! what the C does, always: it moves the top, then writes the header (the
//! two words differ in AtomVM, where the top is a field of the context),
//! and answers the term.
//!
//! The C shim hands over the offsets of `heap.heap_start`, `.heap_ptr`
//! and `.heap_end` in `Context` and the coefficient, after checking that
//! `term` is 32 bits and that the two entries answer probes of its own as
//! above (a tuple of 3 at a known top; heap checks at the edges of both
//! bounds, with the stack in and out of the fragment) and change nothing
//! else, and only if AtomVM is not built to check its heap allocations
//! (`DEBUG_HEAP_ALLOC`, under which `memory_heap_alloc` aborts past the
//! heap's end). No facts, no rewrite. The module gets the functions only if
//! it is detached (the calls are bound) and binds the entries with those
//! types.

use super::mem;
use super::primitives::forward;
use crate::abi;
use wasm_encoder::{Function, ValType};

/// Interface entries `test_heap` and `term_alloc_tuple`, and their
/// standard types.
pub const TEST_HEAP: usize = 12;
pub const TEST_HEAP_TYPE: u8 = 3;
pub const ALLOC_TUPLE: usize = 16;
pub const ALLOC_TUPLE_TYPE: u8 = 1;

/// Where AtomVM keeps the bounds of a process's heap, in bytes, and when
/// `test_heap` shrinks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapBounds {
    /// `offsetof(Context, heap.heap_start)`.
    pub start: u32,
    /// `offsetof(Context, heap.heap_ptr)`.
    pub top: u32,
    /// `offsetof(Context, heap.heap_end)`.
    pub end: u32,
    /// `HEAP_NEED_GC_SHRINK_THRESHOLD_COEFF`.
    pub shrink_coeff: u32,
}

impl HeapBounds {
    /// AtomVM 0.7's on wasm32, which the differential oracle's model
    /// (`oracle::model`) also uses.
    pub const MODEL: HeapBounds = HeapBounds {
        start: 0x8,
        top: 0xC,
        end: 0x10,
        shrink_coeff: 64,
    };

    /// The free words as AtomVM's `context_avail_free_memory` counts them,
    /// given the context's words `e`, `heap_start`, `heap_ptr`, `heap_end`.
    pub fn free_words(e: u32, start: u32, top: u32, end: u32) -> u32 {
        let limit = if e <= end && e >= start { e } else { end };
        ((limit.wrapping_sub(top) as i32) >> 2) as u32
    }

    /// Whether `test_heap` answers true without collecting garbage, as
    /// AtomVM computes it, given the context's words: the reference the
    /// added function is tested against, and the model's.
    pub fn no_collection(self, e: u32, start: u32, top: u32, end: u32, heap_need: u32) -> bool {
        let free = Self::free_words(e, start, top, end);
        free >= heap_need && free <= heap_need.wrapping_mul(self.shrink_coeff)
    }

    /// Needs at the edges of `free` words: equal, one either side, at the
    /// shrink bound of 64 (rounded down, up, and one past).
    pub fn edge_needs(free: u32) -> [u32; 6] {
        [
            free,
            free.wrapping_sub(1),
            free.wrapping_add(1),
            free / 64,
            free / 64 + 1,
            free.div_ceil(64),
        ]
    }
}

/// `test_heap`'s function (size-prefixed, as in the code section):
/// parameters `(ctx, jit_state, heap_need, live)`, locals `e`, the heap's
/// end and the free words; `entry` is the import bound to entry 12.
pub fn test_heap(bounds: HeapBounds, entry: u32, tail: bool) -> Vec<u8> {
    const NEED: u32 = 2;
    const E: u32 = 4;
    const END: u32 = 5;
    const FREE: u32 = 6;
    let mut f = Function::new([(3, ValType::I32)]);
    let mut ins = f.instructions();
    // limit = heap_start <= e <= heap_end ? e : heap_end
    ins.local_get(0)
        .i32_load(mem(abi::CONTEXT_E))
        .local_tee(E)
        .local_get(0)
        .i32_load(mem(u64::from(bounds.end)))
        .local_tee(END)
        .local_get(E)
        .local_get(END)
        .i32_le_u()
        .local_get(E)
        .local_get(0)
        .i32_load(mem(u64::from(bounds.start)))
        .i32_ge_u()
        .i32_and()
        .select()
        // free = (limit - heap_ptr) >> 2, signed
        .local_get(0)
        .i32_load(mem(u64::from(bounds.top)))
        .i32_sub()
        .i32_const(2)
        .i32_shr_s()
        .local_tee(FREE)
        // heap_need <= free <= heap_need * coeff (modulo 2^32)
        .local_get(NEED)
        .i32_ge_u()
        .local_get(FREE)
        .local_get(NEED)
        .i32_const(bounds.shrink_coeff as i32)
        .i32_mul()
        .i32_le_u()
        .i32_and()
        .if_(wasm_encoder::BlockType::Empty)
        .i32_const(1)
        .return_()
        .end();
    forward(&mut ins, 4, entry, tail);
    ins.end();
    super::added_body(&f)
}

/// `term_alloc_tuple`'s function (size-prefixed): parameters `(ctx,
/// size)`, local the old top. It never calls the entry.
pub fn alloc_tuple(bounds: HeapBounds) -> Vec<u8> {
    const SIZE: u32 = 1;
    const TOP: u32 = 2;
    let top = mem(u64::from(bounds.top));
    let mut f = Function::new([(1, ValType::I32)]);
    let mut ins = f.instructions();
    // heap_ptr += 1 + size (words); then the header at the old top
    ins.local_get(0)
        .local_get(0)
        .i32_load(top)
        .local_tee(TOP)
        .local_get(SIZE)
        .i32_const(1)
        .i32_add()
        .i32_const(2)
        .i32_shl()
        .i32_add()
        .i32_store(top)
        .local_get(TOP)
        .local_get(SIZE)
        .i32_const(6)
        .i32_shl()
        .i32_store(mem(0))
        .local_get(TOP)
        .i32_const(2)
        .i32_or()
        .end();
    super::added_body(&f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::maps::tests::instance;

    const CTX: u32 = 0x40;
    const B: HeapBounds = HeapBounds::MODEL;

    /// `test_heap`'s function on a context whose words are `e`, `start`,
    /// `top`, `end`: (answer, calls of the entry, whether memory changed).
    fn test_heap_run(e: u32, start: u32, top: u32, end: u32, need: u32) -> (i32, u32, bool) {
        let body = test_heap(B, 0, false);
        let (mut store, instance, mem) = instance(&body, ("p", "f"), 4);
        let f = instance
            .get_typed_func::<(i32, i32, i32, i32), i32>(&store, "f")
            .expect("f");
        for (at, v) in [
            (abi::CONTEXT_E as u32, e),
            (B.start, start),
            (B.top, top),
            (B.end, end),
        ] {
            let at = (CTX + at) as usize;
            mem.data_mut(&mut store)[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        let before = mem.data(&store).to_vec();
        let r = f
            .call(&mut store, (CTX as i32, 0, need as i32, 3))
            .expect("no trap");
        let changed = mem.data(&store) != &before[..];
        (r, *store.data(), changed)
    }

    /// Heaps around each edge: the stack in the fragment, at either bound,
    /// past either; the top past the limit (a negative difference); needs
    /// at the free words, one either side, and at the shrink bound; needs
    /// whose product wraps.
    #[test]
    fn heap_checks_agree_with_the_c_at_the_edges() {
        let (start, end) = (0x1000u32, 0x2000u32);
        let es = [0x1800, start, end, start - 4, end + 4, 0, !3];
        let tops = [
            0x1000, 0x1400, 0x17FC, 0x1800, 0x1804, 0x1FFC, 0x2000, 0x2400,
        ];
        let mut answered = [0u32; 2];
        for e in es {
            for top in tops {
                let free = HeapBounds::free_words(e, start, top, end);
                let others = [0, 1, 0x400_0000, 0x400_0001, 0x3FF_FFFF, u32::MAX];
                for need in HeapBounds::edge_needs(free).into_iter().chain(others) {
                    let fast = B.no_collection(e, start, top, end, need);
                    let (r, calls, changed) = test_heap_run(e, start, top, end, need);
                    // The entry (the test's import answers 77) decides
                    // whenever a collection is due.
                    let expected = if fast { (1, 0) } else { (77, 1) };
                    assert_eq!((r, calls), expected, "e {e:#x} top {top:#x} need {need:#x}");
                    assert!(!changed, "e {e:#x} top {top:#x} need {need:#x}");
                    answered[usize::from(fast)] += 1;
                }
            }
        }
        // Both ways taken, many times.
        assert!(answered[0] > 100 && answered[1] > 100, "{answered:?}");
    }

    /// The reference itself, against AtomVM's arithmetic done by hand.
    #[test]
    fn the_reference_is_atomvms_arithmetic() {
        // 1024 free words (the stack in the fragment): 16..=1024 need no
        // collection; 15 would shrink (1024 > 960), 1025 would grow.
        let f = |need| B.no_collection(0x2000, 0x1000, 0x1000, 0x3000, need);
        assert!(f(16) && f(1024) && !f(15) && !f(1025) && !f(0));
        // The stack elsewhere: the end bounds the free words (8).
        assert!(B.no_collection(0x9000, 0x1000, 0x2FE0, 0x3000, 8));
        assert!(!B.no_collection(0x9000, 0x1000, 0x2FE0, 0x3000, 9));
        // The top past the stack: a huge size_t (0xFFFF_FFC0 here), which
        // only a product that wraps near 2^32 reaches: 0x3FF_FFFF * 64 is
        // 0xFFFF_FFC0; 0x400_0001 * 64 wraps to 64, though it is more in
        // 64 bits.
        assert!(!B.no_collection(0x1000, 0x1000, 0x1008, 0x3000, 1));
        assert!(B.no_collection(0x1000, 0x1000, 0x1100, 0x3000, 0x3FF_FFFF));
        assert!(!B.no_collection(0x1000, 0x1000, 0x1100, 0x3000, 0x400_0001));
    }

    /// `term_alloc_tuple`'s function: (answer, calls, top after, header).
    fn alloc_run(top: u32, size: u32) -> (u32, u32, u32, u32) {
        let body = alloc_tuple(B);
        let (mut store, instance, mem) = instance(&body, ("p", "f"), 2);
        let f = instance
            .get_typed_func::<(i32, i32), i32>(&store, "f")
            .expect("f");
        let at = (CTX + B.top) as usize;
        mem.data_mut(&mut store)[at..at + 4].copy_from_slice(&top.to_le_bytes());
        let r = f
            .call(&mut store, (CTX as i32, size as i32))
            .expect("no trap") as u32;
        let word = |data: &[u8], at: u32| {
            let at = at as usize;
            u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
        };
        let data = mem.data(&store);
        (r, *store.data(), word(data, CTX + B.top), word(data, top))
    }

    #[test]
    fn tuples_are_made_at_the_top_as_the_c_makes_them() {
        assert_eq!(alloc_run(0x800, 3), (0x802, 0, 0x810, 3 << 6));
        assert_eq!(alloc_run(0x800, 0), (0x802, 0, 0x804, 0));
        // Sizes whose words wrap, as the C's pointer arithmetic does.
        assert_eq!(
            alloc_run(0x800, 0x4000_0000),
            (0x802, 0, 0x804, 0x4000_0000 << 6)
        );
        assert_eq!(alloc_run(0x800, u32::MAX), (0x802, 0, 0x800, u32::MAX << 6));
    }

    /// A mutant that shifts the difference without its sign (a top past
    /// the stack reads as a small number) is told apart from the C.
    #[test]
    fn an_unsigned_free_count_is_caught() {
        let unsigned = |e: u32, top: u32, need: u32| {
            let free = e.wrapping_sub(top) >> 2;
            free >= need && free <= need.wrapping_mul(64)
        };
        let (e, top, need) = (0x1000, 0x1008, 0x3FF_FFFF);
        assert_ne!(
            unsigned(e, top, need),
            B.no_collection(e, 0x1000, top, 0x3000, need)
        );
        assert_eq!(test_heap_run(e, 0x1000, top, 0x3000, need), (77, 1, false));
    }
}
