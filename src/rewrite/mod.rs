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
//!
//! A rewrite is decided per function, and per module, from what the
//! analysis proves; where it cannot prove the rewrite exact, or where the
//! result would exceed an engine limit ([`crate::limits`]), the function (or
//! the module) is left as it was. The module must have been validated
//! first: the rewriter relies on it being well formed and never decides
//! whether a module is refused.
//!
//! Memory. [`rewrite`] plans first: one analysis pass over every body, then
//! the exact size of every rewritten body (run through the same code that
//! writes it, into a [`Counter`]). Only then does it reserve the output,
//! exactly, and write it; nothing on the way grows with the input except
//! through [`crate::memory`].

pub mod analysis;
mod jumps;
mod primitives;
mod trampolines;

pub use primitives::INTERFACE_ENTRIES;
pub use trampolines::TRAMPOLINES;

use crate::error::{Error, Result};
use crate::limits;
use crate::memory::{self, Counter, Fixed, Sink};
use crate::module::{self, Shape};
use analysis::{BodyFacts, Site};
use memory::BitSet;
use primitives::{Binding, PrimitiveFacts};
use wasm_encoder::{
    Encode, EntityType, ImportSection, MemArg, MemArgTarget, MemoryType, RefType, TableType,
};
use wasmparser::{FunctionBody, Payload};

/// How to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Whether the program's memory is shared (a `-pthread` build).
    pub shared_memory: bool,
    /// Link jumps with `return_call` (the engine supports tail calls).
    pub tail_calls: bool,
    /// Bind primitives as imports and drop the table import when possible.
    pub direct_primitives: bool,
}

impl Options {
    /// Only the import adaptation: the module as generated otherwise.
    pub const fn plain(shared_memory: bool) -> Options {
        Options {
            shared_memory,
            tail_calls: false,
            direct_primitives: false,
        }
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
    /// Primitive calls turned into calls of imports.
    pub direct_calls: u32,
    /// Computed `call_indirect`s sent through trampolines.
    pub trampolined_calls: u32,
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

const fn mem(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 2,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

use module::offset as at;

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
    /// It never writes locals 0-2.
    pub params_read_only: bool,
    /// It writes local 2 (the native interface).
    pub writes_p: bool,
    /// One more local keeps it within the engine's limit.
    pub locals_room: bool,
}

impl FnFacts {
    fn of(facts: &BodyFacts) -> FnFacts {
        FnFacts {
            entered_by_loop: true, // set from the call targets when read back
            has_jumps: facts.has_jumps,
            params_read_only: facts.params_written == 0,
            writes_p: facts.writes_param(2),
            locals_room: facts.num_locals < limits::MAX_FUNCTION_LOCALS,
        }
    }

    fn to_byte(self) -> u8 {
        u8::from(self.has_jumps)
            | u8::from(self.params_read_only) << 1
            | u8::from(self.writes_p) << 2
            | u8::from(self.locals_room) << 3
    }

    fn from_byte(b: u8, entered_by_loop: bool) -> FnFacts {
        FnFacts {
            entered_by_loop,
            has_jumps: b & 1 != 0,
            params_read_only: b & 2 != 0,
            writes_p: b & 4 != 0,
            locals_room: b & 8 != 0,
        }
    }
}

/// Top bit of a planned body size: the function's jumps are linked.
const LINKED: u32 = 1 << 31;

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
    /// Per function: the rewritten body's size, with [`LINKED`].
    bodies: Vec<u32>,
    /// Per function: [`FnFacts`] as bytes.
    flags: Vec<u8>,
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
}

fn bodies<'a>(wasm: &'a [u8], base: usize) -> impl Iterator<Item = Result<FunctionBody<'a>>> {
    module::parser()
        .parse_all(wasm)
        .filter_map(move |p| match p {
            Ok(Payload::CodeSectionEntry(body)) => Some(Ok(body)),
            Ok(_) => None,
            Err(e) => Some(Err(Error::module(&e, base))),
        })
}

/// Rewrites a module that passed [`module::check`] (`shape` is its result)
/// and validated. `base` is the module's offset in the stream, for messages.
pub fn rewrite(wasm: &[u8], shape: &Shape<'_>, opts: Options, base: usize) -> Result<Rewritten> {
    let plan = plan(wasm, shape, opts, base)?;
    let size = module_size(&plan)?;
    let plan = if size > limits::MAX_MODULE_SIZE && (plan.binding.detached || opts.tail_calls) {
        // Too large for the engine once rewritten: only adapt the imports.
        self::plan(wasm, shape, Options::plain(opts.shared_memory), base)?
    } else {
        plan
    };
    let size = module_size(&plan)?;
    let mut out = Fixed::new(size, "the rewritten module")?;
    let mut stats = Rewritten {
        detached: plan.binding.detached,
        ..Rewritten::default()
    };
    write_module(&mut out, &plan, Some(&mut stats))?;
    stats.wasm = out.finish()?;
    Ok(stats)
}

/// The analysis pass, the decisions, and the size of every body.
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
        bodies: memory::try_vec(n as usize, "the body sizes")?,
        flags: memory::try_vec(n as usize, "the function facts")?,
    };
    for body in bodies(wasm, base) {
        let body = body?;
        let facts = analysis::scan(&body, n, base, |site| {
            plan.prims.observe(&site);
            if let Site::Call { func, .. } = site {
                plan.called.insert(func);
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
    }
    plan.binding = plan
        .prims
        .binding(opts.direct_primitives, shape.types.len());
    if !size_bodies(&mut plan)? {
        // A body would exceed the engine's limit with renumbered calls
        // alone: keep the module's table and calls.
        plan.binding = Binding::none();
        if !size_bodies(&mut plan)? {
            return Err(Error::shape(
                "a function body exceeds the engine's size limit",
            ));
        }
    }
    Ok(plan)
}

/// Sizes every body under the plan's binding, deciding per function whether
/// its jumps are linked. False if a body exceeds the engine's limit even
/// unlinked.
fn size_bodies(plan: &mut Plan<'_>) -> Result<bool> {
    plan.bodies.clear();
    for (f, body) in bodies(plan.wasm, plan.base).enumerate() {
        let body = body?;
        let f = f as u32;
        let mut link = plan.opts.tail_calls && jumps::may_link(&plan.facts(f));
        let mut size = body_size(plan, &body, f, link)?;
        if link && size > limits::MAX_FUNCTION_SIZE {
            link = false;
            size = body_size(plan, &body, f, false)?;
        }
        if size > limits::MAX_FUNCTION_SIZE {
            return Ok(false);
        }
        plan.bodies
            .push(size as u32 | if link { LINKED } else { 0 });
    }
    Ok(true)
}

fn body_size(plan: &Plan<'_>, body: &FunctionBody<'_>, f: u32, link: bool) -> Result<usize> {
    let mut counter = Counter::default();
    write_body(&mut counter, plan, body, f, link, None)?;
    Ok(counter.0)
}

/// Writes `bytes` of the original module.
fn copy(sink: &mut impl Sink, wasm: &[u8], range: std::ops::Range<usize>) -> Result<()> {
    let bytes = wasm
        .get(range.clone())
        .ok_or_else(|| Error::shape(format!("bytes {range:?} run past the module")))?;
    sink.put(bytes)
}

fn put_u32(sink: &mut impl Sink, v: u32) -> Result<()> {
    let mut b = Vec::with_capacity(5);
    v.encode(&mut b);
    sink.put(&b)
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
    mut stats: Option<&mut Rewritten>,
) -> Result<()> {
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
    let mut scratch: Vec<u8> = Vec::with_capacity(64);
    if link {
        // The groups, one more: the entry module, at index num_locals.
        let first_group = start + leb_len(groups);
        put_u32(sink, groups + 1)?;
        copy(sink, wasm, first_group..ops_start)?;
        put_u32(sink, 1)?;
        wasm_encoder::ValType::I32.encode(&mut scratch);
        jumps::entry(&mut scratch, num_locals);
        sink.put(&scratch)?;
    } else {
        copy(sink, wasm, start..ops_start)?;
    }
    let k = plan.k();
    let facts = plan.facts(f);
    let p_is_interface = facts.entered_by_loop && !facts.writes_p;
    let tail_calls = plan.opts.tail_calls;
    let mut pos = ops_start;
    let scanned = analysis::scan(body, plan.num_functions, plan.base, |site| {
        scratch.clear();
        let (from, to) = match site {
            Site::Jump { at, label } if link => {
                jumps::fast_path(&mut scratch, label + k, num_locals);
                if let Some(s) = stats.as_deref_mut() {
                    s.linked_jumps += 1;
                }
                (at, at) // inserted; the original jump follows
            }
            Site::Call {
                start,
                end,
                func,
                tail,
            } if plan.renumber() => {
                let mut ins = wasm_encoder::InstructionSink::new(&mut scratch);
                if tail {
                    ins.return_call(func + k);
                } else {
                    ins.call(func + k);
                }
                (start, end)
            }
            Site::Primitive { .. } | Site::Computed { .. } => {
                let Some(r) =
                    plan.binding
                        .replacement(&plan.prims, &site, p_is_interface, tail_calls)
                else {
                    return Ok(());
                };
                let mut ins = wasm_encoder::InstructionSink::new(&mut scratch);
                if r.tail {
                    ins.return_call(r.func);
                } else {
                    ins.call(r.func);
                }
                if let Some(s) = stats.as_deref_mut() {
                    if r.direct {
                        s.direct_calls += 1;
                    } else {
                        s.trampolined_calls += 1;
                    }
                }
                (r.from, r.to)
            }
            _ => return Ok(()),
        };
        if from < pos {
            return Err(Error::shape("internal error: rewrite sites overlap"));
        }
        copy(sink, wasm, pos..from)?;
        sink.put(&scratch)?;
        pos = to;
        Ok(())
    })?;
    copy(sink, wasm, pos..scanned.end)?;
    if link {
        if let Some(s) = stats {
            s.linked_functions += 1;
        }
    }
    Ok(())
}

/// The size of the rewritten module.
fn module_size(plan: &Plan<'_>) -> Result<usize> {
    let mut counter = Counter::default();
    write_module(&mut counter, plan, None)?;
    Ok(counter.0)
}

/// Writes the rewritten module. With `stats` (the real write) it writes
/// every body; without (sizing into a [`Counter`]) it counts the bodies'
/// planned sizes instead of rewriting them again.
fn write_module<S: Sink>(
    sink: &mut S,
    plan: &Plan<'_>,
    mut stats: Option<&mut Rewritten>,
) -> Result<()> {
    let wasm = plan.wasm;
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, plan.base);
    let k = plan.k();
    sink.put(&wasm[..8])?;
    let mut f = 0u32;
    for payload in module::parser().parse_all(wasm) {
        let payload = payload.map_err(bad)?;
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
            Payload::ImportSection(_) => {
                let mut imports = ImportSection::new();
                imports.import(
                    "env",
                    "memory",
                    EntityType::Memory(memory_import(plan.opts.shared_memory)),
                );
                if plan.binding.detached {
                    plan.binding.imports(&plan.prims, &mut imports);
                } else {
                    imports.import(
                        "env",
                        "__indirect_function_table",
                        EntityType::Table(table_import()),
                    );
                }
                // Encoding a section writes its size, then its payload.
                let mut sized = vec![2];
                imports.encode(&mut sized);
                sink.put(&sized)?;
            }
            Payload::ExportSection(_) if plan.renumber() => {
                let n = plan.num_functions;
                let mut len = Counter::default();
                write_exports(&mut len, n, k)?;
                sink.put(&[7])?;
                put_u32(sink, len.0 as u32)?;
                write_exports(sink, n, k)?;
            }
            Payload::CodeSectionStart { count, .. } => {
                let mut len = leb_len(*count);
                for size in &plan.bodies {
                    let size = (size & !LINKED) as usize;
                    len += leb_len(size as u32) + size;
                }
                sink.put(&[10])?;
                put_u32(sink, len as u32)?;
                put_u32(sink, *count)?;
                if stats.is_none() {
                    // Sizing: the bodies' sizes are planned; do not rewrite them again.
                    sink.put_len(len - leb_len(*count))?;
                }
            }
            Payload::CodeSectionEntry(body) => {
                if let Some(stats) = stats.as_deref_mut() {
                    let planned = plan.bodies.get(f as usize).copied().unwrap_or(0);
                    let size = planned & !LINKED;
                    put_u32(sink, size)?;
                    write_body(sink, plan, body, f, planned & LINKED != 0, Some(stats))?;
                }
                f += 1;
            }
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
    Ok(())
}

/// The export section's payload: `f<i>` is function `i + k`.
fn write_exports(sink: &mut impl Sink, n: u32, k: u32) -> Result<()> {
    put_u32(sink, n)?;
    let mut entry = Vec::with_capacity(24);
    for i in 0..n {
        entry.clear();
        let name = format!("f{i}");
        name.as_str().encode(&mut entry);
        entry.push(0x00); // function
        (i + k).encode(&mut entry);
        sink.put(&entry)?;
    }
    Ok(())
}
