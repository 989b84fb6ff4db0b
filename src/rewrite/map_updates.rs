//! Updates of one immediate key of a map made in the module
//! ([`super::Options::map_updates`]).
//!
//! `M#{K => V}` compiles to `put_map_assoc`: AtomVM's generated code
//! counts the keys not in `M` (`new_entries`, by calling entry 49), makes
//! room on the heap, writes the pairs to a `kv` array from `malloc`, and
//! calls interface entry 63, `jit_put_map_assoc(ctx, jit_state, src,
//! new_entries, num_elements, kv)` (standard type 5). `maps:update/3` is
//! such an update too. When `new_entries` is 0 the new map shares `src`'s
//! keys' tuple. AtomVM 0.7 then, after sorting the pairs (nothing to do
//! for one pair):
//!
//! 1. reads `src`'s size `n` (word 1 of the map is its keys' tuple, whose
//!    header has the arity in bits 6 and up);
//! 2. takes `2 + n` words at the heap's top (`ctx->heap.heap_ptr`, which it
//!    moves past them) and writes the map's header `((1 + n) << 6) | 0x2C`
//!    and `src`'s keys' term;
//! 3. merges: for each position `j` it `term_compare`s `src`'s key `j` with
//!    the pair's key until the pair is placed. A key less than the pair's
//!    keeps its value; an equal key takes the pair's value; past it, every
//!    value is copied. Each key is written back to the shared tuple, where
//!    it already is.
//!
//! So for one pair whose key is a small integer or an atom, found at
//! position `p` after keys that compare less — small integers, which
//! compare with a small integer by value (signed, as their words do) and
//! with an atom by type (numbers first) — the new map is `src`'s values
//! with value `p` replaced. Every such call goes to a function added to
//! the module, which checks that and writes the same words in the same
//! order. Anything else (another count, another key, a key before `p` that
//! is not such a small integer, a key not found) makes the same call of
//! the bound entry.
//!
//! Addresses are computed as the C computes them (wrapping `i32.add`)
//! until the function knows they lie in the memory. It also makes the
//! call, before it writes anything, unless
//! every word it reads or writes is in the memory (then the C would not
//! trap either) and the words it writes (the new map, the heap's top) are
//! apart from those it reads (the map, its keys, the pair): only then do
//! the writes and reads commute, so that the C's interleaving of them and
//! the function's give the same words. In AtomVM the new map is always
//! fresh heap.
//!
//! The C shim hands over the heap's layout and checks the term encoding
//! and the map layout in its headers, then probes entry 63 with a map and
//! a heap of its own. No facts, no rewrite. The module gets the function
//! only if it is detached (the call is bound) and binds entry 63 with that
//! type.

use super::frames::HeapLayout;
use super::maps::{small_int_or_atom, ARITY_SHIFT, KEYS_OFFSET};
use super::primitives::forward;
use super::{loop_next, loop_until, mem};
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

/// Interface entry `jit_put_map_assoc`.
pub const PUT_MAP_ASSOC: usize = 63;

/// Standard type 5, `(i32 × 6) -> i32`: entry 63's.
pub const ENTRY_TYPE: u8 = 5;

/// `TERM_BOXED_MAP`.
const BOXED_MAP: i32 = 0x2C;

/// Parameters.
const CTX: u32 = 0;
const SRC: u32 = 2;
const NEW_ENTRIES: u32 = 3;
const NUM_ELEMENTS: u32 = 4;
const KV: u32 = 5;
/// i32 locals.
const BOXED: u32 = 6;
const KEYS_TERM: u32 = 7;
const KEYS: u32 = 8;
const N: u32 = 9;
const TOP: u32 = 10;
const KEY: u32 = 11;
const J: u32 = 12;
const K: u32 = 13;
const P: u32 = 14;
/// i64 locals: the memory's size in bytes, the map's (and the new map's)
/// size in bytes, the keys' tuple's.
const MEM: u32 = 15;
const MAP_LEN: u32 = 16;
const KEYS_LEN: u32 = 17;

/// A region of memory: where it starts (an i32 local, plus a constant)
/// and its length in bytes (an i64 local or a constant).
#[derive(Clone, Copy)]
struct Region {
    at: u32,
    plus: i64,
    len: Len,
}

#[derive(Clone, Copy)]
enum Len {
    Local(u32),
    Bytes(i64),
}

impl Region {
    /// The region at local `at`, of `len` bytes.
    const fn at(at: u32, len: Len) -> Region {
        Region { at, plus: 0, len }
    }

    /// Pushes where it starts, as i64.
    fn start(self, ins: &mut InstructionSink<'_>) {
        ins.local_get(self.at).i64_extend_i32_u();
        if self.plus != 0 {
            ins.i64_const(self.plus).i64_add();
        }
    }

    /// Pushes where it ends, as i64.
    fn end(self, ins: &mut InstructionSink<'_>) {
        self.start(ins);
        match self.len {
            Len::Local(l) => ins.local_get(l),
            Len::Bytes(b) => ins.i64_const(b),
        };
        ins.i64_add();
    }

    /// Pushes whether it lies in the memory.
    fn in_memory(self, ins: &mut InstructionSink<'_>) {
        self.end(ins);
        ins.local_get(MEM).i64_le_u();
    }

    /// Pushes whether it and `other` have no byte in common.
    fn apart(self, other: Region, ins: &mut InstructionSink<'_>) {
        self.end(ins);
        other.start(ins);
        ins.i64_le_u();
        other.end(ins);
        self.start(ins);
        ins.i64_le_u().i32_or();
    }
}

/// The added function's body (size-prefixed, as in the code section):
/// parameters `(ctx, jit_state, src, new_entries, num_elements, kv)`, the
/// update if it is one it makes, else the call of `entry` (the import
/// bound to entry 63), a `return_call` if `tail`.
pub fn function(layout: HeapLayout, entry: u32, tail: bool) -> Vec<u8> {
    let heap_ptr = u64::from(layout.heap_ptr);
    let map = Region::at(BOXED, Len::Local(MAP_LEN));
    let keys = Region::at(KEYS, Len::Local(KEYS_LEN));
    let pair = Region::at(KV, Len::Bytes(8));
    let new_map = Region::at(TOP, Len::Local(MAP_LEN));
    let top_word = Region {
        at: CTX,
        plus: i64::from(layout.heap_ptr),
        len: Len::Bytes(4),
    };
    let mut f = Function::new([(9, ValType::I32), (3, ValType::I64)]);
    let mut ins = f.instructions();
    // One pair, every key already in the map.
    ins.local_get(NEW_ENTRIES)
        .i32_eqz()
        .local_get(NUM_ELEMENTS)
        .i32_const(1)
        .i32_eq()
        .i32_and()
        .if_(BlockType::Empty)
        // The C's first reads, in its order: the map's keys, their count,
        // the heap's top.
        .local_get(SRC)
        .i32_const(-4)
        .i32_and()
        .local_tee(BOXED)
        .i32_const(KEYS_OFFSET as i32)
        .i32_add()
        .i32_load(mem(0))
        .local_tee(KEYS_TERM)
        .i32_const(-4)
        .i32_and()
        .local_tee(KEYS)
        .i32_load(mem(0))
        .i32_const(ARITY_SHIFT as i32)
        .i32_shr_u()
        .local_set(N)
        .local_get(CTX)
        .i32_const(layout.heap_ptr as i32)
        .i32_add()
        .i32_load(mem(0))
        .local_set(TOP)
        // Sizes in bytes: the memory, 2 + n words, 1 + n words.
        .memory_size(0)
        .i64_extend_i32_u()
        .i64_const(16)
        .i64_shl()
        .local_set(MEM)
        .local_get(N)
        .i64_extend_i32_u()
        .i64_const(2)
        .i64_shl()
        .local_tee(KEYS_LEN)
        .i64_const(8)
        .i64_add()
        .local_set(MAP_LEN)
        .local_get(KEYS_LEN)
        .i64_const(4)
        .i64_add()
        .local_set(KEYS_LEN);
    // Everything in the memory; what is written apart from what is read.
    map.in_memory(&mut ins);
    keys.in_memory(&mut ins);
    ins.i32_and();
    pair.in_memory(&mut ins);
    ins.i32_and();
    new_map.in_memory(&mut ins);
    ins.i32_and();
    top_word.in_memory(&mut ins);
    ins.i32_and();
    for written in [new_map, top_word] {
        for read in [map, keys, pair] {
            written.apart(read, &mut ins);
            ins.i32_and();
        }
    }
    ins.if_(BlockType::Empty)
        .local_get(KV)
        .i32_load(mem(0))
        .local_set(KEY);
    small_int_or_atom(&mut ins, KEY);
    ins.if_(BlockType::Empty);
    // j == n: not found, the C decides
    loop_until(&mut ins, J, N);
    // k = keys[1 + j]
    ins.local_get(KEYS)
        .local_get(J)
        .i32_const(2)
        .i32_shl()
        .i32_add()
        .i32_load(mem(4))
        .local_tee(K)
        .local_get(KEY)
        .i32_eq()
        .if_(BlockType::Empty)
        .local_get(J)
        .local_set(P);
    write(&mut ins, heap_ptr);
    ins.end()
        // k must compare less: a small integer, less than a small integer
        // key (by its word, signed), or before an atom key (by type)
        .local_get(K)
        .i32_const(0xF)
        .i32_and()
        .i32_const(0xF)
        .i32_ne()
        .br_if(1)
        .local_get(KEY)
        .i32_const(0xF)
        .i32_and()
        .i32_const(0xF)
        .i32_eq()
        .local_get(K)
        .local_get(KEY)
        .i32_ge_s()
        .i32_and()
        .br_if(1);
    loop_next(&mut ins, J);
    ins.end().end().end();
    forward(&mut ins, 6, entry, tail);
    ins.end();
    super::added_body(&f)
}

/// The update, once `p` is known: the C's writes in its order (the heap's
/// top, the header, the keys' term, then value `j` for each `j`: the
/// pair's at `p`, `src`'s elsewhere), then the new map's term returned.
fn write(ins: &mut InstructionSink<'_>, heap_ptr: u64) {
    ins.local_get(CTX)
        .local_get(TOP)
        .local_get(MAP_LEN)
        .i32_wrap_i64()
        .i32_add()
        .i32_store(mem(heap_ptr))
        .local_get(TOP)
        .local_get(N)
        .i32_const(1)
        .i32_add()
        .i32_const(ARITY_SHIFT as i32)
        .i32_shl()
        .i32_const(BOXED_MAP)
        .i32_or()
        .i32_store(mem(0))
        .local_get(TOP)
        .local_get(KEYS_TERM)
        .i32_store(mem(4))
        .i32_const(0)
        .local_set(J);
    loop_until(ins, J, N);
    // top[2 + j] = j == p ? kv[1] : boxed[2 + j]
    ins.local_get(TOP)
        .local_get(J)
        .i32_const(2)
        .i32_shl()
        .local_tee(K)
        .i32_add()
        .local_get(KV)
        .i32_load(mem(4))
        .local_get(BOXED)
        .local_get(K)
        .i32_add()
        .i32_load(mem(8))
        .local_get(J)
        .local_get(P)
        .i32_eq()
        .select()
        .i32_store(mem(8));
    loop_next(ins, J);
    ins.local_get(TOP).i32_const(2).i32_or().return_();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rewrite::maps::tests::instance;

    const TOP: u32 = 0x800;
    const KV: u32 = 0x300;
    const END: u32 = 0x1_0000;

    /// An update of `key` to 0x999 in a map of `keys` at `map_at` (keys'
    /// tuple at 0x200, values 0x100 + position), the pair at `kv`, the
    /// heap's top `top` in a context at `ctx`.
    #[derive(Clone, Copy)]
    struct Case<'a> {
        keys: &'a [u32],
        key: u32,
        new_entries: u32,
        num: u32,
        top: u32,
        kv: u32,
        ctx: u32,
        map_at: u32,
    }

    const KEYS: [u32; 4] = [0x1F, 0x2F, 0x4B, 0x8B];
    const CASE: Case<'static> = Case {
        keys: &KEYS,
        key: 0x2F,
        new_entries: 0,
        num: 1,
        top: TOP,
        kv: KV,
        ctx: 0x40,
        map_at: 0x100,
    };

    /// What `case` did: (answer, calls of the entry, the heap's top after,
    /// the words at the old top, whether any byte of memory changed).
    fn update(case: Case<'_>) -> (i32, u32, u32, Vec<u32>, bool) {
        let body = function(HeapLayout::MODEL, 0, false);
        let (mut store, instance, mem) = instance(&body, ("p", "f"), 6);
        let f = instance
            .get_typed_func::<(i32, i32, i32, i32, i32, i32), i32>(&store, "f")
            .expect("f");
        let mut put = |at: u32, v: u32| {
            let at = at as usize;
            if let Some(w) = mem.data_mut(&mut store).get_mut(at..at.saturating_add(4)) {
                w.copy_from_slice(&v.to_le_bytes());
            }
        };
        let n = case.keys.len() as u32;
        put(case.map_at, ((1 + n) << 6) | 0x2C);
        put(case.map_at + 4, 0x200 | 2);
        put(0x200, n << 6);
        for (i, k) in case.keys.iter().enumerate() {
            put(0x204 + 4 * i as u32, *k);
            put(case.map_at + 8 + 4 * i as u32, 0x100 + i as u32);
        }
        put(case.ctx.wrapping_add(HeapLayout::MODEL.heap_ptr), case.top);
        put(case.kv, case.key);
        put(case.kv.wrapping_add(4), 0x999);
        let args = (
            case.ctx as i32,
            0,
            (case.map_at | 2) as i32,
            case.new_entries as i32,
            case.num as i32,
            case.kv as i32,
        );
        let before = mem.data(&store).to_vec();
        let r = f.call(&mut store, args).expect("no trap");
        let data = mem.data(&store);
        let changed = data != &before[..];
        let word = |at: u32| {
            let at = at as usize;
            data.get(at..at.saturating_add(4))
                .map_or(0, |w| u32::from_le_bytes(w.try_into().expect("4 bytes")))
        };
        let after = word(case.ctx.wrapping_add(HeapLayout::MODEL.heap_ptr));
        let words = (0..n + 2)
            .map(|i| word(case.top.wrapping_add(4 * i)))
            .collect();
        (r, *store.data(), after, words, changed)
    }

    #[test]
    fn one_key_found_after_smaller_small_integers_is_updated_in_the_module() {
        // -1, 1, 2 and an atom: sorted as AtomVM sorts them.
        let keys = [0xFFFF_FFFF, 0x1F, 0x2F, 0x4B];
        let header = (5 << 6) | 0x2C;
        for (p, &key) in keys.iter().enumerate() {
            let (r, calls, after, words, _) = update(Case {
                keys: &keys,
                key,
                ..CASE
            });
            assert_eq!(
                (r, calls, after),
                ((TOP | 2) as i32, 0, TOP + 24),
                "{key:#x}"
            );
            let mut want = vec![header, 0x200 | 2, 0x100, 0x101, 0x102, 0x103];
            want[2 + p] = 0x999;
            assert_eq!(words, want, "{key:#x}");
        }
    }

    #[test]
    fn every_other_update_is_the_entrys() {
        // The base case is updated in the module.
        assert_eq!(update(CASE).1, 0);
        let entry = |case: Case<'_>, what: &str| {
            let (r, calls, _, _, changed) = update(case);
            // Nothing written: the stand-in for the entry writes nothing.
            assert_eq!((r, calls, changed), (77, 1, false), "{what}");
        };
        let case = |keys, key| Case { keys, key, ..CASE };
        // Counts.
        entry(
            Case {
                new_entries: 1,
                ..CASE
            },
            "a new key",
        );
        entry(Case { num: 2, ..CASE }, "two pairs");
        // Keys: not found, nil, a boxed term, an atom after an atom, a
        // small integer after a greater one, after a boxed key.
        entry(case(&KEYS, 0x3F), "not found");
        entry(case(&[0x1F, 0x3B], 0x3B), "nil");
        entry(case(&[0x6002], 0x6002), "a boxed key");
        entry(case(&KEYS, 0x8B), "an atom after an atom");
        entry(case(&[0x3F, 0x1F], 0x1F), "after a greater small integer");
        entry(case(&[0x6002, 0x1F], 0x1F), "after a boxed key");
        // Out of memory: the map's values, the pair's value, the new map
        // (and where it would wrap), the heap's top (its address wraps).
        let at = |map_at| Case { map_at, ..CASE };
        entry(at(END - 8), "the map's values past the end");
        entry(
            Case {
                kv: END - 4,
                ..CASE
            },
            "the pair's value past the end",
        );
        entry(
            Case {
                top: END - 16,
                ..CASE
            },
            "the new map past the end",
        );
        entry(
            Case {
                top: 0xFFFF_FFF0,
                ..CASE
            },
            "the new map wrapping",
        );
        entry(
            Case {
                ctx: 0xFFFF_FFF8,
                ..CASE
            },
            "the heap's top wrapping",
        );
        // What is written over what is read: the new map over the map,
        // its keys, the pair; the heap's top in the pair or the map.
        entry(Case { top: 0xF8, ..CASE }, "the new map over the map");
        entry(Case { top: 0x1F0, ..CASE }, "the new map over the keys");
        entry(
            Case {
                top: KV - 8,
                ..CASE
            },
            "the new map over the pair",
        );
        let top_in = |ctx: u32| Case {
            ctx: ctx - HeapLayout::MODEL.heap_ptr,
            ..CASE
        };
        entry(top_in(KV + 4), "the heap's top is the pair's value");
        entry(top_in(0x10C), "the heap's top is a value of the map");
        entry(top_in(0x20C), "the heap's top is a key after the one found");
    }
}
