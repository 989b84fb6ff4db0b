//! Module rewriting: what the runtime changes in a JIT module before the
//! engine sees it. Sections and instructions it does not change are copied
//! byte for byte. One file per rewrite, all deciding from one shared
//! analysis ([`analysis`]):
//!
//! | file | rewrite | option |
//! |---|---|---|
//! | this one | the memory import matches the program's memory (shared only in `-pthread` builds), minimum 0 pages | always |
//! | `jumps.rs` | a jump gets a guarded `return_call` to its label | [`Options::tail_calls`] |
//! | `primitives.rs` | primitive calls become imports bound to AtomVM's interface; the module drops its table import | [`Options::direct_primitives`] |
//! | `exits.rs` | any other return to the loop gets a guarded `return_call_indirect` to the label it continues at | [`Options::computed_jumps`] (with tail calls) |
//! | `bifs.rs` | a `get_imported_bif` call becomes the memory reads it makes | [`Options::imported_bifs`] (with AtomVM's layout) |
//! | `atoms.rs` | a `module_get_atom_term_by_id` call becomes the memory reads and arithmetic it makes | [`Options::atom_terms`] (with AtomVM's layout) |
//! | `trim.rs` | a `trim_live_regs` call is made only if the process has extended x registers | [`Options::trim_live_regs`] (with AtomVM's layout) |
//! | `small_ints.rs` | a BIF call goes to an added function that answers `+`, `-`, `band`, `bor`, `bxor`, `bsr` of small integers | [`Options::small_int_bifs`] (with AtomVM's BIFs, in a detached module) |
//! | `frames.rs` | an `allocate` or `deallocate` call goes to an added function that makes or drops the frame when no garbage collection is due | [`Options::stack_frames`] (with AtomVM's layout, in a detached module) |
//! | `compare.rs` | a `term_compare` call goes to an added function that answers equal words, small integers, and atoms it has seen | [`Options::immediate_compares`] (with AtomVM's encoding, in a detached module) |
//! | `maps.rs` | a `term_find_map_pos` call, and a BIF call of two arguments, go to added functions that find small integers and atoms among immediate keys (`erlang:map_get/2` for the BIF) | [`Options::map_lookups`], [`Options::map_get_bif`] (with AtomVM's encoding and BIF, in a detached module) |
//! | `heap_allocs.rs` | a `test_heap` call goes to an added function that answers true when no garbage collection is due; a `term_alloc_tuple` call to one that makes the tuple at the heap's top | [`Options::heap_allocs`] (with AtomVM's heap layout, in a detached module) |
//! | `map_updates.rs` | a `jit_put_map_assoc` call goes to an added function that replaces the value of one small integer or atom key the map has | [`Options::map_updates`] (with AtomVM's encoding and heap layout, in a detached module) |
//!
//! A rewrite is decided per function, and per module, from what the
//! analysis proves; where it cannot prove the rewrite exact, or where the
//! result would exceed an engine limit ([`crate::limits`]), the function (or
//! the module) is left as it was. The module must have been validated
//! first: the rewriter relies on it being well formed and never decides
//! whether a module is refused.
//!
//! Passes and memory. [`rewrite`] decodes every body once: the analysis
//! pass records each body's sites (in a vector grown only through
//! [`memory::try_push`]). From those records and the original bytes it then
//! writes every rewritten body once, into a buffer that grows fallibly
//! ([`memory::Grown`]), with the sections that have an entry per label;
//! sizes the module around them (through the code that writes it, into a
//! [`Counter`]), reserves the output exactly, and writes it. Nothing on the
//! way grows with the input except through [`crate::memory`].

pub mod analysis;
mod atoms;
mod bifs;
mod compare;
mod exits;
mod frames;
mod heap_allocs;
mod jumps;
mod map_updates;
mod maps;
mod primitives;
pub mod reader;
mod small_ints;
mod trampolines;
mod trim;

pub use atoms::AtomLayout;
pub use bifs::BifLayout;
pub use frames::HeapLayout;
pub use heap_allocs::HeapBounds;
pub use maps::{BIF2_TYPE as MAP_GET_TYPE, MAP_GET_MODEL};
pub use primitives::INTERFACE_ENTRIES;
pub use small_ints::{SmallIntBifs, CALL_TYPE as SMALL_INT_CALL_TYPE};
pub use trampolines::TRAMPOLINES;
pub use trim::MODEL_OFFSET as TRIM_MODEL_OFFSET;

use crate::error::{Error, Result};
use crate::limits;
use crate::memory::{self, Counter, Fixed, Grown, Sink};
use crate::module::{self, Shape};
use crate::tiering::out_of_line;
use analysis::{BodyFacts, Site};
use memory::BitSet;
use primitives::{Binding, PrimitiveFacts};
use wasm_encoder::{
    BlockType, Encode, EntityType, ImportSection, InstructionSink, MemArg, MemArgTarget,
    MemoryType, RefType, TableType,
};
use wasmparser::{FunctionBody, Payload};

/// The plan's callback for [`analysis::scan`]: called through a pointer, so
/// that the scan, V8's hottest function of a load, stays as small as it is.
type OnSite<'c> = &'c mut dyn FnMut(Site) -> Result<()>;

/// [`analysis::scan`] with the plan's callback, called per body.
type ScanFn<'a, 'c> =
    fn(&'a [u8], &FunctionBody<'a>, u32, usize, OnSite<'c>) -> Result<analysis::BodyFacts>;

/// [`write_body`], called per body.
type WriteBodyFn<'p, S> =
    fn(&mut S, &Plan<'p>, &FunctionBody<'p>, u32, bool, &mut Rewritten, &mut Vec<u8>) -> Result<()>;

/// How to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Whether the program's memory is shared (a `-pthread` build).
    pub shared_memory: bool,
    /// Link jumps with `return_call` (the engine supports tail calls).
    pub tail_calls: bool,
    /// Bind primitives as imports and drop the table import when possible.
    pub direct_primitives: bool,
    /// Link returns to the loop with a computed continuation, such as the
    /// generator's returns within the module, with `return_call_indirect`
    /// (needs `tail_calls`).
    pub computed_jumps: bool,
    /// Read imported BIFs in the module instead of calling
    /// `get_imported_bif`, with AtomVM's struct layout (`None`: off, or the
    /// layout is not known).
    pub imported_bifs: Option<BifLayout>,
    /// Read atom constants in the module instead of calling
    /// `module_get_atom_term_by_id`, with AtomVM's struct layout (`None`:
    /// off, or the layout is not known).
    pub atom_terms: Option<AtomLayout>,
    /// Answer `+`, `-`, `band`, `bor`, `bxor` and `bsr` of small integers
    /// in the module, with AtomVM's BIFs (`None`: off, or they are not
    /// known).
    pub small_int_bifs: Option<SmallIntBifs>,
    /// Make `trim_live_regs` calls only when the process has extended x
    /// registers, with `offsetof(Context, extended_x_regs)` (`None`: off,
    /// or it is not known).
    pub trim_live_regs: Option<u32>,
    /// Answer `term_compare` of equal words, small integers and atoms
    /// already compared in the module (AtomVM's term encoding is known).
    pub immediate_compares: bool,
    /// Make and drop stack frames in the module when no garbage collection
    /// is due, with AtomVM's heap layout (`None`: off, or it is not
    /// known).
    pub stack_frames: Option<HeapLayout>,
    /// Answer `test_heap` when no garbage collection is due, and make
    /// tuples, in the module, with AtomVM's heap bounds (`None`: off, or
    /// they are not known).
    pub heap_allocs: Option<HeapBounds>,
    /// Find small integers and atoms among a map's keys in the module
    /// while they are immediates (AtomVM's term encoding and map layout
    /// are known).
    pub map_lookups: bool,
    /// Answer `erlang:map_get/2` of small integers and atoms among a map's
    /// immediate keys in the module, with the BIF's pointer (`None`: off,
    /// or it is not known).
    pub map_get_bif: Option<u32>,
    /// Replace the value of one small integer or atom key of a map in the
    /// module, with AtomVM's heap layout (`None`: off, or AtomVM's map
    /// updates are not the ones assumed).
    pub map_updates: Option<HeapLayout>,
}

impl Options {
    /// Only the import adaptation: the module as generated otherwise.
    pub const fn plain(shared_memory: bool) -> Options {
        Options {
            shared_memory,
            tail_calls: false,
            direct_primitives: false,
            computed_jumps: false,
            imported_bifs: None,
            atom_terms: None,
            small_int_bifs: None,
            trim_live_regs: None,
            immediate_compares: false,
            stack_frames: None,
            heap_allocs: None,
            map_lookups: false,
            map_get_bif: None,
            map_updates: None,
        }
    }

    /// Every rewrite on (imported BIFs with the model's layout).
    pub const fn all(shared_memory: bool) -> Options {
        Options {
            shared_memory,
            tail_calls: true,
            direct_primitives: true,
            computed_jumps: true,
            imported_bifs: Some(BifLayout::MODEL),
            atom_terms: Some(AtomLayout::MODEL),
            small_int_bifs: Some(SmallIntBifs::MODEL),
            trim_live_regs: Some(trim::MODEL_OFFSET),
            immediate_compares: true,
            stack_frames: Some(HeapLayout::MODEL),
            heap_allocs: Some(HeapBounds::MODEL),
            map_lookups: true,
            map_get_bif: Some(maps::MAP_GET_MODEL),
            map_updates: Some(HeapLayout::MODEL),
        }
    }

    /// The 64 combinations of the six rewrites (computed jumps take
    /// effect only with tail calls; imported BIFs and trims with the
    /// model's layout; small-integer BIFs with the model's BIFs, in
    /// detached modules), for tests. Immediate comparisons, stack frames,
    /// heap checks and map lookups, which also add functions to detached
    /// modules, go with small-integer BIFs: alone, each is in
    /// [`Options::each`]; atom constants go with imported BIFs.
    pub fn every(shared_memory: bool) -> impl Iterator<Item = Options> {
        (0..64u8).map(move |bits| Options {
            shared_memory,
            tail_calls: bits & 1 != 0,
            direct_primitives: bits & 2 != 0,
            computed_jumps: bits & 4 != 0,
            imported_bifs: (bits & 8 != 0).then_some(BifLayout::MODEL),
            atom_terms: (bits & 8 != 0).then_some(AtomLayout::MODEL),
            small_int_bifs: (bits & 16 != 0).then_some(SmallIntBifs::MODEL),
            trim_live_regs: (bits & 32 != 0).then_some(trim::MODEL_OFFSET),
            immediate_compares: bits & 16 != 0,
            stack_frames: (bits & 16 != 0).then_some(HeapLayout::MODEL),
            heap_allocs: (bits & 16 != 0).then_some(HeapBounds::MODEL),
            map_lookups: bits & 16 != 0,
            map_get_bif: (bits & 16 != 0).then_some(maps::MAP_GET_MODEL),
            map_updates: (bits & 16 != 0).then_some(HeapLayout::MODEL),
        })
    }
}

impl Options {
    /// No rewrite, each rewrite alone (with the one it needs: tail calls
    /// for computed jumps, a detached module for small-integer BIFs), and
    /// all of them: for the tests that load streams of megabytes, which
    /// take too long under all 64 combinations of [`Options::every`].
    pub fn each(shared_memory: bool) -> [Options; 14] {
        let plain = Options::plain(shared_memory);
        [
            plain,
            Options {
                tail_calls: true,
                ..plain
            },
            Options {
                direct_primitives: true,
                ..plain
            },
            Options {
                tail_calls: true,
                computed_jumps: true,
                ..plain
            },
            Options {
                imported_bifs: Some(BifLayout::MODEL),
                ..plain
            },
            Options {
                atom_terms: Some(AtomLayout::MODEL),
                ..plain
            },
            Options {
                direct_primitives: true,
                small_int_bifs: Some(SmallIntBifs::MODEL),
                ..plain
            },
            Options {
                trim_live_regs: Some(trim::MODEL_OFFSET),
                ..plain
            },
            Options {
                direct_primitives: true,
                immediate_compares: true,
                ..plain
            },
            Options {
                direct_primitives: true,
                stack_frames: Some(HeapLayout::MODEL),
                ..plain
            },
            Options {
                direct_primitives: true,
                heap_allocs: Some(HeapBounds::MODEL),
                ..plain
            },
            Options {
                direct_primitives: true,
                map_lookups: true,
                map_get_bif: Some(maps::MAP_GET_MODEL),
                ..plain
            },
            Options {
                direct_primitives: true,
                map_updates: Some(HeapLayout::MODEL),
                ..plain
            },
            Options::all(shared_memory),
        ]
    }
}

/// What a rewrite did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rewritten {
    pub wasm: Box<[u8]>,
    /// The module imports no table (primitives are imports).
    pub detached: bool,
    /// Functions whose jumps were linked.
    pub linked_functions: u32,
    /// Jumps given a `return_call` fast path.
    pub linked_jumps: u32,
    /// Other returns to the loop given a `return_call_indirect` fast path.
    pub linked_exits: u32,
    /// Primitive calls turned into calls of imports.
    pub direct_calls: u32,
    /// Computed `call_indirect`s sent through trampolines.
    pub trampolined_calls: u32,
    /// `get_imported_bif` calls replaced by the reads they make.
    pub inlined_bifs: u32,
    /// `module_get_atom_term_by_id` calls replaced by the reads they make.
    pub inlined_atoms: u32,
    /// BIF calls sent to the added function that answers small integers.
    pub small_int_calls: u32,
    /// `trim_live_regs` calls made only with extended x registers.
    pub guarded_trims: u32,
    /// `term_compare` calls sent to the added function that answers
    /// immediates.
    pub compare_calls: u32,
    /// `allocate` and `deallocate` calls sent to the added functions that
    /// make and drop frames.
    pub frame_calls: u32,
    /// `test_heap` and `term_alloc_tuple` calls sent to the added
    /// functions that check the heap and make tuples.
    pub heap_calls: u32,
    /// `term_find_map_pos` calls sent to the added function that finds
    /// immediate keys.
    pub map_calls: u32,
    /// BIF calls of two arguments sent to the added function that answers
    /// `erlang:map_get/2`.
    pub map_get_calls: u32,
    /// `jit_put_map_assoc` calls sent to the added function that updates
    /// one key.
    pub map_update_calls: u32,
}

/// The memory import as the program's memory will satisfy it.
fn memory_import(shared: bool) -> MemoryType {
    MemoryType {
        minimum: 0,
        // A shared memory import must declare a maximum; 65536 pages (4 GiB)
        // accepts every wasm32 memory.
        maximum: shared.then_some(65536),
        memory64: false,
        shared,
        page_size_log2: None,
    }
}

pub(crate) fn table_import() -> TableType {
    TableType {
        element_type: RefType::FUNCREF,
        minimum: 0,
        maximum: None,
        table64: false,
        shared: false,
    }
}

/// An added function's body, size-prefixed as in the code section.
fn added_body(f: &wasm_encoder::Function) -> Vec<u8> {
    let mut out = Vec::with_capacity(f.byte_len() + 5);
    wasm_encoder::Encode::encode(f, &mut out);
    out
}

const fn mem(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 2,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// Opens a counted loop over `i` (from its current value up to `n`):
/// `block`, `loop`, and leaving the block when `i == n`. Inside, `br 0`
/// repeats and `br 1` leaves; [`loop_next`] closes it.
fn loop_until(ins: &mut InstructionSink<'_>, i: u32, n: u32) {
    ins.block(BlockType::Empty)
        .loop_(BlockType::Empty)
        .local_get(i)
        .local_get(n)
        .i32_eq()
        .br_if(1);
}

/// Closes a loop opened by [`loop_until`] (or one opened the same way):
/// `i += 1`, `br 0`, then the loop's and the block's `end`s.
fn loop_next(ins: &mut InstructionSink<'_>, i: u32) {
    ins.local_get(i)
        .i32_const(1)
        .i32_add()
        .local_set(i)
        .br(0)
        .end()
        .end();
}

use module::offset as at;

/// Indices and counts at the edges of their LEB128 lengths, for tests that
/// compare an encoding built from pieces with one built whole.
#[cfg(test)]
pub(crate) const TEST_INDICES: [u32; 12] = [
    0,
    1,
    63,
    64,
    127,
    128,
    300,
    16_383,
    16_384,
    70_000,
    i32::MAX as u32,
    u32::MAX,
];

/// What the passes keep of a function's analysis between planning and
/// writing (stored as one byte a function).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FnFacts {
    /// No `call` or `return_call` targets it: only the dispatch loop (or a
    /// linked jump, which keeps the loop's state) enters it, with the loop's
    /// ctx, jit_state and interface.
    pub entered_by_loop: bool,
    /// It has jump sequences.
    pub has_jumps: bool,
    /// It has other returns to the loop (`exits.rs`).
    pub has_exits: bool,
    /// It never writes locals 0-2.
    pub params_read_only: bool,
    /// It writes local 2 (the native interface).
    pub writes_p: bool,
    /// [`JUMP_LOCALS`] more locals keep it within the engine's limit.
    pub locals_room: bool,
    /// [`JUMP_LOCALS`] + [`EXIT_LOCALS`] more locals do too.
    pub exits_room: bool,
}

/// Locals a linked function gets: the entry module.
pub const JUMP_LOCALS: u32 = 1;
/// Locals a function whose exits get fast paths gets besides: the label.
pub const EXIT_LOCALS: u32 = 1;

impl FnFacts {
    fn of(facts: &BodyFacts) -> FnFacts {
        FnFacts {
            entered_by_loop: true, // set from the call targets when read back
            has_jumps: facts.has_jumps,
            has_exits: facts.has_exits,
            params_read_only: facts.params_written == 0,
            writes_p: facts.writes_param(2),
            locals_room: facts.num_locals + u64::from(JUMP_LOCALS) <= limits::MAX_FUNCTION_LOCALS,
            exits_room: facts.num_locals + u64::from(JUMP_LOCALS + EXIT_LOCALS)
                <= limits::MAX_FUNCTION_LOCALS,
        }
    }

    fn to_byte(self) -> u8 {
        u8::from(self.has_jumps)
            | u8::from(self.params_read_only) << 1
            | u8::from(self.writes_p) << 2
            | u8::from(self.locals_room) << 3
            | u8::from(self.has_exits) << 4
            | u8::from(self.exits_room) << 5
    }

    fn from_byte(b: u8, entered_by_loop: bool) -> FnFacts {
        FnFacts {
            entered_by_loop,
            has_jumps: b & 1 != 0,
            params_read_only: b & 2 != 0,
            writes_p: b & 4 != 0,
            locals_room: b & 8 != 0,
            has_exits: b & 16 != 0,
            exits_room: b & 32 != 0,
        }
    }
}

/// Everything decided before writing.
struct Plan<'a> {
    wasm: &'a [u8],
    base: usize,
    num_functions: u32,
    opts: Options,
    prims: PrimitiveFacts,
    binding: Binding,
    /// Functions some `call` or `return_call` targets.
    called: BitSet,
    /// Per function: [`FnFacts`] as bytes.
    flags: Vec<u8>,
    /// Every body's sites in code order, as the analysis reported them:
    /// recorded by the one pass that decodes the bodies, so that sizing
    /// and writing do not decode them again.
    sites: Vec<Site>,
    /// Per function: the end of its sites in `sites`.
    site_ends: Vec<u32>,
    /// The module defines tables, globals or element segments of its own:
    /// the rewrites that add their own leave it as it is.
    defines_items: bool,
    /// The code section's payload ([`Shape::code`]).
    code: std::ops::Range<u64>,
    /// Index of the table of the module's own label functions, if computed
    /// jumps are linked.
    own_table: Option<u32>,
    /// Some `call_indirect` has standard type [`small_ints::CALL_TYPE`].
    bif_calls: bool,
    /// Some `call_indirect` has standard type [`maps::BIF2_TYPE`].
    bif2_calls: bool,
    /// The functions added after the labels.
    added: Added,
}

/// The functions added after the label functions (`small_ints.rs`,
/// `compare.rs`), each with its type and its body, size-prefixed, and
/// the globals they use.
#[derive(Default)]
struct Added {
    functions: Vec<(u32, Vec<u8>)>,
    /// Function index of `small_ints.rs`' function.
    small_ints: Option<u32>,
    /// Function index of `maps.rs`' `map_get` function.
    map_get: Option<u32>,
    /// Bound entries whose calls go to an added function (`compare.rs`,
    /// `frames.rs`): (entry, standard type), function index.
    redirects: Vec<((usize, u8), u32)>,
    /// The payload of the global section to add (`compare.rs`' cache).
    globals: Option<Vec<u8>>,
}

impl Added {
    /// Adds the function of type `ty` with `body` at index `*next`, and
    /// moves `next` past it; answers its index.
    fn add(&mut self, next: &mut u32, ty: u32, body: Vec<u8>) -> u32 {
        self.functions.push((ty, body));
        *next += 1;
        *next - 1
    }

    /// The added function that takes the computed calls of standard type
    /// `s`, if any: `small_ints.rs`' for BIFs of two arguments with a live
    /// count (type 4), `maps.rs`' `map_get` for those without (type 3).
    fn bif_function(&self, s: Option<u8>) -> Option<u32> {
        match s {
            Some(small_ints::CALL_TYPE) => self.small_ints,
            Some(maps::BIF2_TYPE) => self.map_get,
            _ => None,
        }
    }
}

impl Plan<'_> {
    /// Imported functions in the rewritten module (shifting label indices).
    fn k(&self) -> u32 {
        self.binding.imported_functions()
    }

    fn renumber(&self) -> bool {
        self.binding.detached && self.k() > 0
    }

    fn facts(&self, f: u32) -> FnFacts {
        let byte = self.flags.get(f as usize).copied().unwrap_or(0);
        FnFacts::from_byte(byte, !self.called.contains(f))
    }

    /// Function `f`'s sites, in code order.
    fn sites(&self, f: u32) -> &[Site] {
        let f = f as usize;
        let start = match f.checked_sub(1) {
            Some(g) => self.site_ends.get(g).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.site_ends.get(f).copied().unwrap_or(start);
        self.sites.get(start as usize..end as usize).unwrap_or(&[])
    }
}

/// The bodies of the code section at `code` (as [`module::check`] found
/// it), in order. Read here rather than through the parser's loop over
/// payloads, which would run once per body and so be one more function V8
/// optimises at every page load (`tiering.rs`).
fn bodies<'a>(
    wasm: &'a [u8],
    code: &std::ops::Range<u64>,
    base: usize,
) -> impl Iterator<Item = Result<FunctionBody<'a>>> {
    let mut failed = None;
    let mut reader = None;
    let mut left = 0;
    if !code.is_empty() {
        match wasm.get(at(code.start)..at(code.end)) {
            Some(bytes) => {
                let mut r =
                    wasmparser::BinaryReader::new_features(bytes, code.start, module::features());
                match r.read_var_u32() {
                    Ok(count) => (reader, left) = (Some(r), count),
                    Err(e) => failed = Some(Error::module(&e, base)),
                }
            }
            None => failed = Some(Error::shape("the code section runs past the module")),
        }
    }
    std::iter::from_fn(move || {
        if let Some(e) = failed.take() {
            return Some(Err(e));
        }
        let r = reader.as_mut().filter(|_| left > 0)?;
        left -= 1;
        let body = r
            .read_reader()
            .map(FunctionBody::new)
            .map_err(|e| Error::module(&e, base));
        if body.is_err() {
            left = 0;
        }
        Some(body)
    })
}

/// Rewrites a module that passed [`module::check`] (`shape` is its result)
/// and validated. `base` is the module's offset in the stream, for messages.
/// The code, and the sections of one entry per label, are written once
/// ([`Parts`]); the module around them is sized, then written into a
/// buffer of that size.
pub fn rewrite(wasm: &[u8], shape: &Shape<'_>, opts: Options, base: usize) -> Result<Rewritten> {
    let mut stats = Rewritten::default();
    let (mut plan, mut parts) = plan_and_parts(wasm, shape, opts, base, &mut stats)?;
    let mut size = module_size(&plan, &parts)?;
    if size > limits::MAX_MODULE_SIZE && (plan.binding.detached || opts.tail_calls) {
        // Too large for the engine once rewritten: only adapt the imports.
        stats = Rewritten::default();
        let plain = Options::plain(opts.shared_memory);
        (plan, parts) = plan_and_parts(wasm, shape, plain, base, &mut stats)?;
        size = module_size(&plan, &parts)?;
    }
    stats.detached = plan.binding.detached;
    let mut out = Fixed::new(size, "the rewritten module")?;
    let write: fn(&mut Fixed, &Plan<'_>, &Parts) -> Result<()> = write_module;
    out_of_line(write)(&mut out, &plan, &parts)?;
    stats.wasm = out.finish()?;
    Ok(stats)
}

/// What is written in full before the module around it, each encoded once
/// (the module is sized, then written): the code section's entries
/// ([`write_code`]), the import section, and the payloads of the sections
/// that have an entry per label, if the rewrite writes them.
struct Parts {
    code: Grown,
    /// The whole import section (a few dozen imports at most).
    imports: Vec<u8>,
    exports: Option<Grown>,
    elements: Option<Grown>,
}

/// The plan and the parts written under it. If a body would exceed the
/// engine's limit with renumbered calls alone, the module keeps its table
/// and calls instead.
fn plan_and_parts<'a>(
    wasm: &'a [u8],
    shape: &Shape<'_>,
    opts: Options,
    base: usize,
    stats: &mut Rewritten,
) -> Result<(Plan<'a>, Parts)> {
    let mut plan = plan(wasm, shape, opts, base)?;
    let write: fn(&Plan<'_>, &mut Rewritten) -> Result<Option<Grown>> = write_code;
    let code = match out_of_line(write)(&plan, stats)? {
        Some(code) => code,
        None => {
            *stats = Rewritten::default();
            plan.binding = Binding::none();
            plan.own_table = own_table(&plan);
            plan.added = Added::default();
            out_of_line(write)(&plan, stats)?
                .ok_or_else(|| Error::shape("a function body exceeds the engine's size limit"))?
        }
    };
    // Out of line: each loops over every label (`tiering.rs`).
    let (n, k) = (plan.num_functions, plan.k());
    let exports = match plan.renumber() {
        true => Some(out_of_line(write_exports as fn(u32, u32) -> _)(n, k)?),
        false => None,
    };
    let elements = match plan.own_table {
        Some(table) => Some(out_of_line(write_elements as fn(u32, u32, u32) -> _)(
            table, n, k,
        )?),
        None => None,
    };
    let parts = Parts {
        code,
        imports: import_section(&plan),
        exports,
        elements,
    };
    Ok((plan, parts))
}

/// The analysis pass and the decisions.
fn plan<'a>(wasm: &'a [u8], shape: &Shape<'_>, opts: Options, base: usize) -> Result<Plan<'a>> {
    let n = shape.num_functions;
    let mut plan = Plan {
        wasm,
        base,
        num_functions: n,
        opts,
        prims: PrimitiveFacts::new(&shape.types)?,
        binding: Binding::none(),
        called: BitSet::new(n, "the call target set")?,
        flags: memory::try_vec(n as usize, "the function facts")?,
        sites: Vec::new(),
        site_ends: memory::try_vec(n as usize, "the rewrite site ranges")?,
        defines_items: shape.defines_items,
        code: shape.code.clone(),
        own_table: None,
        bif_calls: false,
        bif2_calls: false,
        added: Added::default(),
    };
    let scan: fn(&mut Plan<'_>) -> Result<()> = scan_bodies;
    out_of_line(scan)(&mut plan)?;
    plan.binding = plan
        .prims
        .binding(opts.direct_primitives, shape.types.len());
    plan.own_table = own_table(&plan);
    plan.added = added_functions(&plan);
    Ok(plan)
}

/// The analysis of every body: its sites and facts into the plan. Its own
/// function, out of line: it loops over every body (`tiering.rs`).
fn scan_bodies(plan: &mut Plan<'_>) -> Result<()> {
    let (wasm, base, n) = (plan.wasm, plan.base, plan.num_functions);
    for body in bodies(wasm, &plan.code, base) {
        let body = body?;
        let scan: ScanFn<'_, '_> = analysis::scan;
        let facts = out_of_line(scan)(wasm, &body, n, base, &mut |site| {
            plan.prims.observe(&site);
            memory::try_push(&mut plan.sites, site, "the rewrite sites")?;
            match site {
                Site::Call { func, .. } => {
                    plan.called.insert(func);
                }
                Site::Computed { ty, .. } => {
                    let s = plan.prims.standard(ty);
                    plan.bif_calls |= s == Some(small_ints::CALL_TYPE);
                    plan.bif2_calls |= s == Some(maps::BIF2_TYPE);
                }
                _ => {}
            }
            Ok(())
        })?;
        plan.prims.end_function(&facts);
        if plan.flags.len() == n as usize {
            return Err(Error::shape(
                "the code section has more bodies than functions",
            ));
        }
        plan.flags.push(FnFacts::of(&facts).to_byte());
        // At most one site per instruction, in a module under 2^30 bytes.
        plan.site_ends.push(plan.sites.len() as u32);
    }
    Ok(())
}

/// The index of the table of the module's own label functions, if some
/// exit may get a fast path: after the imported table, if any.
fn own_table(plan: &Plan<'_>) -> Option<u32> {
    let o = plan.opts;
    let wanted = o.tail_calls && o.computed_jumps && !plan.defines_items;
    let any = (0..plan.num_functions).any(|f| exits_fit(plan.facts(f)));
    (wanted && any).then_some(u32::from(!plan.binding.detached))
}

/// The functions the module gets, after its labels at `k + n`:
/// `small_ints.rs`' if it has BIF calls and is detached (so it has
/// `ci.t4`); `compare.rs`' if it binds entry 11 with its type and defines
/// no globals; `frames.rs`' for entries 5 and 9 it binds with their
/// types; `maps.rs`' if it binds entry 49 with its type, and its
/// `map_get` if it has BIF calls of two arguments and is detached (so it
/// has `ci.t3`); `map_updates.rs`' if it binds entry 63 with its type;
/// `heap_allocs.rs`' for entries 12 and 16 it binds with their types.
/// Nine more functions stay within the engine's limit: every
/// function is an exported label, and exports are limited far below
/// functions (checked at load).
fn added_functions(plan: &Plan<'_>) -> Added {
    const _: () = assert!(limits::MAX_EXPORTS + 9 <= limits::MAX_FUNCTIONS);
    let b = &plan.binding;
    let mut added = Added::default();
    let mut next = plan.k() + plan.num_functions;
    let tail = plan.opts.tail_calls;
    // The type and function of trampoline `ci.t<s>`, which a function
    // taking the module's computed `calls` of standard type `s` falls back
    // on, if it has such calls and is detached.
    let trampoline = |s: u8, calls: bool| {
        (calls && b.detached && b.has_trampoline(s))
            .then(|| (b.trampoline_type(s), b.trampoline_func(s)))
    };
    let small_ints = trampoline(small_ints::CALL_TYPE, plan.bif_calls);
    if let (Some(bifs), Some((ty, t4))) = (plan.opts.small_int_bifs, small_ints) {
        let body = small_ints::function(bifs, t4, tail);
        added.small_ints = Some(added.add(&mut next, ty, body));
    }
    let map_get = trampoline(maps::BIF2_TYPE, plan.bif2_calls);
    if let (Some(bif), Some((ty, t3))) = (plan.opts.map_get_bif, map_get) {
        added.map_get = Some(added.add(&mut next, ty, maps::map_get(bif, t3, tail)));
    }
    // A function taking the calls of bound entry `entry` of standard type
    // `s`, given the import it falls back on.
    let mut redirect = |entry: usize, s: u8, body: &dyn Fn(u32) -> Vec<u8>| {
        let bound = b.bound_entry(entry, s);
        if let (Some(import), Some(ty)) = (bound, plan.prims.type_of_standard(s)) {
            let func = added.add(&mut next, ty, body(import));
            added.redirects.push(((entry, s), func));
            true
        } else {
            false
        }
    };
    let mut globals = false;
    if plan.opts.immediate_compares && !plan.defines_items {
        let (n, s) = (compare::TERM_COMPARE, compare::ENTRY_TYPE);
        globals = redirect(n, s, &|import| compare::function(import, tail));
    }
    if let Some(layout) = plan.opts.stack_frames {
        let (n, s) = (frames::ALLOCATE, frames::ALLOCATE_TYPE);
        redirect(n, s, &|import| frames::allocate(layout, import, tail));
        let (n, s) = (frames::DEALLOCATE, frames::DEALLOCATE_TYPE);
        redirect(n, s, &|import| frames::deallocate(layout, import, tail));
    }
    if let Some(bounds) = plan.opts.heap_allocs {
        let (n, s) = (heap_allocs::TEST_HEAP, heap_allocs::TEST_HEAP_TYPE);
        redirect(n, s, &|import| heap_allocs::test_heap(bounds, import, tail));
        let (n, s) = (heap_allocs::ALLOC_TUPLE, heap_allocs::ALLOC_TUPLE_TYPE);
        redirect(n, s, &|_| heap_allocs::alloc_tuple(bounds));
    }
    if plan.opts.map_lookups {
        let (n, s) = (maps::TERM_FIND_MAP_POS, maps::ENTRY_TYPE);
        redirect(n, s, &|import| maps::function(import, tail));
    }
    if let Some(layout) = plan.opts.map_updates {
        let (n, s) = (map_updates::PUT_MAP_ASSOC, map_updates::ENTRY_TYPE);
        redirect(n, s, &|import| map_updates::function(layout, import, tail));
    }
    if globals {
        added.globals = Some(compare::globals());
    }
    added
}

/// Whether a function's exits can get fast paths, given a table.
fn exits_fit(facts: FnFacts) -> bool {
    facts.has_exits && facts.exits_room && jumps::returns_to_the_loop(&facts)
}

/// Whether function `f`'s exits get fast paths if it is linked.
fn links_exits(plan: &Plan<'_>, f: u32) -> bool {
    plan.own_table.is_some() && exits_fit(plan.facts(f))
}

/// Whether function `f`'s jumps and exits get fast paths (before the
/// size check).
fn links(plan: &Plan<'_>, f: u32) -> bool {
    let facts = plan.facts(f);
    plan.opts.tail_calls && (jumps::may_link(&facts) || links_exits(plan, f))
}

/// The code section's entries under the plan: every body, size-prefixed,
/// then the added functions. Decides per function whether its jumps are
/// linked: not if that makes the body exceed the engine's limit. `None` if
/// a body exceeds it even unlinked. Each body is written once (twice if
/// linking it made it too large), into a buffer it is then copied from.
fn write_code(plan: &Plan<'_>, stats: &mut Rewritten) -> Result<Option<Grown>> {
    // The rewritten code is about the size of the original.
    let guess = plan.wasm.len().saturating_add(plan.wasm.len() / 8);
    let mut code = Grown::new(guess, "the rewritten code")?;
    let mut body_out = Grown::new(4096, "a rewritten body")?;
    // The instructions of one site's rewrite: a few dozen bytes.
    let mut scratch = Vec::with_capacity(64);
    let write: WriteBodyFn<'_, Grown> = write_body;
    for (f, body) in bodies(plan.wasm, &plan.code, plan.base).enumerate() {
        let body = body?;
        let f = f as u32;
        let link = links(plan, f);
        // Only a linked body may be written again: keep the counts before it.
        let before = link.then(|| stats.clone());
        body_out.truncate(0);
        out_of_line(write)(&mut body_out, plan, &body, f, link, stats, &mut scratch)?;
        if let (Some(before), true) = (before, body_out.len() > limits::MAX_FUNCTION_SIZE) {
            *stats = before;
            body_out.truncate(0);
            out_of_line(write)(&mut body_out, plan, &body, f, false, stats, &mut scratch)?;
        }
        if body_out.len() > limits::MAX_FUNCTION_SIZE {
            return Ok(None);
        }
        // At most MAX_FUNCTION_SIZE, which is far below 2^32.
        put_u32(&mut code, body_out.len() as u32)?;
        code.put(body_out.bytes())?;
    }
    for (_, added) in &plan.added.functions {
        code.put(added)?;
    }
    Ok(Some(code))
}

/// Writes `bytes` of the original module.
fn copy(sink: &mut impl Sink, wasm: &[u8], range: std::ops::Range<usize>) -> Result<()> {
    let bytes = wasm
        .get(range.clone())
        .ok_or_else(|| Error::shape(format!("bytes {range:?} run past the module")))?;
    sink.put(bytes)
}

/// Writes `v` as an unsigned LEB128 (on the stack: this runs for every body).
fn put_u32(sink: &mut impl Sink, v: u32) -> Result<()> {
    let mut b = [0u8; 5];
    let n = module::leb_u32(v, &mut b);
    sink.put(&b[..n])
}

fn leb_len(v: u32) -> usize {
    match v {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ => 5,
    }
}

/// Writes one body (without its size field): its locals, plus one i32 and
/// the entry read if `link`, then its code with every site's rewrite.
fn write_body(
    sink: &mut impl Sink,
    plan: &Plan<'_>,
    body: &FunctionBody<'_>,
    f: u32,
    link: bool,
    stats: &mut Rewritten,
    scratch: &mut Vec<u8>,
) -> Result<()> {
    let scratch = &mut *scratch;
    let wasm = plan.wasm;
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, plan.base);
    let start = at(body.range().start);
    let mut locals = body.get_locals_reader().map_err(bad)?;
    let groups = locals.get_count();
    let mut num_locals: u32 = 3;
    for _ in 0..groups {
        num_locals = num_locals.saturating_add(locals.read().map_err(bad)?.0);
    }
    let ops_start = at(locals.original_position());
    scratch.clear();
    let exits_table = plan.own_table.filter(|_| link && links_exits(plan, f));
    if link {
        // The groups, one more: the entry module at index num_locals, and
        // the exits' scratch label after it.
        let first_group = start + leb_len(groups);
        put_u32(sink, groups + 1)?;
        copy(sink, wasm, first_group..ops_start)?;
        let extra = JUMP_LOCALS
            + if exits_table.is_some() {
                EXIT_LOCALS
            } else {
                0
            };
        put_u32(sink, extra)?;
        wasm_encoder::ValType::I32.encode(scratch);
        jumps::entry(scratch, num_locals);
        sink.put(scratch)?;
    } else {
        copy(sink, wasm, start..ops_start)?;
    }
    let k = plan.k();
    let facts = plan.facts(f);
    let p_is_interface = facts.entered_by_loop && !facts.writes_p;
    let tail_calls = plan.opts.tail_calls;
    let mut pos = ops_start;
    for &site in plan.sites(f) {
        scratch.clear();
        // A `get_imported_bif` call read in place (`bifs.rs`): its range.
        let inlined = plan
            .opts
            .imported_bifs
            .and_then(|layout| bifs::inline(scratch, layout, &plan.prims, &site, p_is_interface));
        // A `module_get_atom_term_by_id` call read in place (`atoms.rs`).
        let atom = match inlined {
            Some(_) => None,
            None => plan.opts.atom_terms.and_then(|layout| {
                atoms::inline(scratch, layout, &plan.prims, &site, p_is_interface)
            }),
        };
        let (from, to) = match site {
            Site::Exit { at } => {
                let Some(table) = exits_table else {
                    continue;
                };
                let (n, label_type) = (plan.num_functions, module::LABEL_TYPE);
                exits::fast_path(scratch, num_locals, num_locals + 1, n, table, label_type);
                stats.linked_exits += 1;
                (at, at) // inserted; the original return follows
            }
            Site::Jump { at, label } if link => {
                jumps::fast_path(scratch, label + k, num_locals);
                stats.linked_jumps += 1;
                (at, at) // inserted; the original jump follows
            }
            Site::Call {
                start,
                end,
                func,
                tail,
            } if plan.renumber() => {
                let mut ins = wasm_encoder::InstructionSink::new(scratch);
                if tail {
                    ins.return_call(func + k);
                } else {
                    ins.call(func + k);
                }
                (start, end)
            }
            Site::Computed { start, end, ty }
                if plan.added.bif_function(plan.prims.standard(ty)).is_some() =>
            {
                let standard = plan.prims.standard(ty);
                let func = plan.added.bif_function(standard).unwrap_or_default();
                wasm_encoder::InstructionSink::new(scratch).call(func);
                if standard == Some(small_ints::CALL_TYPE) {
                    stats.small_int_calls += 1;
                } else {
                    stats.map_get_calls += 1;
                }
                (start, end)
            }
            _ if inlined.is_some() => {
                stats.inlined_bifs += 1;
                inlined.unwrap_or_default()
            }
            _ if atom.is_some() => {
                stats.inlined_atoms += 1;
                atom.unwrap_or_default()
            }
            Site::Primitive { .. } | Site::Computed { .. } => {
                let r = plan
                    .binding
                    .replacement(&plan.prims, &site, p_is_interface, tail_calls);
                // A `trim_live_regs` call behind its test (`trim.rs`); in a
                // function whose local 2 is the interface the call is bound
                // (or, in a module that keeps its table, left as it is).
                let bound = r.map(|r| r.func);
                let trimmed = plan.opts.trim_live_regs.and_then(|offset| {
                    let call = trim::Call {
                        bound,
                        wasm,
                        prims: &plan.prims,
                    };
                    trim::guard(scratch, offset, call, &site, p_is_interface)
                });
                if let Some(range) = trimmed {
                    stats.guarded_trims += 1;
                    stats.direct_calls += u32::from(bound.is_some());
                    range
                } else {
                    let Some(r) = r else {
                        continue;
                    };
                    // A call answered in the module (`compare.rs`, `frames.rs`).
                    let redirect = plan
                        .added
                        .redirects
                        .iter()
                        .find(|(entry, _)| r.entry == Some(*entry));
                    let func = redirect.map_or(r.func, |(_, func)| *func);
                    let mut ins = wasm_encoder::InstructionSink::new(scratch);
                    if r.tail {
                        ins.return_call(func);
                    } else {
                        ins.call(func);
                    }
                    match redirect.map(|((entry, _), _)| *entry) {
                        Some(compare::TERM_COMPARE) => stats.compare_calls += 1,
                        Some(maps::TERM_FIND_MAP_POS) => stats.map_calls += 1,
                        Some(map_updates::PUT_MAP_ASSOC) => stats.map_update_calls += 1,
                        Some(heap_allocs::TEST_HEAP | heap_allocs::ALLOC_TUPLE) => {
                            stats.heap_calls += 1
                        }
                        Some(_) => stats.frame_calls += 1,
                        None => {}
                    }
                    if r.direct {
                        stats.direct_calls += 1;
                    } else {
                        stats.trampolined_calls += 1;
                    }
                    (r.from, r.to)
                }
            }
            _ => continue,
        };
        if from < pos {
            return Err(Error::shape("internal error: rewrite sites overlap"));
        }
        copy(sink, wasm, pos..from)?;
        sink.put(scratch)?;
        pos = to;
    }
    copy(sink, wasm, pos..at(body.range().end))?;
    if link {
        stats.linked_functions += 1;
    }
    Ok(())
}

/// The size of the rewritten module around `parts`.
fn module_size(plan: &Plan<'_>, parts: &Parts) -> Result<usize> {
    let mut counter = Counter::default();
    write_module(&mut counter, plan, parts)?;
    Ok(counter.0)
}

/// Writes the rewritten module around `parts`.
fn write_module<S: Sink>(sink: &mut S, plan: &Plan<'_>, parts: &Parts) -> Result<()> {
    let wasm = plan.wasm;
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, plan.base);
    sink.put(&wasm[..8])?;
    // Sections the rewrite adds, written before the first original section
    // that comes after them in the module's order.
    let mut added = AddedSections::default();
    for payload in module::Sections::new(wasm, plan.base) {
        let payload = payload?;
        if let Some((id, _)) = payload.as_section() {
            added.write_before(sink, plan, parts, section_rank(id))?;
        }
        match &payload {
            Payload::Version { .. } => {}
            Payload::TypeSection(reader) if plan.binding.added_types() > 0 => {
                let range = at(reader.range().start)..at(reader.range().end);
                let mut r = wasmparser::BinaryReader::new(&wasm[range.clone()], 0);
                let count = r.read_var_u32().map_err(bad)?;
                let entries = range.start + r.current_position()..range.end;
                let mut added = Counter::default();
                plan.binding.write_added_types(&mut added)?;
                let total = count + plan.binding.added_types();
                sink.put(&[1])?;
                put_u32(sink, (leb_len(total) + entries.len() + added.0) as u32)?;
                put_u32(sink, total)?;
                copy(sink, wasm, entries)?;
                plan.binding.write_added_types(sink)?;
            }
            Payload::ImportSection(_) => sink.put(&parts.imports)?,
            Payload::ExportSection(_) if plan.renumber() => {
                let exports = parts.exports.as_ref().map_or(&[][..], Grown::bytes);
                write_section(sink, 7, exports)?;
            }
            Payload::FunctionSection(reader) if !plan.added.functions.is_empty() => {
                let range = at(reader.range().start)..at(reader.range().end);
                let mut r = wasmparser::BinaryReader::new(&wasm[range.clone()], 0);
                let count = r.read_var_u32().map_err(bad)?;
                let entries = range.start + r.current_position()..range.end;
                let added = &plan.added.functions;
                let total = count + added.len() as u32;
                let types: usize = added.iter().map(|(ty, _)| leb_len(*ty)).sum();
                sink.put(&[3])?;
                put_u32(sink, (leb_len(total) + entries.len() + types) as u32)?;
                put_u32(sink, total)?;
                copy(sink, wasm, entries)?;
                for (ty, _) in added {
                    put_u32(sink, *ty)?;
                }
            }
            Payload::CodeSectionStart { count, .. } => {
                let count = count + plan.added.functions.len() as u32;
                let code = parts.code.bytes();
                let len = u32::try_from(leb_len(count) + code.len())
                    .map_err(|_| Error::shape("the rewritten code section exceeds 4 GiB"))?;
                sink.put(&[10])?;
                put_u32(sink, len)?;
                put_u32(sink, count)?;
                sink.put(code)?;
            }
            Payload::CodeSectionEntry(_) => {} // in `parts.code`
            Payload::CustomSection(_) if plan.renumber() => {} // names would be off by k
            other => {
                if let Some((id, range)) = other.as_section() {
                    let range = at(range.start)..at(range.end);
                    sink.put(&[id])?;
                    put_u32(sink, range.len() as u32)?;
                    copy(sink, wasm, range)?;
                }
            }
        }
    }
    added.write_before(sink, plan, parts, u8::MAX)
}

/// The module as it came but for its memory import, which is made to
/// match the program's memory ([`memory_import`]): what a module is placed
/// as before it proves hot (`registry.rs`). Reads the sections' headers
/// only, never a body, so it costs a copy of the module.
///
/// The imports it replaces are validated first, as the engine would
/// validate them ([`imports_refused`]): adapting must never make a module
/// the engine refuses into one it accepts.
pub fn adapt_imports(
    wasm: &[u8],
    shape: &Shape<'_>,
    shared_memory: bool,
    base: usize,
) -> Result<Box<[u8]>> {
    if let Some(why) = imports_refused(shape) {
        return Err(Error::new(
            crate::error::ErrorKind::BadModule,
            format!("CompileError: {why} (module at stream offset {base})"),
        ));
    }
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "memory",
        EntityType::Memory(memory_import(shared_memory)),
    );
    import_table(&mut imports);
    let imports = sized_section(&imports);
    let mut size = Counter::default();
    write_adapted(&mut size, wasm, &imports, base)?;
    let mut out = Fixed::new(size.0, "the module with its imports adapted")?;
    write_adapted(&mut out, wasm, &imports, base)?;
    out.finish()
}

/// Why the engine refuses the imports `shape` describes, if it does: the
/// limits the specification and V8 (node 20) put on an imported memory and
/// table, the ones [`adapt_imports`] replaces. (The check already refused
/// any other import. A table's minimum above the table the program has is
/// no refusal: the rewrite at load drops it as this adaptation does.)
pub fn imports_refused(shape: &Shape<'_>) -> Option<String> {
    const PAGES: u64 = 65536;
    let (m, t) = (shape.memory, shape.table);
    if m.initial > PAGES || m.maximum.is_some_and(|max| max > PAGES) {
        return Some(format!("memory size must be at most {PAGES} pages (4GiB)"));
    }
    if m.maximum.is_some_and(|max| max < m.initial) {
        return Some("memory import: size minimum must not be greater than maximum".into());
    }
    if m.shared && m.maximum.is_none() {
        return Some("shared memory must have maximum size".into());
    }
    if t.shared {
        return Some("table import: a table cannot be shared".into());
    }
    if t.maximum.is_some_and(|max| max < t.initial) {
        return Some("table import: size minimum must not be greater than maximum".into());
    }
    None
}

/// Writes `wasm` with its import section replaced by `imports` (a whole
/// section), every other section copied.
fn write_adapted(sink: &mut impl Sink, wasm: &[u8], imports: &[u8], base: usize) -> Result<()> {
    sink.put(wasm.get(..8).unwrap_or_default())?;
    for payload in module::Sections::new(wasm, base) {
        match payload? {
            Payload::ImportSection(_) => sink.put(imports)?,
            other => {
                if let Some((id, range)) = other.as_section() {
                    let range = at(range.start)..at(range.end);
                    let len = u32::try_from(range.len())
                        .map_err(|_| Error::shape("a section exceeds 4 GiB"))?;
                    sink.put(&[id])?;
                    put_u32(sink, len)?;
                    copy(sink, wasm, range)?;
                }
            }
        }
    }
    Ok(())
}

/// A section's place in a module's order (custom sections: anywhere, 0).
fn section_rank(id: u8) -> u8 {
    match id {
        0 => 0,
        12 => 10, // data count: after elements, before code
        10 => 11,
        11 => 12,
        id => id,
    }
}

/// The sections a rewrite adds to a module that has none of their kind
/// (`Plan::defines_items` keeps the rewrites that need them off otherwise).
#[derive(Default)]
struct AddedSections {
    table: bool,
    globals: bool,
    elements: bool,
}

impl AddedSections {
    /// Writes the added sections that come before rank `rank`, in the
    /// module's order: table (4), globals (6), elements (9).
    fn write_before(
        &mut self,
        sink: &mut impl Sink,
        plan: &Plan<'_>,
        parts: &Parts,
        rank: u8,
    ) -> Result<()> {
        if rank == 0 {
            return Ok(());
        }
        let n = plan.num_functions;
        if let (false, true, Some(_)) = (self.table, rank > 4, plan.own_table) {
            // One funcref table of exactly n entries.
            let mut payload = vec![1, 0x70, 0x01];
            n.encode(&mut payload);
            n.encode(&mut payload);
            sink.put(&[4])?;
            put_u32(sink, payload.len() as u32)?;
            sink.put(&payload)?;
            self.table = true;
        }
        if let (false, true, Some(globals)) = (self.globals, rank > 6, &plan.added.globals) {
            sink.put(&[6])?;
            put_u32(sink, globals.len() as u32)?;
            sink.put(globals)?;
            self.globals = true;
        }
        if let (false, true, Some(elements)) = (self.elements, rank > 9, &parts.elements) {
            // Label functions 0..n at 0.. of the own table.
            write_section(sink, 9, elements.bytes())?;
            self.elements = true;
        }
        Ok(())
    }
}

/// The import section: the memory, then the primitives and trampolines the
/// module binds, or the table it keeps.
fn import_section(plan: &Plan<'_>) -> Vec<u8> {
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "memory",
        EntityType::Memory(memory_import(plan.opts.shared_memory)),
    );
    if plan.binding.detached {
        plan.binding.imports(&plan.prims, &mut imports);
    } else {
        import_table(&mut imports);
    }
    sized_section(&imports)
}

/// Adds the import of the program's table, as a module that keeps it.
fn import_table(imports: &mut ImportSection) {
    imports.import(
        "env",
        "__indirect_function_table",
        EntityType::Table(table_import()),
    );
}

/// The whole import section: its id, then (as encoding a section writes
/// them) its size and its payload.
fn sized_section(imports: &ImportSection) -> Vec<u8> {
    let mut sized = vec![2];
    imports.encode(&mut sized);
    sized
}

/// Writes a section: its id, its size, its payload.
fn write_section(sink: &mut impl Sink, id: u8, payload: &[u8]) -> Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| Error::shape("a rewritten section exceeds 4 GiB"))?;
    sink.put(&[id])?;
    put_u32(sink, len)?;
    sink.put(payload)
}

/// The payload of an element section of one active segment putting
/// functions `k..k + n` at offset 0 of table `table`.
fn write_elements(table: u32, n: u32, k: u32) -> Result<Grown> {
    // At most 5 bytes an index; n is below the engine's limit on functions.
    let mut out = Grown::new(16 + 5 * n as usize, "the element section")?;
    if table == 0 {
        out.put(&[1, 0x00, 0x41, 0x00, 0x0B])?; // i32.const 0; end
    } else {
        out.put(&[1, 0x02])?;
        put_u32(&mut out, table)?;
        out.put(&[0x41, 0x00, 0x0B, 0x00])?; // offset; funcref
    }
    put_u32(&mut out, n)?;
    for i in 0..n {
        put_u32(&mut out, i + k)?;
    }
    Ok(out)
}

/// The payload of the export section: `f<i>` is function `i + k`. Written
/// without the formatting machinery: this runs once per label at every
/// load.
fn write_exports(n: u32, k: u32) -> Result<Grown> {
    // At most 18 bytes an entry: 12 of name, 1 of kind, 5 of index.
    let mut out = Grown::new(5 + 18 * n as usize, "the export section")?;
    put_u32(&mut out, n)?;
    let mut entry = [0u8; 18];
    for i in 0..n {
        let len = module::export_entry(i, k, &mut entry);
        out.put(&entry[..len])?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_u32_writes_what_wasm_encoder_writes_in_leb_len_bytes() {
        for v in [
            0,
            1,
            0x7F,
            0x80,
            0x3FFF,
            0x4000,
            0x1F_FFFF,
            0x20_0000,
            0xFFF_FFFF,
            0x1000_0000,
            u32::MAX,
        ] {
            let mut ours = Fixed::new(5, "test").unwrap();
            put_u32(&mut ours, v).unwrap();
            let n = ours.len();
            let mut theirs = Vec::new();
            v.encode(&mut theirs);
            assert_eq!(n, leb_len(v), "{v:#x}");
            assert_eq!(
                Fixed::new(n, "test")
                    .map(|mut f| {
                        put_u32(&mut f, v).unwrap();
                        f.finish().unwrap().to_vec()
                    })
                    .unwrap(),
                theirs,
                "{v:#x}"
            );
        }
    }
}
