//! Random JIT programs for the differential oracle: two modules of the shape
//! of spec section 4 whose label functions use what the rewrites touch —
//! jumps of both forms, guarded by reductions, primitive calls (in tail
//! position or not, past the interface, with a wrong type, through another
//! interface in local 2), computed `call_indirect`s, `call`s and
//! `return_call`s between labels, blocks, loops and branches, writes of
//! locals 0-2, module switches, `cp` returns — plus the scenario to run them.
//!
//! Choices come from a [`Source`]: fuzz input bytes (zeros once they run
//! out, which ends every list, so generation always stops) or a seeded
//! generator for the deterministic runs of `cargo test`.
//!
//! Every run terminates: a label the loop reaches spends exactly one
//! reduction before it transfers control (jump, return, tail call), helper
//! labels (only ever `call`ed or `return_call`ed, and only "forwards") spend
//! none, so reductions fall by one per label the loop would run and reach 0.

use super::model::{
    self, prim, Scenario, ALT_CTX, ALT_IFACE, ALT_JIT_STATE, DATA, DATA_LEN, EXTRA_WORDS,
};
use crate::abi;
use crate::testgen::{self, ModuleSpec, SCRATCH};
use wasm_encoder::{BlockType, Function, Instruction as I, MemArg, ValType};

/// Where choices come from.
pub struct Source<'a> {
    bytes: &'a [u8],
    pos: usize,
    rng: Option<u64>,
}

impl<'a> Source<'a> {
    /// Choices read from `bytes`, then zeros.
    pub fn new(bytes: &'a [u8]) -> Source<'a> {
        Source {
            bytes,
            pos: 0,
            rng: None,
        }
    }

    /// Choices from a xorshift generator seeded with `seed`.
    pub fn seeded(seed: u64) -> Source<'static> {
        Source {
            bytes: &[],
            pos: 0,
            rng: Some(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        }
    }

    pub fn byte(&mut self) -> u8 {
        if let Some(b) = self.bytes.get(self.pos) {
            self.pos += 1;
            return *b;
        }
        match &mut self.rng {
            Some(x) => {
                *x ^= *x << 13;
                *x ^= *x >> 7;
                *x ^= *x << 17;
                (*x >> 32) as u8
            }
            None => 0,
        }
    }

    /// A number below `n` (n >= 1).
    pub fn below(&mut self, n: u32) -> u32 {
        let v = u32::from(self.byte()) | u32::from(self.byte()) << 8;
        v % n.max(1)
    }

    /// True with probability about `p`/256.
    pub fn chance(&mut self, p: u8) -> bool {
        self.byte() < p
    }
}

const fn mem(offset: u64) -> MemArg {
    mem_aligned(offset, 2)
}

const fn mem_aligned(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// The model's type for each interface entry: what the generated calls use
/// (a call with another type traps, in both variants).
pub fn iface_types() -> [u8; 77] {
    let mut t = [0u8; 77];
    for (n, ty) in t.iter_mut().enumerate() {
        *ty = match n as u32 {
            prim::DO_RETURN | prim::SCHEDULE_NEXT_CP | prim::TERMINATE | prim::PREEMPT => 1,
            prim::GET_ATOM_TERM => 1,
            prim::CALL_EXT => 3,
            prim::SET_MODULE => 2,
            prim::BIF_ADD | prim::BIF_SUB | prim::BIF_BAND => 4,
            prim::BIF_BOR | prim::BIF_BXOR | prim::BIF_BSR => 4,
            prim::BIF_MAP_GET => 3,
            prim::PUT_MAP_ASSOC => 5,
            prim::TRIM_LIVE_REGS => 7,
            prim::TERM_COMPARE | prim::ALLOCATE => 4,
            prim::DEALLOCATE | prim::TERM_FIND_MAP_POS => 2,
            prim::TEST_HEAP => 3,
            prim::ALLOC_TUPLE => 1,
            n => [0, 1, 2, 3, 7, 8, 12][n as usize % 7],
        };
    }
    t
}

struct Gen<'s, 'a> {
    src: &'s mut Source<'a>,
    types: [u8; 77],
    /// Labels of this module: 1..normal are reached by the loop, normal..n
    /// are helpers.
    n: u32,
    normal: u32,
    /// Normal labels of the other module (for `call_ext`).
    other_normal: u32,
    this_module: u32,
    other_module: u32,
    label: u32,
    depth: u32,
    /// Statements left in this body.
    budget: u32,
}

impl Gen<'_, '_> {
    fn helper(&self) -> bool {
        self.label >= self.normal
    }

    /// Pushes one i32.
    fn expr(&mut self, f: &mut Vec<I<'static>>, depth: u32) {
        match self.src.below(if depth > 1 { 4 } else { 6 }) {
            0 => f.push(I::I32Const(self.src.below(100) as i32)),
            1 => f.extend([
                I::LocalGet(0),
                I::I32Load(mem(abi::CONTEXT_X + 4 * u64::from(self.src.below(16)))),
            ]),
            2 => f.extend([
                I::I32Const((DATA + 4 * self.src.below(DATA_LEN / 4)) as i32),
                I::I32Load(mem(0)),
            ]),
            3 => f.push(I::LocalGet(SCRATCH + self.src.below(4))),
            _ => {
                self.expr(f, depth + 1);
                self.expr(f, depth + 1);
                f.push(
                    [
                        I::I32Add,
                        I::I32Sub,
                        I::I32Mul,
                        I::I32Xor,
                        I::I32And,
                        I::I32Eq,
                        I::I32LtU,
                    ][self.src.below(7) as usize]
                        .clone(),
                );
            }
        }
    }

    /// Pushes the arguments of a call of standard type `s`: ctx and
    /// jit_state first (as AtomVM's calls do), then values.
    fn args(&mut self, f: &mut Vec<I<'static>>, s: u8) {
        if s == crate::rewrite::SMALL_INT_CALL_TYPE {
            return self.bif_args(f);
        }
        let sig = &crate::module::STANDARD_TYPES[s as usize];
        for (i, p) in sig.params.iter().enumerate() {
            match (i, *p == crate::module::I64) {
                (_, true) => f.push(I::I64Const(i64::from(self.src.below(1000)))),
                (0, _) => f.push(I::LocalGet(0)),
                (1, _) => f.push(I::LocalGet(1)),
                _ => self.expr(f, 2),
            }
        }
    }

    /// The arguments of `erlang:map_get/2`: `ctx`, a fail label, a key
    /// (small integers and atoms of the model's maps or not, mostly), a
    /// map of the model's (or a tuple laid out as one, a map's words as a
    /// list, anything).
    fn map_get_args(&mut self, f: &mut Vec<I<'static>>) {
        f.push(I::LocalGet(0));
        f.push(I::I32Const(self.src.below(4) as i32));
        self.map_key(f);
        match self.src.below(8) {
            0 => self.expr(f, 2),
            1 => f.push(I::I32Const(model::NOT_A_MAP as i32)),
            2 => f.push(I::I32Const((model::MAP_TERMS[0] - 1) as i32)),
            _ => {
                let maps = model::MAP_TERMS;
                f.push(I::I32Const(
                    maps[self.src.below(maps.len() as u32) as usize] as i32,
                ));
            }
        }
    }

    /// `jit_put_map_assoc` as generated: the pair written to memory (in
    /// `DATA` mostly: a key of the model's maps, mostly, and any value),
    /// now and then the heap's top moved (onto a map, its keys, the pair,
    /// the end of memory), then `ctx`, `jit_state`, a map of the model's
    /// (or anything), new entries (0 mostly), pairs (1 mostly), the pair.
    fn map_update(&mut self, f: &mut Vec<I<'static>>) {
        let kv = match self.src.below(16) {
            0 => self.src.below(0x2_0000) as i32,
            _ => (DATA + 4 * self.src.below(DATA_LEN / 4 - 1)) as i32,
        };
        f.push(I::I32Const(kv));
        self.map_key(f);
        f.push(I::I32Store(mem_aligned(0, 0)));
        f.push(I::I32Const(kv));
        self.expr(f, 2);
        f.push(I::I32Store(mem_aligned(4, 0)));
        if self.src.chance(48) {
            let maps = model::MAP_TERMS;
            let map = maps[self.src.below(maps.len() as u32) as usize] & !3;
            let top = [map, map - 0x40, (kv as u32).wrapping_sub(4), 0x1_FFF0]
                [self.src.below(4) as usize];
            let heap_ptr = u64::from(crate::rewrite::HeapLayout::MODEL.heap_ptr);
            f.extend([
                I::LocalGet(0),
                I::I32Const(top as i32),
                I::I32Store(mem(heap_ptr)),
            ]);
        }
        f.extend([I::LocalGet(0), I::LocalGet(1)]);
        self.some_map(f);
        for _ in 0..2 {
            let v = if self.src.chance(200) {
                0
            } else {
                self.src.below(3)
            };
            f.push(I::I32Const(v as i32));
        }
        // new_entries 0 mostly, num_elements 1 mostly
        if let Some(I::I32Const(v)) = f.last_mut() {
            *v ^= 1;
        }
        f.push(I::I32Const(kv));
        let s = self.types[prim::PUT_MAP_ASSOC as usize];
        Self::primitive_call(f, 4 * u64::from(prim::PUT_MAP_ASSOC), s);
        self.results(f, s);
    }

    /// `test_heap` or `term_alloc_tuple` as generated: `ctx`, `jit_state`,
    /// a need, a live count; `ctx` and a size. The size is small mostly,
    /// now and then one whose words wrap. For `test_heap`, mostly, the
    /// process's heap is first set to one of the shapes AtomVM's free
    /// count distinguishes (the stack in the fragment, at either bound,
    /// outside it; the top below or past the limit), and the need is one
    /// at an edge of that free count: equal, one either side, at the
    /// shrink bound, or one whose product by 64 wraps. Otherwise a small
    /// need on the heap as it is.
    fn heap_alloc(&mut self, f: &mut Vec<I<'static>>) {
        if self.src.chance(64) {
            f.push(I::LocalGet(0));
            let size = match self.src.below(16) {
                0 => [0x3FFF_FFFF, 0x4000_0000, u32::MAX][self.src.below(3) as usize],
                _ => self.src.below(12),
            };
            f.push(I::I32Const(size as i32));
            let s = self.types[prim::ALLOC_TUPLE as usize];
            Self::primitive_call(f, 4 * u64::from(prim::ALLOC_TUPLE), s);
            self.results(f, s);
            return;
        }
        let need = if self.src.chance(192) {
            let bounds = crate::rewrite::HeapBounds::MODEL;
            let (start, end) = (DATA, DATA + DATA_LEN);
            let word = |src: &mut Source<'_>| DATA + 4 * src.below(DATA_LEN / 4 + 1);
            let e = match self.src.below(6) {
                0 => start,
                1 => end,
                2 => start - 4,
                3 => end + 4,
                _ => word(self.src),
            };
            let top = match self.src.below(4) {
                0 => e.wrapping_add(4 * self.src.below(4)),
                1 => e.wrapping_sub(0x100 * self.src.below(4)),
                _ => word(self.src),
            };
            for (at, v) in [
                (abi::CONTEXT_E, e),
                (u64::from(bounds.top), top),
                (u64::from(bounds.start), start),
                (u64::from(bounds.end), end),
            ] {
                f.extend([I::LocalGet(0), I::I32Const(v as i32), I::I32Store(mem(at))]);
            }
            let free = crate::rewrite::HeapBounds::free_words(e, start, top, end);
            let others = [0, 0x3FF_FFFF, 0x400_0001, self.src.below(40)];
            let pick = self.src.below(10) as usize;
            crate::rewrite::HeapBounds::edge_needs(free)
                .into_iter()
                .chain(others)
                .nth(pick)
                .unwrap_or_default()
        } else {
            self.src.below(40)
        };
        f.extend([I::LocalGet(0), I::LocalGet(1), I::I32Const(need as i32)]);
        f.push(I::I32Const(self.src.below(16) as i32));
        let s = self.types[prim::TEST_HEAP as usize];
        Self::primitive_call(f, 4 * u64::from(prim::TEST_HEAP), s);
        self.results(f, s);
    }

    /// A map of the model's, mostly, or anything.
    fn some_map(&mut self, f: &mut Vec<I<'static>>) {
        if self.src.chance(220) {
            let maps = model::MAP_TERMS;
            f.push(I::I32Const(
                maps[self.src.below(maps.len() as u32) as usize] as i32,
            ));
        } else {
            self.expr(f, 2);
        }
    }

    /// A key to look up: one of the model's maps' keys, or a term for
    /// `term_compare`.
    fn map_key(&mut self, f: &mut Vec<I<'static>>) {
        if self.src.chance(128) {
            let keys: Vec<u32> = model::MAP_KEYS
                .iter()
                .flat_map(|k| k.iter().copied())
                .collect();
            f.push(I::I32Const(
                keys[self.src.below(keys.len() as u32) as usize] as i32,
            ));
        } else {
            self.compared_term(f);
        }
    }

    /// The arguments of a GC BIF of two terms: `ctx`, a fail label, a live
    /// count, then two terms, mostly small integers, some at the edges
    /// where `+` and `-` overflow.
    fn bif_args(&mut self, f: &mut Vec<I<'static>>) {
        f.push(I::LocalGet(0));
        f.push(I::I32Const(self.src.below(4) as i32));
        f.push(I::I32Const(self.src.below(16) as i32));
        for _ in 0..2 {
            match self.src.below(8) {
                0..=2 => {
                    // 0, 1, -1, the largest, the smallest, and next to them
                    let edge = [
                        0xFu32,
                        0x1F,
                        0xFFFF_FFFF,
                        0x7FFF_FFFF,
                        0x7FFF_FFEF,
                        0x8000_000F,
                        0x8000_001F,
                    ];
                    let v = edge[self.src.below(edge.len() as u32) as usize];
                    f.push(I::I32Const(v as i32));
                }
                3 => self.expr(f, 2), // anything
                _ => {
                    // a small integer computed at run time
                    self.expr(f, 2);
                    f.extend([I::I32Const(4), I::I32Shl, I::I32Const(0xF), I::I32Or]);
                }
            }
        }
    }

    /// A term for `term_compare`: one of a few small integers (at the
    /// edges too) and atoms (more pairs than the module's cache holds), or
    /// anything.
    fn compared_term(&mut self, f: &mut Vec<I<'static>>) {
        let pool = [
            0xFu32,
            0x1F,
            0xFFFF_FFFF,
            0x7FFF_FFFF,
            0x8000_000F,
            0x0B,
            0x4B,
            0x8B,
            0xCB,
            0x10B,
            0x7FFF_FFCB,
            0x3B, // nil
        ];
        match self.src.below(8) {
            0 => self.expr(f, 2),
            1 => {
                // an atom computed at run time
                self.expr(f, 2);
                f.extend([I::I32Const(6), I::I32Shl, I::I32Const(0xB), I::I32Or]);
            }
            _ => f.push(I::I32Const(
                pool[self.src.below(pool.len() as u32) as usize] as i32,
            )),
        }
    }

    /// What to do with a call's results.
    fn results(&mut self, f: &mut Vec<I<'static>>, s: u8) {
        if crate::module::STANDARD_TYPES[s as usize].results.is_empty() {
            return;
        }
        match self.src.below(3) {
            0 => f.push(I::Drop),
            1 => f.push(I::LocalSet(SCRATCH + self.src.below(4))),
            _ => {
                let x = self.src.below(16);
                f.push(I::LocalSet(SCRATCH + 3));
                f.extend([
                    I::LocalGet(0),
                    I::LocalGet(SCRATCH + 3),
                    I::I32Store(mem(abi::CONTEXT_X + 4 * u64::from(x))),
                ]);
            }
        }
    }

    /// `local.get 2; i32.load offset; call_indirect (type s)`: entry
    /// `offset / 4` of the interface in local 2.
    fn primitive_call(f: &mut Vec<I<'static>>, offset: u64, s: u8) {
        f.extend([
            I::LocalGet(2),
            I::I32Load(mem_aligned(offset, 0)),
            I::CallIndirect {
                type_index: u32::from(s),
                table_index: 0,
            },
        ]);
    }

    /// A primitive call that is not a transfer: an entry with no effect on
    /// control (or one switching module, or preempting), sometimes past the
    /// interface, misaligned, or with a type the entry does not have.
    fn primitive(&mut self, f: &mut Vec<I<'static>>) {
        let (offset, s) = match self.src.below(14) {
            0 => (
                model::EXTRA as u64 - model::IFACE as u64
                    + 4 * u64::from(self.src.below(EXTRA_WORDS as u32)),
                self.types[11],
            ),
            1 => (4 * u64::from(self.src.below(77)) + 2, 1), // misaligned
            2 => (4 * u64::from(self.src.below(77)), self.src.below(13) as u8), // any type
            3 => {
                f.extend([
                    I::LocalGet(0),
                    I::LocalGet(1),
                    I::I32Const(self.other_module as i32),
                ]);
                Self::primitive_call(f, 4 * u64::from(prim::SET_MODULE), 2);
                f.push(I::Drop);
                return;
            }
            4 => (4 * u64::from(prim::PREEMPT), 1),
            7 => {
                // allocate or deallocate as generated: constants, mostly
                // small; a frame of 2^16 words or more, a heap need of 2^24
                // or more, are the C's to make
                f.extend([I::LocalGet(0), I::LocalGet(1)]);
                let word = |src: &mut Source<'_>| match src.below(16) {
                    0 => [
                        0xFFFF,
                        0x1_0000,
                        0xFF_FFFF,
                        0x100_0000,
                        0x3FFF_FFFF,
                        u32::MAX,
                    ][src.below(6) as usize] as i32,
                    _ => src.below(24) as i32,
                };
                let (n, s) = if self.src.chance(128) {
                    f.push(I::I32Const(word(self.src)));
                    f.push(I::I32Const(word(self.src)));
                    f.push(I::I32Const(self.src.below(16) as i32));
                    (prim::ALLOCATE, self.types[5])
                } else {
                    f.push(I::I32Const(word(self.src)));
                    (prim::DEALLOCATE, self.types[9])
                };
                Self::primitive_call(f, 4 * u64::from(n), s);
                self.results(f, s);
                return;
            }
            10 => {
                self.map_update(f);
                return;
            }
            13 => {
                self.heap_alloc(f);
                return;
            }
            9 => {
                // term_find_map_pos as generated: ctx, a map of the
                // model's (or anything), a key (small integers and atoms
                // found, or not, mostly)
                f.push(I::LocalGet(0));
                self.some_map(f);
                self.map_key(f);
                let s = self.types[prim::TERM_FIND_MAP_POS as usize];
                Self::primitive_call(f, 4 * u64::from(prim::TERM_FIND_MAP_POS), s);
                self.results(f, s);
                return;
            }
            8 => {
                // the process's heap: fragments or none (the root at a
                // word that is 0 or not), its top and its stack moved
                let (root, top, e) = (
                    [0, 4, DATA + 4 * self.src.below(8)][self.src.below(3) as usize],
                    DATA + 4 * self.src.below(DATA_LEN / 4),
                    DATA + 4 * self.src.below(DATA_LEN / 4 + 1),
                );
                let heap = crate::rewrite::HeapLayout::MODEL;
                let bounds = crate::rewrite::HeapBounds::MODEL;
                // The fragment's bounds: around the stack, or apart from it.
                let start = [DATA, DATA + 4 * self.src.below(DATA_LEN / 4), e + 4]
                    [self.src.below(3) as usize];
                let end = [DATA + DATA_LEN, e, e.wrapping_sub(4)][self.src.below(3) as usize];
                for (at, v) in [
                    (u64::from(heap.root), root),
                    (u64::from(heap.heap_ptr), top),
                    (abi::CONTEXT_E, e),
                    (u64::from(bounds.start), start),
                    (u64::from(bounds.end), end),
                ] {
                    if self.src.chance(160) {
                        f.extend([I::LocalGet(0), I::I32Const(v as i32), I::I32Store(mem(at))]);
                    }
                }
                return;
            }
            6 => {
                // term_compare as generated: ctx, jit_state, two terms
                // (immediates mostly: equal, small integers, atoms), opts
                f.extend([I::LocalGet(0), I::LocalGet(1)]);
                self.compared_term(f);
                self.compared_term(f);
                let opts = if self.src.chance(230) {
                    self.src.below(2) as i32
                } else {
                    self.src.below(16) as i32
                };
                f.push(I::I32Const(opts));
                Self::primitive_call(f, 4 * u64::from(prim::TERM_COMPARE), self.types[11]);
                self.results(f, self.types[11]);
                return;
            }
            5 => {
                // trim_live_regs as generated: a local (ctx, mostly) and a
                // constant; now and then the process's extended x
                // registers made non-empty, or empty again, first
                let ext = u64::from(crate::rewrite::TRIM_MODEL_OFFSET);
                match self.src.below(8) {
                    0 => f.extend([
                        I::LocalGet(0),
                        I::LocalGet(0),
                        I::I32Const(ext as i32),
                        I::I32Add,
                        I::I32Store(mem(ext)),
                    ]),
                    1 => f.extend([I::LocalGet(0), I::I32Const(0x5EED), I::I32Store(mem(ext))]),
                    _ => {}
                }
                let local = if self.src.chance(220) {
                    0
                } else {
                    SCRATCH + self.src.below(4)
                };
                f.extend([I::LocalGet(local), I::I32Const(self.src.below(16) as i32)]);
                Self::primitive_call(f, 4 * u64::from(prim::TRIM_LIVE_REGS), self.types[7]);
                return;
            }
            _ => {
                let n = loop {
                    let n = self.src.below(77);
                    if ![
                        prim::DO_RETURN,
                        prim::SCHEDULE_NEXT_CP,
                        prim::CALL_EXT,
                        prim::TERMINATE,
                        prim::SET_MODULE,
                    ]
                    .contains(&n)
                    {
                        break n;
                    }
                };
                (4 * u64::from(n), self.types[n as usize])
            }
        };
        self.args(f, s);
        Self::primitive_call(f, offset, s);
        self.results(f, s);
    }

    /// The arguments of an entry that reads one of the module's tables
    /// (`get_imported_bif`, `module_get_atom_term_by_id`): `jit_state` and
    /// an index, mostly within the model's 16 entries; now and then another
    /// local, or an index past the table (read anyway) or one whose bytes
    /// wrap (out of memory: a trap in both variants).
    fn table_entry_args(&mut self) -> (u32, i32) {
        let local = if self.src.chance(230) {
            1
        } else {
            self.src.below(3)
        };
        let index = match self.src.below(16) {
            0 => 0x3FFF_FFF0 + self.src.below(32) as i32, // wraps, reads far
            1 => -1 - self.src.below(4) as i32,
            _ => self.src.below(20) as i32,
        };
        (local, index)
    }

    /// A BIF call as AtomVM's generator writes it: `get_imported_bif`
    /// (entry 8) with `jit_state` and a constant, then a call of the
    /// pointer it answers (with a type the model's BIF has, mostly). Now
    /// and then another local or a constant past the module's imports
    /// (read anyway, or out of memory: a trap in both variants).
    fn bif_call(&mut self, f: &mut Vec<I<'static>>) {
        let (local, index) = self.table_entry_args();
        f.extend([I::LocalGet(local), I::I32Const(index)]);
        Self::primitive_call(f, 4 * u64::from(model::prim::GET_IMPORTED_BIF), 1);
        f.push(I::LocalSet(SCRATCH + 3));
        // Module m's import k is BIF (3m + k) mod NUM_BIFS.
        let j = (3 * self.this_module).wrapping_add(index as u32) % model::NUM_BIFS;
        let s = if self.src.chance(230) {
            self.types[model::bif_entry(j) as usize]
        } else {
            self.src.below(13) as u8
        };
        if s == crate::rewrite::MAP_GET_TYPE {
            self.map_get_args(f);
        } else {
            self.args(f, s);
        }
        f.extend([
            I::LocalGet(SCRATCH + 3),
            I::CallIndirect {
                type_index: u32::from(s),
                table_index: 0,
            },
        ]);
        self.results(f, s);
    }

    /// An atom constant as AtomVM's generator gets it:
    /// `module_get_atom_term_by_id` (entry 3) with `jit_state` and a
    /// constant, stored in an x register. Now and then another local or a
    /// constant past the module's atoms (read anyway, or out of memory: a
    /// trap in both variants).
    fn atom_call(&mut self, f: &mut Vec<I<'static>>) {
        let (local, index) = self.table_entry_args();
        let x = self.src.below(16);
        f.extend([I::LocalGet(0), I::LocalGet(local), I::I32Const(index)]);
        Self::primitive_call(f, 4 * u64::from(model::prim::GET_ATOM_TERM), 1);
        f.push(I::I32Store(mem(abi::CONTEXT_X + 4 * u64::from(x))));
    }

    /// A `call_indirect` on a pointer computed at run time.
    fn computed(&mut self, f: &mut Vec<I<'static>>) {
        let n = self.src.below(77);
        let s = self.types[n as usize];
        self.args(f, s);
        f.extend([
            I::LocalGet(2),
            I::I32Const(4 * n as i32),
            I::I32Add,
            I::I32Load(mem(0)),
            I::CallIndirect {
                type_index: u32::from(s),
                table_index: 0,
            },
        ]);
        self.results(f, s);
    }

    /// A `call` of a helper label after this one, if there is one.
    fn call_helper(&mut self, f: &mut Vec<I<'static>>) {
        let first = self.normal.max(self.label + 1);
        if first >= self.n {
            return;
        }
        let h = first + self.src.below(self.n - first);
        f.extend([I::LocalGet(0), I::LocalGet(1), I::LocalGet(2), I::Call(h)]);
        match self.src.below(2) {
            0 => f.push(I::Drop),
            _ => f.push(I::LocalSet(SCRATCH + self.src.below(4))),
        }
    }

    fn statements(&mut self, f: &mut Vec<I<'static>>) {
        while self.budget > 0 && self.src.byte() >= 40 {
            self.budget -= 1;
            self.statement(f);
        }
    }

    fn statement(&mut self, f: &mut Vec<I<'static>>) {
        let nested = self.depth < 3;
        match self.src.below(if nested { 14 } else { 9 }) {
            0 | 1 => {
                let x = self.src.below(16);
                f.push(I::LocalGet(0));
                self.expr(f, 0);
                f.push(I::I32Store(mem(abi::CONTEXT_X + 4 * u64::from(x))));
            }
            2 => {
                f.push(I::I32Const(
                    (DATA + 4 * self.src.below(DATA_LEN / 4)) as i32,
                ));
                self.expr(f, 0);
                f.push(I::I32Store(mem(0)));
            }
            3 => {
                self.expr(f, 0);
                f.push(I::LocalSet(SCRATCH + self.src.below(4)));
            }
            4 if self.src.chance(64) => self.atom_call(f),
            4 => self.primitive(f),
            5 if self.src.chance(128) => self.bif_call(f),
            5 => self.primitive(f),
            6 => self.computed(f),
            7 => self.call_helper(f),
            8 => {
                // set cp for a later do_return: a label of this module (as
                // the generator does), sometimes of the other module, or
                // past the labels
                let (module, label) = match self.src.below(8) {
                    0 | 1 => (
                        Some(self.other_module),
                        1 + self.src.below(self.other_normal - 1),
                    ),
                    2 | 3 => (None, self.n + self.src.below(3)),
                    _ => (None, 1 + self.src.below(self.normal - 1)),
                };
                f.push(I::LocalGet(0));
                match module {
                    Some(m) => f.push(I::I32Const(m as i32)),
                    None => f.extend([
                        I::LocalGet(1),
                        I::I32Load(mem(abi::JIT_STATE_MODULE)),
                        I::I32Load(mem(0)),
                    ]),
                }
                f.extend([
                    I::I32Const(24),
                    I::I32Shl,
                    I::I32Const((label * 16) as i32),
                    I::I32Or,
                    I::I32Store(mem(abi::CONTEXT_CP)),
                ]);
            }
            9 | 10 => {
                self.expr(f, 0);
                f.push(I::If(BlockType::Empty));
                self.depth += 1;
                if self.src.chance(90) {
                    self.exit(f);
                } else {
                    self.statements(f);
                }
                if self.src.chance(100) {
                    f.push(I::Else);
                    self.statements(f);
                }
                self.depth -= 1;
                f.push(I::End);
            }
            11 => {
                f.push(I::Block(BlockType::Empty));
                self.depth += 1;
                self.statements(f);
                self.expr(f, 0);
                f.push(I::BrIf(0));
                self.statements(f);
                self.depth -= 1;
                f.push(I::End);
            }
            12 => {
                // a loop of 1 to 3 rounds on its own counter
                let counter = SCRATCH + 4 + self.depth;
                f.extend([
                    I::I32Const(1 + self.src.below(3) as i32),
                    I::LocalSet(counter),
                    I::Loop(BlockType::Empty),
                ]);
                self.depth += 1;
                self.statements(f);
                self.depth -= 1;
                f.extend([
                    I::LocalGet(counter),
                    I::I32Const(1),
                    I::I32Sub,
                    I::LocalTee(counter),
                    I::BrIf(0),
                    I::End,
                ]);
            }
            _ => {
                if self.src.chance(30) {
                    self.expr(f, 0);
                    f.extend([
                        I::I32Const(7),
                        I::I32Eq,
                        I::If(BlockType::Empty),
                        I::Unreachable,
                        I::End,
                    ]);
                } else {
                    self.exit(f);
                }
            }
        }
    }

    /// `jit_state->remaining_reductions -= 1` (labels the loop reaches
    /// spend one reduction per transfer; helpers none).
    fn spend(&mut self, f: &mut Vec<I<'static>>) {
        if !self.helper() {
            f.extend([
                I::LocalGet(1),
                I::LocalGet(1),
                I::I32Load(mem(abi::JIT_STATE_REDUCTIONS)),
                I::I32Const(1),
                I::I32Sub,
                I::I32Store(mem(abi::JIT_STATE_REDUCTIONS)),
            ]);
        }
    }

    fn jump(f: &mut Vec<I<'static>>, label: u32) {
        f.extend([
            I::LocalGet(1),
            I::I32Const(label as i32 + 1),
            I::I32Store(mem(abi::JIT_STATE_CONTINUATION)),
            I::LocalGet(0),
            I::Return,
        ]);
    }

    fn tail_primitive(f: &mut Vec<I<'static>>, n: u32) {
        f.extend([I::LocalGet(0), I::LocalGet(1)]);
        Self::primitive_call(f, 4 * u64::from(n), 1);
        f.push(I::Return);
    }

    /// A transfer of control ending in `return` (valid anywhere).
    fn exit(&mut self, f: &mut Vec<I<'static>>) {
        let target = 1 + self.src.below(self.normal - 1);
        self.spend(f);
        match self.src.below(11) {
            0..=2 => Self::jump(f, target),
            3 => {
                // r = --reductions; if r == 0 { yield at target }; jump target
                if !self.helper() {
                    f.extend([
                        I::LocalGet(1),
                        I::I32Load(mem(abi::JIT_STATE_REDUCTIONS)),
                        I::I32Eqz,
                        I::If(BlockType::Empty),
                        I::LocalGet(1),
                        I::I32Const(target as i32 + 1),
                        I::I32Store(mem(abi::JIT_STATE_CONTINUATION)),
                    ]);
                    Self::tail_primitive(f, prim::SCHEDULE_NEXT_CP);
                    f.push(I::End);
                }
                Self::jump(f, target);
            }
            4 => Self::tail_primitive(f, prim::DO_RETURN),
            5 => Self::tail_primitive(f, prim::TERMINATE),
            6 => {
                let label = 1 + self.src.below(self.other_normal - 1);
                f.extend([
                    I::LocalGet(0),
                    I::LocalGet(1),
                    I::I32Const(self.other_module as i32),
                    I::I32Const(label as i32),
                ]);
                Self::primitive_call(f, 4 * u64::from(prim::CALL_EXT), 3);
                f.push(I::Return);
            }
            7 => {
                let first = self.normal.max(self.label + 1);
                if first < self.n {
                    let h = first + self.src.below(self.n - first);
                    f.extend([
                        I::LocalGet(0),
                        I::LocalGet(1),
                        I::LocalGet(2),
                        I::ReturnCall(h),
                    ]);
                } else {
                    Self::jump(f, target);
                }
            }
            8 => self.inline_return(f),
            9 => {
                // a continuation computed at run time: 0, a label, or none
                let continuation = match self.src.below(4) {
                    0 => 0,
                    1 => self.n + 1 + self.src.below(3),
                    2 => u32::MAX,
                    _ => 1 + self.src.below(self.normal),
                };
                f.extend([
                    I::LocalGet(1),
                    I::I32Const(continuation as i32),
                    I::LocalTee(SCRATCH + self.src.below(4)),
                    I::I32Store(mem(abi::JIT_STATE_CONTINUATION)),
                    I::LocalGet(0),
                    I::Return,
                ]);
            }
            _ => f.extend([I::LocalGet(0), I::Return]),
        }
    }

    /// A return as AtomVM's generator writes it: if `cp` names the module
    /// the loop runs, its label is decoded into the continuation and ctx
    /// returned to the loop; otherwise `do_return` in tail position.
    fn inline_return(&mut self, f: &mut Vec<I<'static>>) {
        f.extend(testgen::inline_return());
        Self::tail_primitive(f, prim::DO_RETURN);
    }

    fn body(&mut self, label: u32) -> Function {
        self.label = label;
        self.depth = 0;
        self.budget = 12;
        let mut f: Vec<I<'static>> = Vec::new();
        // Writes of the parameters, at the start only (see the module doc).
        match self.src.below(16) {
            0 => f.extend([I::I32Const(ALT_IFACE as i32), I::LocalSet(2)]),
            1 => f.extend([I::I32Const(ALT_CTX as i32), I::LocalSet(0)]),
            2 => f.extend([I::I32Const(ALT_JIT_STATE as i32), I::LocalSet(1)]),
            3 => f.extend([I::LocalGet(2), I::LocalSet(2)]),
            _ => {}
        }
        self.statements(&mut f);
        let mut func = Function::new([(8, ValType::I32)]);
        for i in &f {
            func.instruction(i);
        }
        if self.helper() || self.src.chance(80) {
            // the form that ends the body: store, then `local.get 0`
            let target = 1 + self.src.below(self.normal - 1);
            let mut g = Vec::new();
            self.spend(&mut g);
            if self.src.chance(200) {
                g.extend([
                    I::LocalGet(1),
                    I::I32Const(target as i32 + 1),
                    I::I32Store(mem(abi::JIT_STATE_CONTINUATION)),
                ]);
            }
            for i in &g {
                func.instruction(i);
            }
            func.instruction(&I::LocalGet(0));
        } else {
            let mut g = Vec::new();
            self.exit(&mut g);
            for i in &g {
                func.instruction(i);
            }
            func.instruction(&I::LocalGet(0));
        }
        func.instruction(&I::End);
        func
    }
}

/// One generated module: `n` labels, of which `normal` (label 0 included)
/// are reached by the loop and the rest are helpers.
fn module(
    src: &mut Source<'_>,
    this: u32,
    other: u32,
    other_normal: u32,
    normal: u32,
    n: u32,
) -> ModuleSpec {
    let mut g = Gen {
        src,
        types: iface_types(),
        n,
        normal,
        other_normal,
        this_module: this,
        other_module: other,
        label: 0,
        depth: 0,
        budget: 0,
    };
    let _ = g.this_module;
    let mut bodies = vec![testgen::stub()];
    for label in 1..n {
        bodies.push(g.body(label));
    }
    ModuleSpec::standard(bodies)
}

/// A scenario of two generated modules.
pub fn scenario(src: &mut Source<'_>) -> Scenario {
    let shape = |src: &mut Source<'_>| {
        let normal = 2 + src.below(6);
        (normal, normal + src.below(3))
    };
    let (normal0, n0) = shape(src);
    let (normal1, n1) = shape(src);
    let m0 = module(src, 0, 1, normal1, normal0, n0);
    let m1 = module(src, 1, 0, normal0, normal1, n1);
    let mut x = [0u32; 16];
    for v in &mut x {
        *v = src.below(8);
    }
    let mut extra = [0u32; EXTRA_WORDS];
    for v in &mut extra {
        *v = match src.below(4) {
            0 => model::table_index(src.below(77), false),
            1 => 0,
            2 => 0xFFFF,
            _ => src.below(200),
        };
    }
    Scenario {
        streams: vec![testgen::stream_of(&m0), testgen::stream_of(&m1)],
        iface_types: iface_types(),
        entry_module: 0,
        entry_label: 1,
        x,
        extra,
        reductions: 1 + src.below(30) as i32,
        max_slices: 1 + src.below(8),
        fuel: 2_000_000,
    }
}
