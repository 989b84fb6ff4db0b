//! Module rewriting: what the runtime changes in a JIT module before the
//! engine sees it. Sections and instructions it does not change are copied
//! byte for byte.
//!
//! 1. **Imports.** The memory import matches the program's memory (shared
//!    only in `-pthread` builds) with a minimum of 0 pages, so instantiation
//!    never fails over limits the module does not rely on.
//!
//! 2. **Tail-linked jumps** ([`Options::tail_calls`]). A jump to label L
//!    (`local.get 1; i32.const L+1; i32.store offset=4; local.get 0;
//!    return`, or the same ending the body) gets, in front of it,
//!
//!    ```text
//!    if jit_state->remaining_reductions != 0
//!       && jit_state->module == <module at function entry>:
//!        jit_state->continuation = 0
//!        return_call f_L(ctx, jit_state, p)
//!    ```
//!
//!    which is exactly what the dispatch loop (spec 6.2) would do next: the
//!    loop calls label L of the same module with continuation 0 unless
//!    reductions are 0 (then the original sequence runs and the loop stops).
//!    Functions that write locals 0-2 are left alone (the loop would see a
//!    different ctx).
//!
//! 3. **Direct primitives** ([`Options::direct_primitives`]). A primitive
//!    call `local.get 2; i32.load offset=N*4; call_indirect (type T)` becomes
//!    `call $p."N:S"`, a function import that the JS side binds at
//!    instantiation to entry N of AtomVM's `module_native_interface`
//!    (`return_call` when it was in tail position; S is T's index among the
//!    standard types). If an entry's type differs from T (a host whose
//!    interface is not AtomVM's), the JS side binds that import through the
//!    trampoline of type S instead, which traps only if it is called, as the
//!    `call_indirect` would have. Other `call_indirect`s (function pointers
//!    computed at run time) become calls of per-thread trampolines `ci.t<S>`
//!    that do the `call_indirect` (see [`trampoline_module`]). The module then
//!    no longer imports the table, which keeps `Table.set`/`grow` as fast with
//!    500 modules loaded as with one (V8 slows them down for every instance
//!    importing the table). A module that uses the table in any other way
//!    keeps its table import and its `call_indirect`s.

use crate::abi;
use crate::error::{Error, Result};
use crate::module::{self, standard_index, standard_types, Shape};
use wasm_encoder::{
    BlockType, Encode, EntityType, ExportKind, ExportSection, ImportSection, InstructionSink,
    MemArg, MemArgTarget, MemoryType, RawSection, RefType, TableType, ValType,
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
    pub wasm: Vec<u8>,
    /// The module imports no table (primitives are imports).
    pub detached: bool,
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

/// One change inside a function body, at module offsets `[start, end)`.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// Insert the `return_call` fast path for a jump to `label` at `start`.
    Jump { at: usize, label: u32 },
    /// Replace `[start, end)` (`local.get 2 .. call_indirect [return]`) with a
    /// call of primitive `index`'s import.
    Primitive {
        start: usize,
        end: usize,
        index: u32,
        ty: u32,
        tail: bool,
    },
    /// Replace the `call_indirect` at `[start, end)` with a trampoline call.
    Computed { start: usize, end: usize, ty: u32 },
    /// Renumber the `call`/`return_call` at `[start, end)`.
    Call {
        start: usize,
        end: usize,
        func: u32,
        tail: bool,
    },
}

impl Edit {
    fn start(&self) -> usize {
        match *self {
            Edit::Jump { at, .. } => at,
            Edit::Primitive { start, .. }
            | Edit::Computed { start, .. }
            | Edit::Call { start, .. } => start,
        }
    }
}

/// What the analysis of one body found.
struct BodyPlan<'a> {
    body: FunctionBody<'a>,
    edits: Vec<Edit>,
    /// Offset of the first instruction (after the locals).
    ops_start: usize,
    /// Number of locals including the 3 parameters.
    num_locals: u32,
    /// Whether a jump fast path is allowed (locals 0-2 never written).
    params_read_only: bool,
}

use module::offset as at;

/// The little the rewriter needs to know of an instruction. Decoding into
/// this instead of wasmparser's full `Operator` keeps the library small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    LocalGet(u32),
    /// `local.set` or `local.tee`.
    LocalWrite(u32),
    I32Const(i32),
    /// `i32.load` from memory 0 at this static offset.
    I32Load(u64),
    /// `i32.store` to memory 0 at this static offset.
    I32Store(u64),
    Return,
    End,
    CallIndirect {
        ty: u32,
        table: u32,
    },
    Call(u32),
    ReturnCall(u32),
    /// Any other use of a table or of function references.
    UsesTable,
    Other,
}

fn memory0(memarg: &wasmparser::MemArg) -> bool {
    memarg.target == wasmparser::MemArgTarget::Memory(0)
}

/// Maps one visited instruction to an [`Op`] (see `for_each_visit_operator`).
macro_rules! op_of {
    (LocalGet $i:ident) => {
        Op::LocalGet($i)
    };
    (LocalSet $i:ident) => {
        Op::LocalWrite($i)
    };
    (LocalTee $i:ident) => {
        Op::LocalWrite($i)
    };
    (I32Const $v:ident) => {
        Op::I32Const($v)
    };
    (I32Load $m:ident) => {
        if memory0(&$m) {
            Op::I32Load($m.offset)
        } else {
            Op::Other
        }
    };
    (I32Store $m:ident) => {
        if memory0(&$m) {
            Op::I32Store($m.offset)
        } else {
            Op::Other
        }
    };
    (Return) => {
        Op::Return
    };
    (End) => {
        Op::End
    };
    (CallIndirect $ty:ident $table:ident) => {
        Op::CallIndirect {
            ty: $ty,
            table: $table,
        }
    };
    (Call $f:ident) => {
        Op::Call($f)
    };
    (ReturnCall $f:ident) => {
        Op::ReturnCall($f)
    };
    (ReturnCallIndirect $($a:ident)*) => {
        Op::UsesTable
    };
    (TableGet $($a:ident)*) => {
        Op::UsesTable
    };
    (TableSet $($a:ident)*) => {
        Op::UsesTable
    };
    (TableSize $($a:ident)*) => {
        Op::UsesTable
    };
    (TableGrow $($a:ident)*) => {
        Op::UsesTable
    };
    (TableFill $($a:ident)*) => {
        Op::UsesTable
    };
    (TableCopy $($a:ident)*) => {
        Op::UsesTable
    };
    (TableInit $($a:ident)*) => {
        Op::UsesTable
    };
    (RefFunc $($a:ident)*) => {
        Op::UsesTable
    };
    (CallRef $($a:ident)*) => {
        Op::UsesTable
    };
    (ReturnCallRef $($a:ident)*) => {
        Op::UsesTable
    };
    ($other:ident $($a:ident)*) => {
        Op::Other
    };
}

macro_rules! define_visit {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $(
            #[allow(unused_variables)]
            fn $visit(&mut self $($(,$arg: $argty)*)?) -> Op {
                op_of!($op $($($arg)*)?)
            }
        )*
    };
}

struct Decoder;

impl<'a> wasmparser::VisitOperator<'a> for Decoder {
    type Output = Op;
    wasmparser::for_each_visit_operator!(define_visit);
}

/// Recognises the sequences of spec section 4 in one body.
fn analyse(body: FunctionBody<'_>, num_functions: u32) -> wasmparser::Result<(BodyPlan<'_>, bool)> {
    let mut locals = body.get_locals_reader()?;
    let mut num_locals: u32 = 3;
    for _ in 0..locals.get_count() {
        let (count, _) = locals.read()?;
        num_locals = num_locals.saturating_add(count);
    }
    let mut ops = body.get_operators_reader()?;
    let ops_start = at(ops.original_position());
    let mut edits = Vec::new();
    let mut params_read_only = true;
    let mut uses_table_otherwise = false;
    // The last five operators with their start offsets, newest last.
    let mut window = [(Op::Other, 0usize); 5];
    while !ops.eof() {
        let offset = at(ops.original_position());
        let op = ops.visit_operator(&mut Decoder)?;
        let end = at(ops.original_position());
        match op {
            Op::LocalWrite(local) if local <= 2 => params_read_only = false,
            Op::Return | Op::End if ops.eof() || op == Op::Return => {
                if let Some((label, start)) = jump_before(&window, num_functions) {
                    edits.push(Edit::Jump { at: start, label });
                }
                if op == Op::Return {
                    // `call_indirect; return` of a primitive: make it a tail call.
                    if let Some(Edit::Primitive { end: e, tail, .. }) = edits.last_mut() {
                        if *e == offset {
                            *e = end;
                            *tail = true;
                        }
                    }
                }
            }
            Op::CallIndirect { ty, table: 0 } => match (window[3], window[4]) {
                ((Op::LocalGet(2), start), (Op::I32Load(offset), _))
                    if offset % 4 == 0 && offset < 4096 =>
                {
                    edits.push(Edit::Primitive {
                        start,
                        end,
                        index: (offset / 4) as u32,
                        ty,
                        tail: false,
                    });
                }
                _ => edits.push(Edit::Computed {
                    start: offset,
                    end,
                    ty,
                }),
            },
            Op::Call(func) => edits.push(Edit::Call {
                start: offset,
                end,
                func,
                tail: false,
            }),
            Op::ReturnCall(func) => edits.push(Edit::Call {
                start: offset,
                end,
                func,
                tail: true,
            }),
            Op::CallIndirect { .. } | Op::UsesTable => uses_table_otherwise = true,
            _ => {}
        }
        window.rotate_left(1);
        window[4] = (op, offset);
    }
    ops.finish()?;
    Ok((
        BodyPlan {
            body,
            edits,
            ops_start,
            num_locals,
            params_read_only,
        },
        uses_table_otherwise,
    ))
}

/// If the last four operators are `local.get 1; i32.const L+1;
/// i32.store offset=4; local.get 0` with L a label, returns L and the offset
/// of the `local.get 1`.
fn jump_before(window: &[(Op, usize); 5], num_functions: u32) -> Option<(u32, usize)> {
    match window {
        [_, (Op::LocalGet(1), start), (Op::I32Const(value), _), (Op::I32Store(abi::JIT_STATE_CONTINUATION), _), (Op::LocalGet(0), _)] =>
        {
            let label = u32::try_from(*value).ok()?.checked_sub(1)?;
            (label < num_functions).then_some((label, *start))
        }
        _ => None,
    }
}

/// Inserts `v` into sorted `list` (a handful of entries: no generic sort).
fn insert_sorted<T: Ord + Copy>(list: &mut Vec<T>, v: T) {
    let at = list.iter().position(|x| *x > v).unwrap_or(list.len());
    list.insert(at, v);
}

/// Rewrites a module that passed [`module::check`] (`shape` is its result).
/// `base` is the module's offset in the stream, for messages.
pub fn rewrite(wasm: &[u8], shape: &Shape, opts: Options, base: usize) -> Result<Rewritten> {
    let bad = |e: wasmparser::BinaryReaderError| Error::module(&e, base);
    let n = shape.num_functions;

    // Pass 1: collect the sections and analyse every body.
    let types = &shape.types;
    let mut type_section: Option<std::ops::Range<usize>> = None;
    let mut uses_table = false;
    let mut plans = Vec::new();
    for payload in module::parser().parse_all(wasm) {
        match payload.map_err(bad)? {
            Payload::TypeSection(reader) => {
                type_section = Some(at(reader.range().start)..at(reader.range().end));
            }
            Payload::CodeSectionEntry(body) => {
                let (plan, other) = analyse(body, n).map_err(bad)?;
                uses_table |= other;
                plans.push(plan);
            }
            _ => {}
        }
    }

    // A primitive in tail position becomes `return_call` only if it returns
    // what the function returns (i32); otherwise keep its `return`.
    for plan in &mut plans {
        for edit in &mut plan.edits {
            if let Edit::Primitive { ty, tail, end, .. } = edit {
                let returns_i32 = types
                    .get(*ty as usize)
                    .is_some_and(|t| t.results == [module::I32]);
                if *tail && !returns_i32 {
                    *tail = false;
                    *end -= 1; // `return` is one byte
                }
            }
        }
    }

    // Decide whether the module can drop its table import.
    let mut primitives: Vec<(u32, u32)> = Vec::new(); // (interface index, type)
    let mut trampolines: Vec<u32> = Vec::new(); // standard type index
                                                // (`module::check` refused element segments, so none can refer to
                                                // function indices the new imports would shift.)
    let mut detached = opts.direct_primitives && !uses_table;
    if detached {
        'plans: for plan in &plans {
            for edit in &plan.edits {
                match *edit {
                    Edit::Primitive { index, ty, .. } => {
                        let standard = types.get(ty as usize).and_then(standard_index);
                        if standard.is_none() {
                            detached = false; // no trampoline to fall back on
                            break 'plans;
                        }
                        match primitives.iter().find(|(i, _)| *i == index) {
                            Some((_, t)) if *t != ty => {
                                detached = false; // one entry called with two types
                                break 'plans;
                            }
                            Some(_) => {}
                            None => insert_sorted(&mut primitives, (index, ty)),
                        }
                    }
                    Edit::Computed { ty, .. } => {
                        let std = types.get(ty as usize).and_then(standard_index);
                        match std {
                            Some(s) if !trampolines.contains(&s) => {
                                insert_sorted(&mut trampolines, s)
                            }
                            Some(_) => {}
                            None => {
                                detached = false;
                                break 'plans;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if !detached {
        primitives.clear();
        trampolines.clear();
    }

    let k = (primitives.len() + trampolines.len()) as u32; // imported functions
    let num_types = types.len() as u32;
    // Trampoline s has type (params of s, i32) -> results of s, appended.
    let trampoline_type =
        |s: u32| num_types + trampolines.iter().position(|t| *t == s).unwrap_or(0) as u32;
    let primitive_func = |index: u32| {
        primitives
            .iter()
            .position(|(i, _)| *i == index)
            .unwrap_or(0) as u32
    };
    let trampoline_func =
        |s: u32| (primitives.len() + trampolines.iter().position(|t| *t == s).unwrap_or(0)) as u32;

    // Pass 2: emit.
    let mut out = wasm_encoder::Module::new();
    let mut stats = Rewritten {
        detached,
        ..Rewritten::default()
    };
    let mut plans = plans.into_iter();
    for payload in module::parser().parse_all(wasm) {
        let payload = payload.map_err(bad)?;
        match &payload {
            Payload::TypeSection(_) if !trampolines.is_empty() => {
                let range = type_section.clone().unwrap_or(0..0);
                let data = extend_types(&wasm[range], &trampolines, base)?;
                out.section(&RawSection { id: 1, data: &data });
            }
            Payload::ImportSection(_) => {
                let mut imports = ImportSection::new();
                imports.import(
                    "env",
                    "memory",
                    EntityType::Memory(memory_import(opts.shared_memory)),
                );
                if detached {
                    for (index, ty) in &primitives {
                        // "N:S": entry N of the interface, of standard type S
                        // (for the JS side's fallback through trampolines).
                        let s = types.get(*ty as usize).and_then(standard_index);
                        let name = format!("{index}:{}", s.unwrap_or(0));
                        imports.import("p", &name, EntityType::Function(*ty));
                    }
                    for s in &trampolines {
                        imports.import(
                            "ci",
                            &format!("t{s}"),
                            EntityType::Function(trampoline_type(*s)),
                        );
                    }
                } else {
                    imports.import(
                        "env",
                        "__indirect_function_table",
                        EntityType::Table(table_import()),
                    );
                }
                out.section(&imports);
            }
            Payload::ExportSection(_) if detached && k > 0 => {
                let mut exports = ExportSection::new();
                for i in 0..n {
                    exports.export(&format!("f{i}"), ExportKind::Func, i + k);
                }
                out.section(&exports);
            }
            Payload::CodeSectionStart { .. } => {
                let mut code = wasm_encoder::CodeSection::new();
                for plan in plans.by_ref() {
                    let body =
                        emit_body(wasm, &plan, k, opts, detached, &mut stats, &|e| match e {
                            Edit::Primitive { index, .. } => primitive_func(index),
                            Edit::Computed { ty, .. } => types
                                .get(ty as usize)
                                .and_then(standard_index)
                                .map_or(0, trampoline_func),
                            _ => 0,
                        })?;
                    code.raw(&body);
                }
                out.section(&code);
            }
            Payload::CustomSection(_) if detached && k > 0 => {} // names would be off by k
            Payload::CodeSectionEntry(_) => {}
            other => {
                if let Some((id, range)) = other.as_section() {
                    let data = wasm.get(at(range.start)..at(range.end)).ok_or_else(|| {
                        Error::stream(format!(
                            "section {id} at module offset {} runs past the module",
                            range.start
                        ))
                    })?;
                    out.section(&RawSection { id, data });
                }
            }
        }
    }
    stats.wasm = out.finish();
    Ok(stats)
}

/// The type section with, appended, the types of the trampolines used: the
/// original entries are copied as they are, after a new count.
fn extend_types(section: &[u8], trampolines: &[u32], base: usize) -> Result<Vec<u8>> {
    let mut reader = wasmparser::BinaryReader::new(section, 0);
    let count = reader.read_var_u32().map_err(|e| Error::module(&e, base))?;
    let entries = &section[reader.current_position()..];
    let mut data = Vec::with_capacity(section.len() + trampolines.len() * 12);
    (count + trampolines.len() as u32).encode(&mut data);
    data.extend_from_slice(entries);
    let standard = standard_types();
    for s in trampolines {
        let sig = &standard[*s as usize];
        data.push(0x60);
        (sig.params.len() as u32 + 1).encode(&mut data);
        data.extend_from_slice(&sig.params);
        data.push(module::I32);
        (sig.results.len() as u32).encode(&mut data);
        data.extend_from_slice(&sig.results);
    }
    Ok(data)
}

/// Encodes one body with its edits applied.
fn emit_body(
    wasm: &[u8],
    plan: &BodyPlan<'_>,
    k: u32,
    opts: Options,
    detached: bool,
    stats: &mut Rewritten,
    import_of: &dyn Fn(Edit) -> u32,
) -> Result<Vec<u8>> {
    let body_range = at(plan.body.range().start)..at(plan.body.range().end);
    let link = opts.tail_calls && plan.params_read_only;
    let active = |e: &Edit| match e {
        Edit::Jump { .. } => link,
        Edit::Call { .. } => detached && k > 0,
        Edit::Primitive { .. } | Edit::Computed { .. } => detached,
    };
    // Edits are recorded in code order (a jump's insertion point precedes the
    // `return` that revealed it, and follows every earlier edit).
    let edits: Vec<Edit> = plan.edits.iter().copied().filter(active).collect();
    if edits.is_empty() {
        return Ok(wasm[body_range].to_vec());
    }
    let has_jumps = edits.iter().any(|e| matches!(e, Edit::Jump { .. }));
    let entry_module = plan.num_locals; // the new local, if jumps are linked
    let mut out = Vec::with_capacity(body_range.len() + edits.len() * 24);
    // Locals: the original declaration, plus one i32 for the entry module.
    let locals = &wasm[body_range.start..plan.ops_start];
    if has_jumps {
        let mut reader = wasmparser::BinaryReader::new(locals, 0);
        let groups = reader.read_var_u32().map_err(|e| Error::module(&e, 0))?;
        (groups + 1).encode(&mut out);
        out.extend_from_slice(&locals[reader.current_position()..]);
        1u32.encode(&mut out);
        ValType::I32.encode(&mut out);
        InstructionSink::new(&mut out)
            .local_get(1)
            .i32_load(mem(abi::JIT_STATE_MODULE))
            .local_set(entry_module);
    } else {
        out.extend_from_slice(locals);
    }
    let mut pos = plan.ops_start;
    for edit in edits {
        let start = edit.start();
        if start < pos {
            continue; // overlaps the previous edit: leave it as it was
        }
        out.extend_from_slice(&wasm[pos..start]);
        let mut sink = InstructionSink::new(&mut out);
        pos = match edit {
            Edit::Jump { label, .. } => {
                stats.linked_jumps += 1;
                sink.local_get(1)
                    .i32_load(mem(abi::JIT_STATE_REDUCTIONS))
                    .i32_const(0)
                    .i32_ne()
                    .local_get(1)
                    .i32_load(mem(abi::JIT_STATE_MODULE))
                    .local_get(entry_module)
                    .i32_eq()
                    .i32_and()
                    .if_(BlockType::Empty)
                    .local_get(1)
                    .i32_const(0)
                    .i32_store(mem(abi::JIT_STATE_CONTINUATION))
                    .local_get(0)
                    .local_get(1)
                    .local_get(2)
                    .return_call(label + k)
                    .end();
                start // the original jump follows, for when the guard fails
            }
            Edit::Primitive { end, tail, .. } => {
                stats.direct_calls += 1;
                let func = import_of(edit);
                match (tail, opts.tail_calls) {
                    (true, true) => sink.return_call(func),
                    (true, false) => sink.call(func).return_(),
                    (false, _) => sink.call(func),
                };
                end
            }
            Edit::Computed { end, .. } => {
                stats.trampolined_calls += 1;
                sink.call(import_of(edit));
                end
            }
            Edit::Call {
                end, func, tail, ..
            } => {
                if tail {
                    sink.return_call(func + k);
                } else {
                    sink.call(func + k);
                }
                end
            }
        };
    }
    out.extend_from_slice(&wasm[pos..body_range.end]);
    Ok(out)
}

/// The per-thread trampoline module: imports the table and exports, for each
/// standard type S of spec section 4, `t<S>`: `(params of S, i32 index) ->
/// results of S`, which does `call_indirect (type S)` on its last argument.
/// Kept as bytes (525 of them, instead of the code that builds them);
/// `testgen::trampoline_module` builds them and a test checks they are equal.
pub const TRAMPOLINES: [u8; 525] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xc2, 0x01, 0x1a, 0x60, 0x01, 0x7f, 0x01,
    0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x04,
    0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60,
    0x06, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x02, 0x7f,
    0x7f, 0x00, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60,
    0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x06, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00,
    0x60, 0x02, 0x7f, 0x7e, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x03, 0x7f, 0x7f,
    0x7f, 0x01, 0x7f, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x05, 0x7f, 0x7f, 0x7f,
    0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x06, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x07,
    0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x00, 0x60, 0x03,
    0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x05, 0x7f, 0x7f, 0x7f,
    0x7f, 0x7f, 0x00, 0x60, 0x06, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x07, 0x7f, 0x7f,
    0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x03, 0x7f, 0x7e, 0x7f, 0x01, 0x7f, 0x02, 0x23, 0x01,
    0x03, 0x65, 0x6e, 0x76, 0x19, 0x5f, 0x5f, 0x69, 0x6e, 0x64, 0x69, 0x72, 0x65, 0x63, 0x74, 0x5f,
    0x66, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x5f, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x01, 0x70,
    0x00, 0x00, 0x03, 0x0e, 0x0d, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x18, 0x19, 0x07, 0x45, 0x0d, 0x02, 0x74, 0x30, 0x00, 0x00, 0x02, 0x74, 0x31, 0x00, 0x01, 0x02,
    0x74, 0x32, 0x00, 0x02, 0x02, 0x74, 0x33, 0x00, 0x03, 0x02, 0x74, 0x34, 0x00, 0x04, 0x02, 0x74,
    0x35, 0x00, 0x05, 0x02, 0x74, 0x36, 0x00, 0x06, 0x02, 0x74, 0x37, 0x00, 0x07, 0x02, 0x74, 0x38,
    0x00, 0x08, 0x02, 0x74, 0x39, 0x00, 0x09, 0x03, 0x74, 0x31, 0x30, 0x00, 0x0a, 0x03, 0x74, 0x31,
    0x31, 0x00, 0x0b, 0x03, 0x74, 0x31, 0x32, 0x00, 0x0c, 0x0a, 0xc1, 0x01, 0x0d, 0x09, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x11, 0x00, 0x00, 0x0b, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x11,
    0x01, 0x00, 0x0b, 0x0d, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x11, 0x02, 0x00,
    0x0b, 0x0f, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x20, 0x04, 0x11, 0x03, 0x00,
    0x0b, 0x11, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x20, 0x04, 0x20, 0x05, 0x11,
    0x04, 0x00, 0x0b, 0x13, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x20, 0x04, 0x20,
    0x05, 0x20, 0x06, 0x11, 0x05, 0x00, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x11, 0x06, 0x00,
    0x0b, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x11, 0x07, 0x00, 0x0b, 0x0d, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x11, 0x08, 0x00, 0x0b, 0x0f, 0x00, 0x20, 0x00, 0x20,
    0x01, 0x20, 0x02, 0x20, 0x03, 0x20, 0x04, 0x11, 0x09, 0x00, 0x0b, 0x11, 0x00, 0x20, 0x00, 0x20,
    0x01, 0x20, 0x02, 0x20, 0x03, 0x20, 0x04, 0x20, 0x05, 0x11, 0x0a, 0x00, 0x0b, 0x13, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x20, 0x04, 0x20, 0x05, 0x20, 0x06, 0x11, 0x0b, 0x00,
    0x0b, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x11, 0x0c, 0x00, 0x0b,
];
