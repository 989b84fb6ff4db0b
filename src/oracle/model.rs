//! A model of AtomVM around JIT modules, run natively by wasmi: one memory
//! laid out as spec section 2 says (a `Context`, a `JITState`, the native
//! interface, `Module` structs), a table holding model primitives, the
//! dispatch loop of spec 6.2 exactly, and primitives that log every call.
//!
//! A module is instantiated the way the JS side instantiates it: imports of
//! a detached module are bound to the interface's entries at instantiation
//! (through the trampolines when an entry is not a function of the right
//! type), computed calls go through the real trampoline module.
//!
//! Memory, in bytes from 0 (2 pages):
//!
//! | at | what |
//! |---|---|
//! | `CTX` | the running process's `Context`; `ALT_CTX`, `SCHED_CTX` others |
//! | `JIT_STATE` | the loop's `JITState`; `ALT_JIT_STATE` another |
//! | `IFACE` | the native interface: 77 table indices, then `EXTRA_WORDS` words past it |
//! | `ALT_IFACE` | another interface, whose entries log as "alt" |
//! | `MODULES` | `Module` structs, 16 bytes each, `module_index` first, `imported_funcs` at 4, `local_atoms_to_global_table` at 8 |
//! | `IMPORTS` | each module's `imported_funcs`: 16 pointers to `ExportedFunction`s |
//! | `BIFS` | `struct Bif`s, 8 bytes each: the `ExportedFunction`, then `bif0_ptr` |
//! | `ATOMS` | each module's `local_atoms_to_global_table`: 16 global atom indices |
//! | `MAPS` | maps as AtomVM lays them out ([`MAP_TERMS`]), and their keys |
//! | `DATA` | scratch memory programs and primitives read and write |

use crate::module::STANDARD_TYPES;
use crate::rewrite::{self, Options, INTERFACE_ENTRIES};
use crate::{abi, module, stream};
use wasmi::{
    Caller, Config, Engine, Error, Func, FuncType, Instance, Linker, Memory, MemoryType, Module,
    Nullable, Ref, RefType, Store, Table, TableType, Val, ValType,
};

pub const CTX: u32 = 0x1000;
pub const ALT_CTX: u32 = 0x1200;
pub const SCHED_CTX: u32 = 0x1400;
pub const JIT_STATE: u32 = 0x2000;
pub const ALT_JIT_STATE: u32 = 0x2100;
pub const IFACE: u32 = 0x3000;
pub const EXTRA: u32 = IFACE + INTERFACE_ENTRIES as u32 * 4;
pub const EXTRA_WORDS: usize = 16;
pub const ALT_IFACE: u32 = 0x3400;
pub const MODULES: u32 = 0x4000;
pub const IMPORTS: u32 = 0x5000;
pub const BIFS: u32 = 0x6000;
/// Each module's local atoms, 16 global indices (64 bytes) per module: room
/// for 48 modules before `MAPS`.
pub const ATOMS: u32 = 0x6400;
/// `struct Bif`s in the model; bif `j`'s `bif0_ptr` is model primitive
/// [`bif_entry`]`(j)`.
pub const NUM_BIFS: u32 = 32;
pub const MAPS: u32 = 0x7000;
/// The maps of the model's memory, as terms (boxed pointers), each with
/// its keys' tuple: immediates only (small integers, 1 before 0, then nil,
/// atoms, a pid); a small integer, an atom, a boxed term, then a small
/// integer; none; an arity that runs past the end of memory.
pub const MAP_TERMS: [u32; 4] = [MAPS + 0x42, MAPS + 0xC2, MAPS + 0x142, MAPS + 0x1C2];
/// The keys of `MAP_TERMS`' maps, in order (the last: its first key).
pub const MAP_KEYS: [&[u32]; 4] = [
    &[0x1F, 0xF, 0x3B, 0x4B, 0xFFFF_FFFF, 0x13, 0x8000_000F],
    &[0x7FFF_FFFF, 0x8B, 0x6002, 0x2F],
    &[],
    &[0xCB],
];
/// A tuple laid out as a map would be: its word 1 is the first map's
/// keys (so only the header tells it from a map).
pub const NOT_A_MAP: u32 = MAPS + 0x202;
/// Where the last map's keys are: the arity it claims runs past memory.
const LAST_KEYS: u32 = PAGES * 0x1_0000 - 8;
pub const DATA: u32 = 0x8000;
pub const DATA_LEN: u32 = 0x1000;
const PAGES: u32 = 2;
/// Wasm frames a run may nest; [`with_stack`] gives the native stack for it.
const RECURSION_DEPTH: usize = 128;
const N: usize = INTERFACE_ENTRIES as usize;

/// Interface entries with a meaning in the model (AtomVM's numbering where
/// it has one; 5 and 21 as the test host uses them).
pub mod prim {
    pub const DO_RETURN: u32 = 1;
    pub const SCHEDULE_NEXT_CP: u32 = 2;
    pub const CALL_EXT: u32 = 4;
    /// `(ctx, jit_state, module_index) -> ctx`: switches module only (not
    /// AtomVM's; entry 70 as the test host uses it).
    pub const SET_MODULE: u32 = 70;
    /// `(ctx, jit_state, stack_need, heap_need, live) -> bool` and `(ctx,
    /// jit_state, n_words) -> bool`: AtomVM's `allocate` and
    /// `deallocate` with the model's heap (`rewrite::HeapLayout::MODEL`).
    /// When no garbage collection is due they only make or drop the frame,
    /// with wasm32's arithmetic, and are not logged; otherwise they log and
    /// act as any primitive.
    pub const ALLOCATE: u32 = 5;
    pub const DEALLOCATE: u32 = 9;
    /// `(jit_state, i) -> function pointer`: reads memory only, as
    /// AtomVM's does (`rewrite::BifLayout::MODEL`), and is not logged:
    /// nothing observable tells its calls apart from the reads.
    pub const GET_IMPORTED_BIF: u32 = 8;
    /// `(jit_state, i) -> term`: AtomVM's `module_get_atom_term_by_id`,
    /// reads memory only, as AtomVM's does (`rewrite::AtomLayout::MODEL`),
    /// and is not logged.
    pub const GET_ATOM_TERM: u32 = 3;
    pub const TERMINATE: u32 = 10;
    /// `(ctx, jit_state, heap_need, live) -> bool`: AtomVM's `test_heap`
    /// with the model's heap (`rewrite::HeapBounds::MODEL`). When no
    /// garbage collection is due it answers true, reading only, and is not
    /// logged; otherwise it logs and acts as any primitive.
    pub const TEST_HEAP: u32 = 12;
    /// `(ctx, size) -> term`: AtomVM's `term_alloc_tuple`: moves the
    /// heap's top past `1 + size` words, then writes the header `size <<
    /// 6` at the old top, and answers it `| 2`, with wasm32's arithmetic;
    /// not logged.
    pub const ALLOC_TUPLE: u32 = 16;
    /// `(ctx, jit_state) -> ctx`: leaves one reduction.
    pub const PREEMPT: u32 = 21;
    /// `(ctx, fail_label, live, a, b) -> term`: AtomVM's `erlang:'+'/2`,
    /// `'-'/2` and `'band'/2` (`rewrite::SmallIntBifs::MODEL`). On two
    /// small integers without overflow they only compute, as AtomVM's do,
    /// and are not logged; otherwise they log and act as any primitive.
    /// `(ctx, live) -> ()`: AtomVM's `trim_live_regs`: does nothing, and
    /// is not logged, when `ctx`'s extended x registers (the list at
    /// `rewrite::TRIM_MODEL_OFFSET`) are empty; logs otherwise.
    pub const TRIM_LIVE_REGS: u32 = 7;
    /// `(ctx, jit_state, t, other, opts) -> result`: AtomVM's
    /// `term_compare`. On equal words, two small integers and two atoms it
    /// only computes (atoms in an order of the model's own, a function of
    /// the two words) and is not logged; otherwise it logs and acts as any
    /// primitive.
    pub const TERM_COMPARE: u32 = 11;
    /// `(ctx, map, key) -> position`: AtomVM's `term_find_map_pos`, with
    /// AtomVM's map layout (the keys' tuple at word 1 of the map, its
    /// arity in its header's bits 6 and up). Where it compares a small
    /// integer or an atom with immediate keys only it only reads and is
    /// not logged; otherwise (another key, or a key of the map that is not
    /// an immediate before the one found) it logs and acts as any
    /// primitive.
    pub const TERM_FIND_MAP_POS: u32 = 49;
    pub const BIF_ADD: u32 = 60;
    pub const BIF_SUB: u32 = 61;
    pub const BIF_BAND: u32 = 62;
    /// `'bor'/2`, `'bxor'/2`, `'bsr'/2`: as `BIF_ADD`.
    pub const BIF_BOR: u32 = 65;
    pub const BIF_BXOR: u32 = 66;
    pub const BIF_BSR: u32 = 67;
    /// `(ctx, fail_label, key, map) -> term`: AtomVM's `erlang:map_get/2`
    /// (`rewrite::MAP_GET_MODEL`). On a map (boxed, header tag 0x2C) in
    /// which it finds a small integer or an atom among immediate keys it
    /// only reads, and is not logged; otherwise it logs and acts as any
    /// primitive.
    pub const BIF_MAP_GET: u32 = 64;
    /// `(ctx, jit_state, src, new_entries, num_elements, kv) -> term`:
    /// AtomVM's `jit_put_map_assoc` with AtomVM's map layout and the
    /// model's heap (`rewrite::HeapLayout::MODEL`). For one pair, every
    /// key in the map (`new_entries` 0), whose key is a small integer or an
    /// atom found after keys that compare less than it (small integers),
    /// it makes the new map at the heap's top as AtomVM does and is not
    /// logged, where everything it reads and writes is in memory and what
    /// it writes is apart from what it reads; otherwise it logs and acts
    /// as any primitive.
    pub const PUT_MAP_ASSOC: u32 = 63;
}

/// The interface entry that BIF `j` of the model is: mostly entries of
/// standard type 0, `(ctx) -> i32`, in
/// [`gen::iface_types`](super::gen::iface_types); three in eight the
/// six small-integer BIFs, one in eight `map_get`.
pub fn bif_entry(j: u32) -> u32 {
    match j % 16 {
        4 | 12 => prim::BIF_MAP_GET,
        5 => prim::BIF_ADD,
        6 => prim::BIF_SUB,
        7 => prim::BIF_BAND,
        13 => prim::BIF_BOR,
        14 => prim::BIF_BXOR,
        15 => prim::BIF_BSR,
        k => [42, 56, 35, 28][k as usize % 4],
    }
}

/// What AtomVM's small-integer BIF `n` answers without a call of its own
/// (two small integers, no overflow), if it does.
pub fn small_int_bif(n: u32, a: u32, b: u32) -> Option<u32> {
    if a & b & 0xF != 0xF {
        return None;
    }
    let (x, y) = ((a & !0xF) as i32, (b & !0xF) as i32);
    match n {
        prim::BIF_ADD => x.checked_add(y).map(|r| r as u32 | 0xF),
        prim::BIF_SUB => x.checked_sub(y).map(|r| r as u32 | 0xF),
        prim::BIF_BAND => Some(a & b),
        prim::BIF_BOR => Some(a | b),
        prim::BIF_BXOR => Some((a ^ b) | 0xF),
        // A shift that is not negative: the 64-bit arithmetic shift of a
        // 28-bit value, all of its bits from 64 on.
        prim::BIF_BSR if y >= 0 => {
            let r = i64::from(x >> 4) >> (y >> 4).min(63);
            Some(((r as i32) << 4) as u32 | 0xF)
        }
        _ => None,
    }
}

/// What AtomVM's `term_compare` answers for `t` and `other` without
/// effects, if it does: `TermEquals` (1) for equal words, `TermLessThan`
/// (2) or `TermGreaterThan` (4) for two small integers (by value) and for
/// two atoms (the model's names: an order that is not the words').
pub fn immediate_compare(t: u32, other: u32) -> Option<u32> {
    let order = |less: bool| if less { 2 } else { 4 };
    if t == other {
        Some(1)
    } else if t & other & 0xF == 0xF {
        Some(order((t as i32) < (other as i32)))
    } else if t & 0x3F == 0xB && other & 0x3F == 0xB {
        let name = |a: u32| ((a >> 6).wrapping_mul(0x9E37_79B1).rotate_left(7), a);
        Some(order(name(t) < name(other)))
    } else {
        None
    }
}

/// What AtomVM's `term_find_map_pos` answers for `key` in `map` without
/// effects, in `data`: `Ok(Some(position))` (-1: not found) if it only
/// compares immediates, `Ok(None)` if it needs more, an error where wasm
/// would trap. Each map key is read in order, as the C reads them.
fn map_pos(data: &[u8], map: u32, key: u32) -> Result<Option<u32>, Error> {
    map_scan(data, map & !3, key)
}

/// What AtomVM's `erlang:map_get/2` answers for `key` in `map` without
/// effects, in `data`: `Ok(Some(value))` if `map` is a map in which it
/// finds a small integer or an atom among immediate keys, `Ok(None)`
/// otherwise (it raises, or needs more), an error where wasm would trap.
fn map_get(data: &[u8], key: u32, map: u32) -> Result<Option<u32>, Error> {
    let oob = || Error::from(wasmi::TrapCode::MemoryOutOfBounds);
    let small_int_or_atom = key & 0xF == 0xF || key & 0x3F == 0x0B;
    if !small_int_or_atom || map & 3 != 2 {
        return Ok(None);
    }
    let boxed = map & !3;
    if word(data, boxed).ok_or_else(oob)? & 0x3F != 0x2C {
        return Ok(None);
    }
    match map_scan(data, boxed, key)? {
        Some(i) if i != u32::MAX => {
            let at = boxed.wrapping_add(8).wrapping_add(i.wrapping_mul(4));
            word(data, at).ok_or_else(oob).map(Some)
        }
        _ => Ok(None),
    }
}

/// What AtomVM's `jit_put_map_assoc(ctx, jit_state, src, new_entries,
/// num_elements, kv)` does in `data` for one pair whose key `src` has, as
/// [`prim::PUT_MAP_ASSOC`] says: `Ok(Some(map))` if it made the map,
/// `Ok(None)` if the call is not one of those, an error where wasm would
/// trap.
fn map_update(data: &mut [u8], args: &[i64]) -> Result<Option<u32>, Error> {
    let oob = || Error::from(wasmi::TrapCode::MemoryOutOfBounds);
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let (ctx, src, kv) = (arg(0), arg(2), arg(5));
    if arg(3) != 0 || arg(4) != 1 {
        return Ok(None);
    }
    // The map's size, then the heap's top, as the C reads them.
    let boxed = src & !3;
    let keys_term = word(data, boxed.wrapping_add(4)).ok_or_else(oob)?;
    let keys = keys_term & !3;
    let n = word(data, keys).ok_or_else(oob)? >> 6;
    let top_at = ctx.wrapping_add(rewrite::HeapLayout::MODEL.heap_ptr);
    let top = word(data, top_at).ok_or_else(oob)?;
    // Byte ranges: the map, its keys, the pair; the new map, the top.
    let range = |at: u32, len: u64| (u64::from(at), u64::from(at) + len);
    let words = u64::from(n);
    let read = [
        range(boxed, 4 * (2 + words)),
        range(keys, 4 * (1 + words)),
        range(kv, 8),
    ];
    let top_word = u64::from(ctx) + u64::from(rewrite::HeapLayout::MODEL.heap_ptr);
    let written = [range(top, 4 * (2 + words)), (top_word, top_word + 4)];
    let size = data.len() as u64;
    let in_memory = read.iter().chain(&written).all(|r| r.1 <= size);
    let apart = written
        .iter()
        .all(|w| read.iter().all(|r| w.1 <= r.0 || r.1 <= w.0));
    if !in_memory || !apart {
        return Ok(None);
    }
    let at = |base: u32, i: u32| base.wrapping_add(4 * i);
    let key = word(data, kv).ok_or_else(oob)?;
    if key & 0xF != 0xF && key & 0x3F != 0x0B {
        return Ok(None);
    }
    // Position p of the key, after keys less than it: small integers,
    // less by value if the key is one too (an atom is greater by type).
    let mut p = None;
    for j in 0..n {
        let k = word(data, at(keys, 1 + j)).ok_or_else(oob)?;
        if k == key {
            p = Some(j);
            break;
        }
        let less = k & 0xF == 0xF && (key & 0xF != 0xF || (k as i32) < (key as i32));
        if !less {
            return Ok(None);
        }
    }
    let Some(p) = p else {
        return Ok(None);
    };
    // The new map: 2 + n words at the top, which moves past them.
    set_word(data, top_at, at(top, 2 + n)).ok_or_else(oob)?;
    set_word(data, top, ((1 + n) << 6) | 0x2C).ok_or_else(oob)?;
    set_word(data, at(top, 1), keys_term).ok_or_else(oob)?;
    for j in 0..n {
        let value = if j == p {
            word(data, at(kv, 1))
        } else {
            word(data, at(boxed, 2 + j))
        };
        set_word(data, at(top, 2 + j), value.ok_or_else(oob)?).ok_or_else(oob)?;
    }
    Ok(Some(top | 2))
}

/// `term_find_map_pos` on the map whose words are at `boxed`, as
/// [`map_pos`] answers it.
fn map_scan(data: &[u8], boxed: u32, key: u32) -> Result<Option<u32>, Error> {
    let oob = || Error::from(wasmi::TrapCode::MemoryOutOfBounds);
    let read = |at: u32| word(data, at).ok_or_else(oob);
    let small_int = key & 0xF == 0xF;
    let atom = key & 0x3F == 0x0B;
    if !small_int && !atom {
        return Ok(None);
    }
    let keys = read(boxed.wrapping_add(4))? & !3;
    let arity = read(keys)? >> 6;
    for i in 0..arity {
        let k = read(keys.wrapping_add(4).wrapping_add(i.wrapping_mul(4)))?;
        if k == key {
            return Ok(Some(i));
        }
        if k & 3 != 3 {
            return Ok(None);
        }
    }
    Ok(Some(u32::MAX))
}

/// What AtomVM's `allocate` (`deallocate` if `n_words` is given) does
/// when no garbage collection is due, in `data`: `Ok(true)` if it did it,
/// `Ok(false)` if a collection is due, an error where wasm would trap.
fn frame(data: &mut [u8], ctx: u32, args: &[i64], n_words: bool) -> Result<bool, Error> {
    let oob = || Error::from(wasmi::TrapCode::MemoryOutOfBounds);
    let read = |data: &[u8], at: u32| word(data, at).ok_or_else(oob);
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    let layout = rewrite::HeapLayout::MODEL;
    let (e_at, cp_at) = (ctx.wrapping_add(0x14), ctx.wrapping_add(0x5C));
    let root = read(data, ctx.wrapping_add(layout.root))?;
    if read(data, root.wrapping_add(layout.next))? != 0 {
        return Ok(false);
    }
    let e = read(data, e_at)?;
    if n_words {
        let n = arg(2);
        let cp = read(data, e.wrapping_add(n.wrapping_mul(4)))?;
        set_word(data, cp_at, cp).ok_or_else(oob)?;
        let e = e.wrapping_add(n.wrapping_add(1).wrapping_mul(4));
        set_word(data, e_at, e).ok_or_else(oob)?;
        return Ok(true);
    }
    let (s, h) = (arg(2), arg(3));
    let heap_ptr = read(data, ctx.wrapping_add(layout.heap_ptr))?;
    let frame = s.wrapping_add(1).wrapping_mul(4);
    if heap_ptr.wrapping_add(h.wrapping_mul(4)) > e.wrapping_sub(frame) {
        return Ok(false);
    }
    let e = e.wrapping_sub(frame);
    let cp = read(data, cp_at)?;
    set_word(data, e.wrapping_add(s.wrapping_mul(4)), cp).ok_or_else(oob)?;
    set_word(data, e_at, e).ok_or_else(oob)?;
    Ok(true)
}

/// Whether AtomVM's `test_heap(ctx, _, heap_need, _)` answers true
/// without collecting garbage, on the words of `data`: `Ok(false)` if a
/// collection is due, an error where wasm would trap.
fn heap_check(data: &[u8], ctx: u32, heap_need: u32) -> Result<bool, Error> {
    let oob = || Error::from(wasmi::TrapCode::MemoryOutOfBounds);
    // Addresses as wasm computes a load's: base plus offset, not wrapped.
    let read = |at: u32| {
        u32::try_from(u64::from(ctx) + u64::from(at))
            .ok()
            .and_then(|at| word(data, at))
            .ok_or_else(oob)
    };
    let b = rewrite::HeapBounds::MODEL;
    let e = read(abi::CONTEXT_E as u32)?;
    let (start, top, end) = (read(b.start)?, read(b.top)?, read(b.end)?);
    Ok(b.no_collection(e, start, top, end, heap_need))
}

/// What AtomVM's `term_alloc_tuple(ctx, size)` does in `data`, in the
/// order [`prim::ALLOC_TUPLE`] says: the tuple's term, or an error where
/// wasm would trap.
fn alloc_tuple(data: &mut [u8], ctx: u32, size: u32) -> Result<u32, Error> {
    let oob = || Error::from(wasmi::TrapCode::MemoryOutOfBounds);
    // The top's address as wasm computes it: base plus offset, not wrapped.
    let top_at = u32::try_from(u64::from(ctx) + u64::from(rewrite::HeapBounds::MODEL.top))
        .map_err(|_| oob())?;
    let top = word(data, top_at).ok_or_else(oob)?;
    let words = size.wrapping_add(1).wrapping_mul(4);
    set_word(data, top_at, top.wrapping_add(words)).ok_or_else(oob)?;
    set_word(data, top, size << 6).ok_or_else(oob)?;
    Ok(top | 2)
}

/// Table index of model primitive `n` (`alt`: of the other interface).
pub fn table_index(n: u32, alt: bool) -> u32 {
    1 + n + if alt { N as u32 } else { 0 }
}

/// Everything a run starts from.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The JIT streams, module i at index i (its `module_index`).
    pub streams: Vec<Vec<u8>>,
    /// Standard type of each interface entry (the model's C signatures).
    pub iface_types: [u8; N],
    /// Where the process starts.
    pub entry_module: u32,
    pub entry_label: u32,
    /// Initial x registers.
    pub x: [u32; 16],
    /// Words after the interface (changed between slices).
    pub extra: [u32; EXTRA_WORDS],
    /// Reductions per time slice.
    pub reductions: i32,
    pub max_slices: u32,
    /// Fuel for the whole run (wasmi's instruction budget).
    pub fuel: u64,
}

/// What the loop and the primitives saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A primitive call: entry `n` of the interface (or of the other one).
    Prim { n: u32, alt: bool, args: Vec<i64> },
    /// A time slice ended, with the loop's reductions.
    Slice { end: SliceEnd, reductions: i32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SliceEnd {
    /// A label returned another ctx (`SCHED_CTX` after `schedule_next_cp`).
    Switch(u32),
    /// Continuation 0: terminated, or stopped.
    Stop,
    /// Reductions ran out.
    Yield,
    /// The continuation named no label of the module.
    BadLabel { module: u32, label: u32 },
    /// `jit_state->module` is not a module.
    BadModule(u32),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Terminated,
    /// The process stopped or was lost (see the last event).
    Ended,
    /// All slices used.
    Slices,
    /// A trap or host error, by message.
    Trap(String),
    /// Out of fuel: not comparable.
    OutOfFuel,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Run {
    pub events: Vec<Event>,
    pub outcome: Outcome,
    pub memory: Vec<u8>,
}

struct State {
    events: Vec<Event>,
    memory: Option<Memory>,
    done: bool,
    /// Saved by `schedule_next_cp`: (module pointer, continuation).
    saved: Option<(u32, u32)>,
    num_modules: u32,
    calls: u32,
}

fn word(data: &[u8], at: u32) -> Option<u32> {
    let at = at as usize;
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn set_word(data: &mut [u8], at: u32, v: u32) -> Option<()> {
    let at = at as usize;
    data.get_mut(at..at + 4)?.copy_from_slice(&v.to_le_bytes());
    Some(())
}

/// The model's memory, which every primitive reads.
fn memory_of(caller: &Caller<'_, State>) -> Result<Memory, Error> {
    caller.data().memory.ok_or_else(|| model_error("no memory"))
}

fn model_error(what: &str) -> Error {
    Error::new(format!("model: {what}"))
}

fn mix(mut h: u64, v: u64) -> u64 {
    h ^= v
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(h << 6)
        .wrapping_add(h >> 2);
    h.wrapping_mul(0xff51_afd7_ed55_8ccd)
}

/// A model primitive: logs its call, then acts.
fn primitive(
    mut caller: Caller<'_, State>,
    n: u32,
    alt: bool,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Error> {
    let args: Vec<i64> = params
        .iter()
        .map(|v| match v {
            Val::I32(x) => i64::from(*x as u32),
            Val::I64(x) => *x,
            _ => 0,
        })
        .collect();
    let arg = |i: usize| args.get(i).copied().unwrap_or(0) as u32;
    if (alt, n) == (false, prim::GET_IMPORTED_BIF) {
        return get_imported_bif(caller, arg(0), arg(1), results);
    }
    if (alt, n) == (false, prim::GET_ATOM_TERM) {
        return get_atom_term(caller, arg(0), arg(1), results);
    }
    if (alt, n) == (false, prim::TRIM_LIVE_REGS) {
        let memory = memory_of(&caller)?;
        let list = u64::from(arg(0)) + u64::from(rewrite::TRIM_MODEL_OFFSET);
        let next = u32::try_from(list)
            .ok()
            .and_then(|at| word(memory.data(&caller), at))
            .ok_or_else(|| Error::from(wasmi::TrapCode::MemoryOutOfBounds))?;
        if u64::from(next) == list {
            return Ok(());
        }
    }
    let frame_entry = match (alt, n, args.len()) {
        (false, prim::ALLOCATE, 5) => Some(false),
        (false, prim::DEALLOCATE, 3) => Some(true),
        _ => None,
    };
    if let Some(n_words) = frame_entry {
        let memory = memory_of(&caller)?;
        let ctx = args.first().copied().unwrap_or(0) as u32;
        if frame(memory.data_mut(&mut caller), ctx, &args, n_words)? {
            if let Some(out) = results.first_mut() {
                *out = Val::I32(1);
            }
            return Ok(());
        }
    }
    if (alt, n, args.len()) == (false, prim::TEST_HEAP, 4) {
        let memory = memory_of(&caller)?;
        if heap_check(memory.data(&caller), arg(0), arg(2))? {
            if let Some(out) = results.first_mut() {
                *out = Val::I32(1);
            }
            return Ok(());
        }
    }
    if (alt, n, args.len()) == (false, prim::ALLOC_TUPLE, 2) {
        let memory = memory_of(&caller)?;
        let tuple = alloc_tuple(memory.data_mut(&mut caller), arg(0), arg(1))?;
        if let Some(out) = results.first_mut() {
            *out = Val::I32(tuple as i32);
        }
        return Ok(());
    }
    if (alt, n, args.len()) == (false, prim::PUT_MAP_ASSOC, 6) {
        let memory = memory_of(&caller)?;
        if let Some(r) = map_update(memory.data_mut(&mut caller), &args)? {
            if let Some(out) = results.first_mut() {
                *out = Val::I32(r as i32);
            }
            return Ok(());
        }
    }
    let compared = match (alt, n, args.len()) {
        (false, prim::TERM_COMPARE, 5) => immediate_compare(arg(2), arg(3)),
        (false, prim::TERM_FIND_MAP_POS, 3) => {
            let memory = memory_of(&caller)?;
            map_pos(memory.data(&caller), arg(1), arg(2))?
        }
        _ => None,
    };
    let map_got = if (alt, n, args.len()) == (false, prim::BIF_MAP_GET, 4) {
        let memory = memory_of(&caller)?;
        map_get(memory.data(&caller), arg(2), arg(3))?
    } else {
        None
    };
    if let Some(r) = compared.or(map_got).or(if alt {
        None
    } else {
        small_int_bif(n, arg(3), arg(4))
    }) {
        if let Some(out) = results.first_mut() {
            *out = Val::I32(r as i32);
        }
        return Ok(());
    }
    let state = caller.data_mut();
    state.events.push(Event::Prim {
        n,
        alt,
        args: args.clone(),
    });
    state.calls += 1;
    let calls = state.calls;
    let num_modules = state.num_modules;
    let memory = state.memory.ok_or_else(|| model_error("no memory"))?;
    let (ctx, js) = (arg(0), arg(1));
    let module_ptr = |index: u32| (index < num_modules).then(|| MODULES + 16 * index);
    let mut ret = ctx;
    let data = memory.data_mut(&mut caller);
    let bad = || model_error("primitive given a pointer outside memory");
    match (alt, n) {
        (false, prim::DO_RETURN) => {
            let cp = word(data, ctx + abi::CONTEXT_CP as u32).ok_or_else(bad)?;
            let (index, label) = abi::decode_cp(cp);
            match module_ptr(index) {
                Some(m) => {
                    set_word(data, js + abi::JIT_STATE_MODULE as u32, m).ok_or_else(bad)?;
                    set_word(data, js + abi::JIT_STATE_CONTINUATION as u32, label + 1)
                        .ok_or_else(bad)?;
                }
                None => {
                    set_word(data, js + abi::JIT_STATE_CONTINUATION as u32, 0).ok_or_else(bad)?
                }
            }
        }
        (false, prim::SCHEDULE_NEXT_CP) => {
            let m = word(data, js + abi::JIT_STATE_MODULE as u32).ok_or_else(bad)?;
            let c = word(data, js + abi::JIT_STATE_CONTINUATION as u32).ok_or_else(bad)?;
            caller.data_mut().saved = Some((m, c));
            ret = SCHED_CTX;
        }
        (false, prim::CALL_EXT | prim::SET_MODULE) => {
            let m = module_ptr(arg(2) % num_modules.max(1)).unwrap_or(MODULES);
            set_word(data, js + abi::JIT_STATE_MODULE as u32, m).ok_or_else(bad)?;
            if n == prim::CALL_EXT {
                set_word(data, js + abi::JIT_STATE_CONTINUATION as u32, arg(3) + 1)
                    .ok_or_else(bad)?;
            }
        }
        (false, prim::TERMINATE) => {
            set_word(data, js + abi::JIT_STATE_CONTINUATION as u32, 0).ok_or_else(bad)?;
            caller.data_mut().done = true;
        }
        (false, prim::PREEMPT) => {
            set_word(data, js + abi::JIT_STATE_REDUCTIONS as u32, 1).ok_or_else(bad)?;
        }
        _ => {
            // Generic: a value from the call, written into DATA and returned
            // when the first argument is not ctx.
            let mut h = mix(u64::from(n) + if alt { 1000 } else { 0 }, u64::from(calls));
            for a in &args {
                h = mix(h, *a as u64);
            }
            let slot = DATA + ((n * 4) % DATA_LEN);
            let old = word(data, slot).unwrap_or(0);
            set_word(data, slot, old ^ h as u32);
            if ctx != CTX {
                ret = (h % 64) as u32;
            }
        }
    }
    if let Some(r) = results.first_mut() {
        *r = Val::I32(ret as i32);
    }
    Ok(())
}

/// `jit_state->module->table[i]`, the table's pointer at `table` in the
/// `Module`, then `read`'s offset from what it found (`None`: the word
/// itself), with wasm32's arithmetic: the reads of the interface entries
/// that only read (`get_imported_bif`, `module_get_atom_term_by_id`). A read
/// outside memory traps as the same reads in wasm would.
fn module_table_word(
    caller: &Caller<'_, State>,
    js: u32,
    table: u32,
    i: u32,
    then: Option<u32>,
) -> Result<u32, Error> {
    let memory = memory_of(caller)?;
    let data = memory.data(caller);
    // wasm's effective address: base + offset, without wrapping.
    let read = |base: u32, offset: u32| {
        let at = u64::from(base) + u64::from(offset);
        u32::try_from(at).ok().and_then(|at| word(data, at))
    };
    read(js, abi::JIT_STATE_MODULE as u32)
        .and_then(|module| read(module, table))
        .and_then(|entries| read(entries.wrapping_add(i.wrapping_mul(4)), 0))
        .and_then(|w| then.map_or(Some(w), |offset| read(w, offset)))
        .ok_or_else(|| Error::from(wasmi::TrapCode::MemoryOutOfBounds))
}

/// The model's `get_imported_bif`: `jit_state->module->imported_funcs[i]`,
/// then that function's `bif0_ptr`.
fn get_imported_bif(
    caller: Caller<'_, State>,
    js: u32,
    i: u32,
    results: &mut [Val],
) -> Result<(), Error> {
    let layout = rewrite::BifLayout::MODEL;
    let ptr = module_table_word(&caller, js, layout.imported_funcs, i, Some(layout.bif0_ptr))?;
    if let Some(r) = results.first_mut() {
        *r = Val::I32(ptr as i32);
    }
    Ok(())
}

/// The model's `module_get_atom_term_by_id`:
/// `jit_state->module->local_atoms_to_global_table[i]` as an atom term.
fn get_atom_term(
    caller: Caller<'_, State>,
    js: u32,
    i: u32,
    results: &mut [Val],
) -> Result<(), Error> {
    let index = module_table_word(&caller, js, rewrite::AtomLayout::MODEL.local_atoms, i, None)?;
    if let Some(r) = results.first_mut() {
        *r = Val::I32(((index << 6) | 0xB) as i32);
    }
    Ok(())
}

fn val_type(b: u8) -> ValType {
    if b == module::I64 {
        ValType::I64
    } else {
        ValType::I32
    }
}

/// The wasmi type of standard type `s`.
pub fn standard_func_type(s: u8) -> FuncType {
    let sig = &STANDARD_TYPES[s as usize % STANDARD_TYPES.len()];
    FuncType::new(
        sig.params.iter().map(|b| val_type(*b)),
        sig.results.iter().map(|b| val_type(*b)),
    )
}

/// Runs `f` on a thread with a native stack large enough for
/// `RECURSION_DEPTH` wasm frames re-entering through host calls.
pub fn with_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(s, f)
            .expect("a thread for the oracle")
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// How a module is rewritten for a run: `None` for the module as
/// generated (only its imports adapted).
pub type Variant = Option<Options>;

struct Loaded {
    instance: Instance,
    num_entries: u32,
}

impl Loaded {
    /// Label function `label` (`f<label>`), looked up when the loop needs it.
    fn label(&self, store: &Store<State>, label: u32) -> Option<Func> {
        (label < self.num_entries)
            .then(|| self.instance.get_func(store, &format!("f{label}")))
            .flatten()
    }
}

/// The modules of a scenario loaded as one variant: checked, validated,
/// rewritten (or only adapted) and compiled once, for many runs.
pub struct Prepared {
    engine: Engine,
    modules: Vec<(Module, u32)>,
    trampolines: Module,
    /// What the rewrite did to each module.
    pub stats: Vec<rewrite::Rewritten>,
}

/// Loads `streams` as `variant` says. `Err` means a module does not load
/// (a scenario to skip if it is the original, a disagreement otherwise).
pub fn prepare(streams: &[Vec<u8>], variant: Variant) -> Result<Prepared, String> {
    let mut config = Config::default();
    config.consume_fuel(true);
    // A runaway recursion (a wrong rewrite can make one) traps here instead
    // of exhausting the native stack through host calls that re-enter wasm.
    config.set_max_recursion_depth(RECURSION_DEPTH);
    // Only the functions a run reaches are translated (the module was
    // validated before).
    config.compilation_mode(wasmi::CompilationMode::Lazy);
    let engine = Engine::new(&config);
    let opts = variant.unwrap_or(Options::plain(false));
    let mut modules = Vec::new();
    let mut stats = Vec::new();
    for bytes in streams {
        let s = stream::parse(bytes).map_err(|e| e.to_string())?;
        let shape =
            module::check(s.wasm, s.num_entries, s.wasm_offset).map_err(|e| e.to_string())?;
        crate::engine::engine_verdict(s.wasm)?;
        let out =
            rewrite::rewrite(s.wasm, &shape, opts, s.wasm_offset).map_err(|e| e.to_string())?;
        let m =
            Module::new(&engine, &out.wasm[..]).map_err(|e| format!("rewritten module: {e}"))?;
        modules.push((m, s.num_entries));
        stats.push(out);
    }
    let trampolines = Module::new(&engine, &rewrite::TRAMPOLINES[..]).map_err(|e| e.to_string())?;
    Ok(Prepared {
        engine,
        modules,
        trampolines,
        stats,
    })
}

/// Runs `scenario` on modules prepared from its streams.
pub fn run(prepared: &Prepared, scenario: &Scenario) -> Result<Run, String> {
    let engine = &prepared.engine;
    let mut store = Store::new(
        engine,
        State {
            events: Vec::new(),
            memory: None,
            done: false,
            saved: None,
            num_modules: prepared.modules.len() as u32,
            calls: 0,
        },
    );
    let memory =
        Memory::new(&mut store, MemoryType::new(PAGES, None)).map_err(|e| e.to_string())?;
    store.data_mut().memory = Some(memory);
    let table_len = 1 + 2 * N as u32 + 16;
    let table = Table::new(
        &mut store,
        TableType::new(RefType::Func, table_len, None),
        Ref::Func(Nullable::Null),
    )
    .map_err(|e| e.to_string())?;
    for alt in [false, true] {
        for n in 0..N as u32 {
            let ty = standard_func_type(scenario.iface_types[n as usize]);
            let f = Func::new(&mut store, ty, move |caller, params, results| {
                primitive(caller, n, alt, params, results)
            });
            table
                .set(
                    &mut store,
                    u64::from(table_index(n, alt)),
                    Ref::Func(Nullable::Val(f)),
                )
                .map_err(|e| e.to_string())?;
        }
    }
    init_memory(&mut store, memory, scenario);

    // The per-thread trampolines, as the JS side instantiates them.
    let mut linker = Linker::<State>::new(engine);
    linker
        .define("env", "__indirect_function_table", table)
        .map_err(|e| e.to_string())?;
    let tramp = linker
        .instantiate_and_start(&mut store, &prepared.trampolines)
        .map_err(|e| e.to_string())?;
    let mut loaded = Vec::new();
    for (m, num_entries) in &prepared.modules {
        let instance = instantiate(&mut store, engine, m, memory, table, tramp)?;
        loaded.push(Loaded {
            instance,
            num_entries: *num_entries,
        });
    }
    store.set_fuel(scenario.fuel).map_err(|e| e.to_string())?;
    let outcome = dispatch(&mut store, memory, &loaded, scenario);
    let events = store.data().events.clone();
    let memory = memory.data(&store).to_vec();
    Ok(Run {
        events,
        outcome,
        memory,
    })
}

/// Instantiates `m` with the JS side's binding rules.
fn instantiate(
    store: &mut Store<State>,
    engine: &Engine,
    m: &Module,
    memory: Memory,
    table: Table,
    tramp: Instance,
) -> Result<Instance, String> {
    let mut linker = Linker::<State>::new(engine);
    linker
        .define("env", "memory", memory)
        .map_err(|e| e.to_string())?;
    linker
        .define("env", "__indirect_function_table", table)
        .map_err(|e| e.to_string())?;
    let imports: Vec<(String, String, Option<FuncType>)> = m
        .imports()
        .map(|i| {
            let ty = i.ty().func().cloned();
            (i.module().to_string(), i.name().to_string(), ty)
        })
        .collect();
    for (module, name, ty) in imports {
        match (module.as_str(), ty) {
            ("p", Some(ty)) => {
                let (n, s) = name
                    .split_once(':')
                    .and_then(|(n, s)| Some((n.parse::<u32>().ok()?, s.parse::<u8>().ok()?)))
                    .ok_or_else(|| format!("bad primitive import {name}"))?;
                let index = word(memory.data(&*store), IFACE + 4 * n).unwrap_or(0);
                let direct = match table.get(&*store, u64::from(index)) {
                    Some(Ref::Func(Nullable::Val(f))) if f.ty(&*store) == ty => Some(f),
                    _ => None,
                };
                let f = match direct {
                    Some(f) => f,
                    None => {
                        let t = tramp
                            .get_func(&*store, &format!("t{s}"))
                            .ok_or_else(|| format!("no trampoline t{s}"))?;
                        Func::new(&mut *store, ty, move |mut caller, params, results| {
                            let mut args = params.to_vec();
                            args.push(Val::I32(index as i32));
                            t.call(&mut caller, &args, results)
                        })
                    }
                };
                linker.define("p", &name, f).map_err(|e| e.to_string())?;
            }
            ("ci", Some(_)) => {
                let t = tramp
                    .get_func(&*store, &name)
                    .ok_or_else(|| format!("no trampoline {name}"))?;
                linker.define("ci", &name, t).map_err(|e| e.to_string())?;
            }
            _ => {}
        }
    }
    linker
        .instantiate_and_start(&mut *store, m)
        .map_err(|e| format!("instantiating: {e}"))
}

fn init_memory(store: &mut Store<State>, memory: Memory, sc: &Scenario) {
    let data = memory.data_mut(store);
    for n in 0..N as u32 {
        set_word(data, IFACE + 4 * n, table_index(n, false));
        set_word(data, ALT_IFACE + 4 * n, table_index(n, true));
    }
    for (i, v) in sc.extra.iter().enumerate() {
        set_word(data, EXTRA + 4 * i as u32, *v);
    }
    for i in 0..sc.streams.len() as u32 {
        set_word(data, MODULES + 16 * i, i);
        set_word(data, MODULES + 16 * i + 4, IMPORTS + 64 * i);
        set_word(data, MODULES + 16 * i + 8, ATOMS + 64 * i);
        for k in 0..16 {
            // Global indices, the last the largest AtomVM's terms hold.
            let global = if k == 15 {
                0x03FF_FFFF - i
            } else {
                1 + 7 * i + 3 * k
            };
            set_word(data, ATOMS + 64 * i + 4 * k, global);
        }
        for k in 0..16 {
            set_word(
                data,
                IMPORTS + 64 * i + 4 * k,
                BIFS + 8 * ((3 * i + k) % NUM_BIFS),
            );
        }
    }
    for j in 0..NUM_BIFS {
        set_word(data, BIFS + 8 * j + 4, table_index(bif_entry(j), false));
    }
    // The maps: each map's words at its term & !3, its keys' tuple 0x40
    // bytes before (the last one's at the end of memory).
    for (i, (map, keys)) in MAP_TERMS.iter().zip(MAP_KEYS).enumerate() {
        let at = map & !3;
        let tuple = if i + 1 == MAP_TERMS.len() {
            LAST_KEYS
        } else {
            at - 0x40
        };
        let arity = if i + 1 == MAP_TERMS.len() {
            100
        } else {
            keys.len() as u32
        };
        set_word(data, tuple, arity << 6);
        for (j, k) in keys.iter().enumerate() {
            set_word(data, tuple + 4 + 4 * j as u32, *k);
            set_word(data, at + 8 + 4 * j as u32, 0x100 + j as u32);
        }
        set_word(data, at, ((1 + keys.len() as u32) << 6) | 0x2C);
        set_word(data, at + 4, tuple | 2);
    }
    set_word(data, NOT_A_MAP & !3, 2 << 6);
    set_word(data, (NOT_A_MAP & !3) + 4, (MAP_TERMS[0] & !3) - 0x40 + 2);
    set_word(data, (NOT_A_MAP & !3) + 8, 0x1EE);
    // The running process's heap: no fragments (its root fragment is at
    // 0, whose first word stays 0), from DATA up, its stack from the end
    // of DATA down.
    let heap = rewrite::HeapLayout::MODEL;
    set_word(data, CTX + heap.root, 0);
    set_word(data, CTX + heap.heap_ptr, DATA);
    set_word(data, CTX + abi::CONTEXT_E as u32, DATA + DATA_LEN);
    let bounds = rewrite::HeapBounds::MODEL;
    set_word(data, CTX + bounds.start, DATA);
    set_word(data, CTX + bounds.end, DATA + DATA_LEN);
    // The running process has no extended x registers (an empty list
    // points at itself); the others have some.
    let ext = rewrite::TRIM_MODEL_OFFSET;
    set_word(data, CTX + ext, CTX + ext);
    set_word(data, ALT_CTX + ext, DATA);
    set_word(data, SCHED_CTX + ext, DATA + 4);
    for (i, v) in sc.x.iter().enumerate() {
        set_word(data, CTX + abi::CONTEXT_X as u32 + 4 * i as u32, *v);
    }
    for i in 0..DATA_LEN / 4 {
        set_word(data, DATA + 4 * i, i.wrapping_mul(0x9E37_79B9) >> 20);
    }
}

/// The dispatch loop of spec 6.2, one time slice after another.
fn dispatch(store: &mut Store<State>, memory: Memory, loaded: &[Loaded], sc: &Scenario) -> Outcome {
    let module_of = |ptr: u32| {
        let i = ptr.wrapping_sub(MODULES) / 16;
        (ptr >= MODULES && (ptr - MODULES).is_multiple_of(16) && (i as usize) < loaded.len())
            .then_some(i as usize)
    };
    let mut module = sc.entry_module as usize;
    let mut cont = sc.entry_label + 1;
    for slice in 0..sc.max_slices {
        // Words past the interface change between slices: a rewrite must
        // read them when the call is made.
        {
            let data = memory.data_mut(&mut *store);
            for i in 0..EXTRA_WORDS as u32 {
                let at = EXTRA + 4 * i;
                let v = word(data, at).unwrap_or(0);
                set_word(data, at, v.rotate_left(slice % 7));
            }
        }
        let mut r = sc.reductions;
        let end = loop {
            let Some(entry) = loaded.get(module).and_then(|m| m.label(store, cont - 1)) else {
                break SliceEnd::BadLabel {
                    module: module as u32,
                    label: cont - 1,
                };
            };
            {
                let data = memory.data_mut(&mut *store);
                set_word(data, JIT_STATE, MODULES + 16 * module as u32);
                set_word(data, JIT_STATE + 4, 0);
                set_word(data, JIT_STATE + 8, r as u32);
            }
            let mut result = [Val::I32(0)];
            let args = [
                Val::I32(CTX as i32),
                Val::I32(JIT_STATE as i32),
                Val::I32(IFACE as i32),
            ];
            if let Err(e) = entry.call(&mut *store, &args, &mut result) {
                return if e.as_trap_code() == Some(wasmi::TrapCode::OutOfFuel) {
                    Outcome::OutOfFuel
                } else {
                    Outcome::Trap(
                        e.as_trap_code()
                            .map_or_else(|| e.to_string(), |c| format!("{c:?}")),
                    )
                };
            }
            let new_ctx = match result[0] {
                Val::I32(v) => v as u32,
                _ => 0,
            };
            let data = memory.data(&*store);
            let js_module = word(data, JIT_STATE).unwrap_or(0);
            let js_cont = word(data, JIT_STATE + 4).unwrap_or(0);
            r = word(data, JIT_STATE + 8).unwrap_or(0) as i32;
            if new_ctx != CTX {
                break SliceEnd::Switch(new_ctx);
            }
            if js_cont == 0 {
                break SliceEnd::Stop;
            }
            if r == 0 {
                match module_of(js_module) {
                    Some(m) => {
                        module = m;
                        cont = js_cont;
                    }
                    None => break SliceEnd::BadModule(js_module),
                }
                break SliceEnd::Yield;
            }
            match module_of(js_module) {
                Some(m) => module = m,
                None => break SliceEnd::BadModule(js_module),
            }
            cont = js_cont;
        };
        let state = store.data_mut();
        state.events.push(Event::Slice {
            end: end.clone(),
            reductions: r,
        });
        match end {
            SliceEnd::Yield => {}
            SliceEnd::Switch(SCHED_CTX) => match state.saved.take().map(|(m, c)| (module_of(m), c))
            {
                Some((Some(m), c)) if c != 0 => {
                    module = m;
                    cont = c;
                }
                _ => return Outcome::Ended,
            },
            SliceEnd::Stop if state.done => return Outcome::Terminated,
            _ => return Outcome::Ended,
        }
    }
    Outcome::Slices
}
